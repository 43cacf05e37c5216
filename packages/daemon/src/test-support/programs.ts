/**
 * Runs `ca-sharkd` and `ca-shark` from their TypeScript sources as child processes (tsx, workspace packages
 * through their `source` export condition), to compare what the two programs print and how they exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Entry of `ca-sharkd`. */
export const DAEMON_MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
/** Entry of `ca-shark`. */
export const CLI_MAIN = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `ca-sharkd ARGS` from its sources reading descriptor `stdin` (a FIFO's, as a shell pipe gives it),
 * stdout ignored and stderr piped; the caller may close its own copy of `stdin` once this returns.
 */
export function spawnDaemonReading(stdin: number, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', DAEMON_MAIN, ...args], {
    cwd: PACKAGE_DIR,
    stdio: [stdin, 'ignore', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
}

/** How a program ended. `stdout` is kept only when not counting lines. */
export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Lines written to stdout. */
  lines: number;
}

/** Options of {@link runProgram}. */
export interface RunProgramOptions {
  /** A file piped to the program's stdin (through a real pipe); default: no stdin. */
  stdinFile?: string;
  /** Count stdout lines instead of keeping the text (large outputs). */
  countOnly?: boolean;
  timeoutMs?: number;
  /** Run as this user id and group id (the test must be root). */
  user?: { uid: number; gid: number };
}

/** Runs `main` with `args` and resolves once it exits. */
export function runProgram(main: string, args: string[], options: RunProgramOptions = {}): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], {
      cwd: PACKAGE_DIR,
      stdio: [options.stdinFile !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      ...options.user,
    });
    if (options.stdinFile !== undefined && child.stdin !== null) {
      const input = createReadStream(options.stdinFile);
      // The program may exit before reading everything (it refused the input): not an error here.
      child.stdin.on('error', () => undefined);
      input.pipe(child.stdin);
    }
    let stdout = '';
    let stderr = '';
    let lines = 0;
    child.stdout?.on('data', (d: Buffer) => {
      for (let i = d.indexOf(0x0a); i >= 0; i = d.indexOf(0x0a, i + 1)) lines += 1;
      if (options.countOnly !== true) stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines });
    });
  });
}

/**
 * Runs a shell `line` in which `ca_sharkd` is the daemon from its sources (a shell function) and "$1", "$2"...
 * are `files`: for a stdin that is a shell's pipe (a FIFO) or a redirection, as a user's is (node's own child
 * pipes are sockets). Resolves with the exit status and what was written to stderr.
 */
export function runDaemonShell(line: string, files: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = `ca_sharkd() { "$CA_SHARKD_NODE" --conditions=source --import tsx "$CA_SHARKD_MAIN" "$@"; }\n${line}`;
    const child = spawn('sh', ['-c', script, 'sh', ...files], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1', CA_SHARKD_NODE: process.execPath, CA_SHARKD_MAIN: DAEMON_MAIN },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** The lines a program wrote to stderr under its own name (`ca-shark: ...`), without the name. */
export function errorLines(stderr: string, program: 'ca-shark' | 'ca-sharkd'): string[] {
  const prefix = `${program}: `;
  return stderr
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}
