/**
 * Runs one benchmarked command under GNU time (`/usr/bin/time`), in its own process group, with a time
 * limit, and returns its wall and CPU time, peak RSS and output. Pipelines (`cat FILE | daemon`,
 * `ca-shark --json FILE | wc -l`) run in bash; only the measured command is under `time`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** GNU time's binary (Debian package `time`); bash's `time` keyword reports no peak RSS. */
export const GNU_TIME = '/usr/bin/time';
/** GNU time format: elapsed s, user s, system s, peak RSS in KiB. */
const TIME_FORMAT = '%e %U %S %M';
/** How long a timed-out process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5000;

/** Read size of {@link readThrough}. */
const READ_THROUGH_CHUNK = 1 << 20;

/**
 * Reads `file` from end to end and returns how many bytes it held, so that the next measured command finds it
 * in the page cache. Each row reads its capture first: a kernel that pages out idle memory (a DAMON
 * `pageout` scheme, as on this project's 2-core VMs) drops a capture not read for a few minutes, and a row
 * would then time the disk (`cat` of the 1 GB capture: 4.8 s against 0.16 s warm).
 */
export async function readThrough(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const chunk = new Uint8Array(READ_THROUGH_CHUNK);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return total;
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** What one measured command cost. */
export interface Measurement {
  wallS: number;
  cpuS: number;
  /** Peak resident set size of the measured process, in MiB. */
  rssMb: number;
  /** Exit status of the pipeline (the last command's, or the first failing one's: pipefail). */
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** One command line to measure, optionally fed from a file by `cat` and/or counted by `wc -l`. */
export interface TimedCommand {
  argv: readonly string[];
  /** Feed this file to the command's stdin through `cat FILE |` (a pipe, not a file descriptor). */
  catFile?: string;
  /** Pipe stdout into `wc -l`; the count is the measurement's stdout. Otherwise stdout goes to `stdoutTo`. */
  countLines?: boolean;
  /** Where stdout goes when lines are not counted: 'capture' (returned) or '/dev/null' (default). */
  stdoutTo?: 'capture' | '/dev/null';
  timeoutMs: number;
  cwd?: string;
}

/**
 * Environment variables the measured commands run without. `NODE_EXTRA_CA_CERTS` makes every node process
 * read and parse that certificate bundle as it starts (about 60 ms here, where the sandbox points it at the
 * system's 140-certificate bundle): a cost of the machine's setup, not of ca-shark, which makes no TLS
 * connection in these runs. The installed `ca-shark` bin drops it in its shebang already.
 */
export const UNMEASURED_ENV = ['NODE_EXTRA_CA_CERTS'] as const;

/** `env` without {@link UNMEASURED_ENV}. */
export function measuredEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of UNMEASURED_ENV) delete out[name];
  return out;
}

/** Quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Parses GNU time's output written with {@link TIME_FORMAT}: the last line holds the figures. */
export function parseGnuTime(text: string): { wallS: number; cpuS: number; rssMb: number } | undefined {
  const lines = text.trim().split('\n');
  const fields = (lines.at(-1) ?? '').trim().split(/\s+/).map(Number);
  if (fields.length !== 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [wall, user, sys, rssKb] = fields as [number, number, number, number];
  return { wallS: wall, cpuS: user + sys, rssMb: rssKb / 1024 };
}

/** Builds the bash pipeline of a {@link TimedCommand}, writing GNU time's figures to `timeFile`. */
export function pipeline(command: TimedCommand, timeFile: string): string {
  const timed = [GNU_TIME, '-o', timeFile, '-f', TIME_FORMAT, ...command.argv].map(shellQuote).join(' ');
  const feed = command.catFile === undefined ? '' : `cat ${shellQuote(command.catFile)} | `;
  const sink = command.countLines ? ' | wc -l' : command.stdoutTo === 'capture' ? '' : ' > /dev/null';
  return `set -o pipefail; ${feed}${timed}${sink}`;
}

/** Process groups still running, killed if the bench itself is interrupted. */
const running = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Registers a process group (a detached child's pid) for {@link killAll}; returns its release. */
export function trackGroup(pid: number | undefined): () => void {
  if (pid === undefined) return () => undefined;
  running.add(pid);
  return () => running.delete(pid);
}

/**
 * Stops every process group still running (on SIGINT/SIGTERM of the bench). SIGTERM, so that
 * make-capture.sh's exit trap and the daemon's shutdown still run.
 */
export function killAll(): void {
  for (const pid of running) killGroup(pid, 'SIGTERM');
  running.clear();
}

/** Runs a command and measures it; never rejects for a failing or timed-out command. */
export async function measure(command: TimedCommand): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'ca-shark-bench-time-'));
  const timeFile = join(dir, 'time');
  try {
    const child = spawn('bash', ['-c', pipeline(command, timeFile)], {
      cwd: command.cwd,
      env: measuredEnv(process.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const release = trackGroup(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      killer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    }, command.timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (code) => resolve(code));
    });
    clearTimeout(timer);
    if (killer) clearTimeout(killer);
    release();
    let figures: ReturnType<typeof parseGnuTime>;
    try {
      figures = parseGnuTime(readFileSync(timeFile, 'utf8'));
    } catch {
      figures = undefined;
    }
    return {
      wallS: figures?.wallS ?? NaN,
      cpuS: figures?.cpuS ?? NaN,
      rssMb: figures?.rssMb ?? NaN,
      exitCode,
      timedOut,
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Record, malformed and drop counts the daemon logs at exit (its "capture summary" line). */
export interface DaemonSummary {
  messages: number;
  malformed: number;
  /** Frames the daemon's decoder dropped because it fell behind. */
  decoderDropped: number;
  /** Frames libpcap dropped (live capture only). */
  captureDropped: number;
}

/**
 * Finds the daemon's exit summary in its stderr: the pino line `{"msg":"capture summary",...}` (the
 * last one wins). Undefined when the daemon did not get that far.
 */
export function parseDaemonSummary(stderr: string): DaemonSummary | undefined {
  let found: DaemonSummary | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.includes('"capture summary"')) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    if (e.msg !== 'capture summary' || typeof e.messages !== 'number') continue;
    const capture = (typeof e.capture === 'object' && e.capture !== null ? e.capture : {}) as Record<string, unknown>;
    found = {
      messages: e.messages,
      malformed: typeof e.malformed === 'number' ? e.malformed : 0,
      decoderDropped: typeof e.decoderDropped === 'number' ? e.decoderDropped : 0,
      captureDropped: typeof capture.dropped === 'number' ? capture.dropped : 0,
    };
  }
  return found;
}
