/**
 * Running the BUILT `ca-shark` (dist/main.js, what users run) as a subprocess in tests. Test files call
 * {@link ensureBuilt} in `beforeAll`.
 */
import { spawn, execFileSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const WORKSPACE_DIR = fileURLToPath(new URL('../../../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../../packet/fixtures/', import.meta.url));
export const SCHEMA = fileURLToPath(new URL('../../schema/record.schema.json', import.meta.url));

const LOCK = join(tmpdir(), 'ca-shark-cli-test-build.lock');
/** A lock older than this is left over from a killed run. */
const STALE_LOCK_MS = 5 * 60 * 1000;
let built: Promise<void> | undefined;

/**
 * Build the cli package and the packages it uses (`tsc -b`, incremental: a no-op when dist is current),
 * then the bin's bundle (about 0.3 s), before the first subprocess of this test file. Test files run in
 * parallel workers, so a lock directory makes them build one after the other instead of writing the same
 * dist files at once.
 */
export function ensureBuilt(): Promise<void> {
  // Set by global-setup.ts when a globalSetup already built everything in this run.
  if (process.env['CA_SHARK_CLI_BUILT'] === '1') return Promise.resolve();
  built ??= buildLocked();
  return built;
}

async function buildLocked(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // The holder removed it meanwhile.
      }
      await sleep(100);
    }
  }
  try {
    execFileSync(
      process.execPath,
      [join(WORKSPACE_DIR, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli/tsconfig.json'],
      {
        cwd: WORKSPACE_DIR,
        stdio: 'pipe',
      },
    );
    // The bin is a bundle of the sources (scripts/bundle.mjs) written over tsc's dist/main.js: made again
    // each time, or the tests would run the bundle of an earlier build.
    execFileSync(process.execPath, [join(PACKAGE_DIR, 'scripts/bundle.mjs')], { cwd: PACKAGE_DIR, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building the cli for the end-to-end tests failed:\n${out}`, { cause: e });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** What a finished run gave. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Bytes for stdin (closed after them); stdin is empty otherwise. */
  input?: Uint8Array;
  env?: NodeJS.ProcessEnv;
}

/** Environment without colour settings, so that tests see plain pipe output unless they ask. */
export function plainEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('NO_COLOR' in extra)) delete env['NO_COLOR'];
  if (!('FORCE_COLOR' in extra)) delete env['FORCE_COLOR'];
  return env;
}

/** Start the built CLI. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = plainEnv()): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [MAIN, ...args], { cwd: PACKAGE_DIR, env });
}

/** Run the built CLI to completion with descriptor `stdin` (a file, a FIFO, ...) as its standard input. */
export function runCliWithStdin(
  stdin: number,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = plainEnv(),
): Promise<CliResult> {
  return finished(spawn(process.execPath, [MAIN, ...args], { cwd: PACKAGE_DIR, env, stdio: [stdin, 'pipe', 'pipe'] }));
}

/** Run the built CLI to completion. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const child = startCli(args, options.env ?? plainEnv());
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? new Uint8Array(0));
  return finished(child);
}

/** Collects a child's output until it closes (its stdout and stderr as text). */
export function finished(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** Path of a fixture capture. */
export function fixture(name: string): string {
  return FIXTURES + name;
}

/** Output lines (without the final empty one). */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}
