#!/usr/bin/env node
/**
 * The realistic-traffic benchmark (`pnpm bench` at the root, or `pnpm --filter @ca-shark/bench bench`):
 * records (or reuses cached) simulator captures on `lo` with `tcpdump -s 0`, then times this tree's
 * built `shark()`, `ca-shark` (text, --json, stats, report) and `ca-sharkd` (file and stdin ingest) on
 * them, and prints msgs/s, MB/s, CPU seconds and peak RSS; with two sizes of one mix, also the steady-state
 * rates between them. Environment:
 *   CA_SHARK_BENCH_MB=100        size of the realistic capture (MB)
 *   CA_SHARK_BENCH_1G=1          also a 1 GB realistic capture (RSS flatness; recording takes ~7 min)
 *   CA_SHARK_BENCH_CAPTURE=F[:G] decode these captures instead of recording (standard CA ports)
 *   CA_SHARK_BENCH_DIR=DIR       capture cache (default $TMPDIR/ca-shark-bench)
 *   CA_SHARK_BENCH_TOOLS=LIST    rows to run (default all): read,shark,shark-thread,text,json,stats,report,
 *                                daemon-r,daemon-stdin,caproto,tshark
 *   CA_SHARK_BENCH_CALUA=FILE    cashark's ca.lua, for the Wireshark row (skipped without it)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCapture, frameCensus, givenCapture, OLD_SNAPLEN } from './captures.js';
import type { Capture, CaptureSpec } from './captures.js';
import { GNU_TIME, killAll, measure, parseDaemonSummary, readThrough, UNMEASURED_ENV } from './measure.js';
import type { Measurement, TimedCommand } from './measure.js';
import { renderSteadyTable, renderTable, thousands } from './table.js';
import type { Row, RowPair, Target } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
// Run as the installed bin is: its shebang sets the malloc tunables (see cli/scripts/bin.mjs).
const CLI = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const DAEMON = join(ROOT, 'packages', 'daemon', 'dist', 'main.js');
const ITERATE = join(HERE, 'iterate.js');
const MB = 1048576;
/** Every run gets this long plus {@link RUN_SECONDS_PER_MB} per MB of capture before it is killed. */
const RUN_BASE_SECONDS = 60;
const RUN_SECONDS_PER_MB = 1.5;
/** Recording runs at ~2.5 MB/s; this leaves room for a loaded machine. */
const RECORD_BASE_SECONDS = 120;
const RECORD_SECONDS_PER_MB = 1.5;
const ALL_TOOLS = [
  'read',
  'shark',
  'shark-thread',
  'text',
  'json',
  'stats',
  'report',
  'daemon-r',
  'daemon-stdin',
  'caproto',
  'tshark',
] as const;
type Tool = (typeof ALL_TOOLS)[number];

/**
 * Issue 11's targets on a 2-core machine (realistic mix, warm cache), checked against wall-time rates.
 * The RSS limit applies to a ~100 MB capture; on larger ones the rows show growth instead.
 */
const TARGETS: Partial<Record<Tool, Target>> = {
  shark: { rate: 1_000_000, maxRssMb: 150 },
  text: { rate: 500_000, maxRssMb: 150 },
  json: { rate: 300_000, maxRssMb: 150 },
  stats: { rate: 700_000, maxRssMb: 150 },
  report: { rate: 700_000, maxRssMb: 150 },
};
/** Captures up to this size are held to the targets' RSS limit. */
const RSS_TARGET_MAX_MB = 128;
/**
 * ca-shark's exit status for input it decoded to the end but found damaged (docs/cli.md, "Exit status"):
 * a recorded capture can end in the middle of a message, and that run still did all its work.
 */
const CLI_EXIT_DAMAGED = 3;
/** A steady-state figure needs the larger capture to hold at least this many times the smaller one's bytes. */
const STEADY_MIN_SIZE_RATIO = 4;

const env = process.env;
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function tools(): Set<Tool> {
  const given = env.CA_SHARK_BENCH_TOOLS;
  if (given === undefined || given.trim() === '') return new Set(ALL_TOOLS);
  const out = new Set<Tool>();
  for (const t of given.split(',').map((s) => s.trim())) {
    if (!(ALL_TOOLS as readonly string[]).includes(t))
      throw new Error(`CA_SHARK_BENCH_TOOLS: unknown row "${t}" (one of ${ALL_TOOLS.join(', ')})`);
    out.add(t as Tool);
  }
  return out;
}

function onPath(command: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function gitRevision(): string {
  const r = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** The captures to decode: given ones, or the recorded (cached) realistic and jumbo mixes. */
async function captures(): Promise<Capture[]> {
  const given = env.CA_SHARK_BENCH_CAPTURE;
  if (given !== undefined && given !== '') {
    // Relative to where the user ran `pnpm bench` (pnpm runs the script in this package's directory).
    const base = env.INIT_CWD ?? process.cwd();
    return given
      .split(':')
      .filter(Boolean)
      .map((f) => givenCapture(resolve(base, f)));
  }
  const sizeMb = Number(env.CA_SHARK_BENCH_MB ?? 100);
  if (!(sizeMb > 0)) throw new Error(`CA_SHARK_BENCH_MB must be a positive number, got "${env.CA_SHARK_BENCH_MB}"`);
  const specs: CaptureSpec[] = [
    { mix: 'realistic', sizeMb },
    { mix: 'jumbo', sizeMb: Math.max(10, Math.round(sizeMb / 2)) },
  ];
  if (env.CA_SHARK_BENCH_1G === '1') specs.push({ mix: 'realistic', sizeMb: 1024 });
  const cacheDir = env.CA_SHARK_BENCH_DIR ?? join(tmpdir(), 'ca-shark-bench');
  const out: Capture[] = [];
  for (const spec of specs) {
    const timeoutMs = (RECORD_BASE_SECONDS + RECORD_SECONDS_PER_MB * spec.sizeMb) * 1000;
    out.push(await ensureCapture(spec, { root: ROOT, cacheDir, timeoutMs, log }));
  }
  return out;
}

/** Options that tell our tools about non-standard CA ports. */
function portArgs(capture: Capture, tool: 'cli' | 'daemon'): string[] {
  const { serverPort, repeaterPort } = capture.ports;
  if (serverPort === 5064 && repeaterPort === 5065) return [];
  return tool === 'cli' ? ['--ports', String(serverPort)] : ['--ports', `${serverPort},${repeaterPort}`];
}

function lineCount(m: Measurement): number {
  const n = Number(m.stdout.trim());
  return Number.isFinite(n) ? n : NaN;
}

/** Runs every selected row on one capture, prints its table and returns its rows. */
async function benchCapture(capture: Capture, selected: Set<Tool>): Promise<Row[]> {
  const census = frameCensus(capture.file);
  const timeoutMs = (RUN_BASE_SECONDS + (RUN_SECONDS_PER_MB * capture.bytes) / MB) * 1000;
  // Each row finds the capture in the page cache (see readThrough).
  const run = async (command: Omit<TimedCommand, 'timeoutMs'>): Promise<Measurement> => {
    await readThrough(capture.file);
    return measure({ timeoutMs, ...command });
  };
  const rows: Row[] = [];
  const file = capture.file;
  const bytes = capture.bytes;
  const targetOf = (key: Tool | undefined): Target | undefined => {
    // The jumbo mix holds a few hundred huge messages: message-rate targets mean nothing there.
    const t = key === undefined || capture.mix === 'jumbo' ? undefined : TARGETS[key];
    if (t === undefined || bytes / MB <= RSS_TARGET_MAX_MB) return t;
    return { rate: t.rate };
  };
  const row = (
    tool: string,
    measurement: Measurement,
    units: number,
    note = '',
    unitName: Row['unitName'] = 'msgs',
    key?: Tool,
  ): void => {
    const cli = key === 'text' || key === 'json' || key === 'stats' || key === 'report';
    rows.push({
      tool,
      measurement,
      units,
      unitName,
      bytes,
      note,
      target: targetOf(key),
      ...(cli ? { damagedExit: CLI_EXIT_DAMAGED } : {}),
    });
    log(`${tool}: ${measurement.wallS.toFixed(2)} s`);
  };

  if (selected.has('read'))
    row('cat FILE > /dev/null (reading the bytes)', await run({ argv: ['cat', file] }), NaN, 'floor');

  // The shark() loop in a process of its own; `threaded` turns on the opt-in packet thread
  // (SharkOptions.packetThread) through its environment variable.
  const iterate = async (threaded: boolean): Promise<{ m: Measurement; records: number; malformed: number }> => {
    const ports = capture.ports;
    const loop = ['node', ITERATE, file, String(ports.serverPort), String(ports.repeaterPort)];
    const m = await run({ argv: threaded ? ['env', 'CA_SHARK_PACKET_THREAD=1', ...loop] : loop, stdoutTo: 'capture' });
    try {
      const counts = JSON.parse(m.stdout) as { records: number; malformed: number };
      return { m, records: counts.records, malformed: counts.malformed };
    } catch {
      return { m, records: NaN, malformed: NaN }; // A failed run: the row shows the exit status.
    }
  };
  // shark() gives the reference message count for the rates of the other rows.
  let messages = NaN;
  if (selected.has('shark')) {
    const { m, records, malformed } = await iterate(false);
    messages = records;
    row('shark() iterating every record', m, messages, `${thousands(malformed)} malformed`, 'msgs', 'shark');
  }
  if (selected.has('shark-thread')) {
    const { m, records } = await iterate(true);
    const verdict =
      !Number.isFinite(messages) || records === messages
        ? ''
        : `; ${thousands(records)} records, not ${thousands(messages)}`;
    row('shark() with packetThread (opt-in)', m, records, `packet layers on a worker thread${verdict}`);
  }
  let jsonLines = NaN;
  if (selected.has('text')) {
    const m = await run({ argv: [CLI, ...portArgs(capture, 'cli'), file], countLines: true });
    row('ca-shark FILE (text)', m, lineCount(m), '', 'lines', 'text');
  }
  if (selected.has('json')) {
    const m = await run({ argv: [CLI, '--json', ...portArgs(capture, 'cli'), file], countLines: true });
    jsonLines = lineCount(m);
    if (!Number.isFinite(messages)) messages = jsonLines;
    row('ca-shark --json FILE', m, jsonLines, '', 'lines', 'json');
  }
  for (const section of ['stats', 'report'] as const) {
    if (selected.has(section)) {
      row(
        `ca-shark ${section} FILE`,
        await run({ argv: [CLI, section, ...portArgs(capture, 'cli'), file] }),
        messages,
        '',
        'msgs',
        section,
      );
    }
  }
  const reference = Number.isFinite(jsonLines) ? jsonLines : messages;
  const referenceName = Number.isFinite(jsonLines) ? 'ca-shark --json' : 'shark()';
  const daemonArgs = ['--exit-on-eof', '--listen', '127.0.0.1:0', ...portArgs(capture, 'daemon')];
  const daemonRow = (tool: string, m: Measurement): void => {
    const summary = parseDaemonSummary(m.stderr);
    if (summary === undefined) {
      row(tool, m, NaN, 'no capture summary in its log');
      return;
    }
    const lost = reference - summary.messages;
    const verdict = !Number.isFinite(lost)
      ? ''
      : lost === 0
        ? `, as many as ${referenceName}`
        : `, ${thousands(lost)} FEWER than ${referenceName}`;
    row(
      tool,
      m,
      summary.messages,
      `${thousands(summary.messages)} records${verdict}; ${thousands(summary.decoderDropped)} frames dropped, ${thousands(summary.malformed)} malformed`,
    );
  };
  if (selected.has('daemon-r'))
    daemonRow(
      'ca-sharkd -r FILE --speed max',
      await run({ argv: ['node', DAEMON, '-r', file, '--speed', 'max', ...daemonArgs] }),
    );
  if (selected.has('daemon-stdin'))
    daemonRow(
      'cat FILE | ca-sharkd --stdin',
      await run({ argv: ['node', DAEMON, '--stdin', ...daemonArgs], catFile: file }),
    );

  const skipped: string[] = [];
  if (selected.has('caproto')) {
    // caproto-shark reads a pcap on stdin; it prints one line per command it decodes.
    if (onPath('caproto-shark')) {
      const m = await run({ argv: ['caproto-shark'], catFile: file, countLines: true });
      // Its rate counts the lines it printed: it skips messages silently, so the capture's count would flatter it.
      row(
        'caproto-shark < FILE',
        m,
        lineCount(m),
        `${thousands(lineCount(m))} of ${thousands(messages)} messages printed`,
        'lines',
      );
    } else skipped.push('caproto-shark (not on PATH: pip install caproto)');
  }
  if (selected.has('tshark')) {
    const lua = env.CA_SHARK_BENCH_CALUA;
    if (!onPath('tshark')) skipped.push('Wireshark rows (tshark not installed: apt-get install tshark)');
    else {
      row(
        'tshark -q -r FILE (no CA dissector)',
        await run({ argv: ['tshark', '-q', '-r', file] }),
        NaN,
        'floor of Wireshark',
      );
      if (lua !== undefined && existsSync(lua)) {
        const m = await run({ argv: ['tshark', '-X', `lua_script:${lua}`, '-r', file], countLines: true });
        row('tshark + cashark ca.lua', m, messages, `${thousands(lineCount(m))} lines printed`);
      } else skipped.push('tshark + cashark ca.lua (set CA_SHARK_BENCH_CALUA to its ca.lua)');
    }
  }

  const jumbo =
    census === undefined
      ? ''
      : `, ${thousands(census.frames)} frames (${thousands(census.jumbo)} over ${thousands(OLD_SNAPLEN)} bytes)`;
  process.stdout.write(
    `\n## realistic traffic (not synthetic): ${capture.label}: ${capture.file}\n` +
      `${(bytes / MB).toFixed(1)} MB, ${thousands(messages)} CA messages${jumbo}; load after: ${loadNow()}\n\n` +
      `${renderTable(rows)}\n`,
  );
  if (skipped.length > 0) process.stdout.write(`skipped: ${skipped.join('; ')}\n`);
  return rows;
}

/**
 * The steady-state table: each tool's rate over what the largest capture of a mix holds beyond its
 * smallest one (both recorded by the same script), so that start-up and JIT warm-up, paid once a run,
 * drop out. Printed when a mix was measured at two sizes far enough apart.
 */
function printSteady(measured: readonly { capture: Capture; rows: Row[] }[]): void {
  for (const mix of ['realistic', 'jumbo'] as const) {
    const ofMix = measured.filter((m) => m.capture.mix === mix).sort((a, b) => a.capture.bytes - b.capture.bytes);
    const small = ofMix[0];
    const large = ofMix.at(-1);
    if (small === undefined || large === undefined || large.capture.bytes < small.capture.bytes * STEADY_MIN_SIZE_RATIO)
      continue;
    const pairs: RowPair[] = [];
    for (const row of large.rows) {
      const before = small.rows.find((r) => r.tool === row.tool);
      if (before !== undefined && Number.isFinite(row.units)) pairs.push({ small: before, large: row });
    }
    if (pairs.length === 0) continue;
    process.stdout.write(
      `\n## steady state, ${mix} mix: ${large.capture.label} beyond ${small.capture.label}\n` +
        'Extra messages (or lines) of the larger capture over its extra wall time: start-up, module loading and\n' +
        'JIT warm-up are paid once a run and cancel out. The one-shot tables above are what a user waits for.\n\n' +
        `${renderSteadyTable(pairs)}\n`,
    );
  }
}

async function main(): Promise<number> {
  for (const [what, path] of [
    ['the CLI', CLI],
    ['the daemon', DAEMON],
    ['the bench', ITERATE],
  ] as const) {
    if (!existsSync(path)) {
      log(`${what} is not built (${path} missing): run \`pnpm run build\` first`);
      return 1;
    }
  }
  if (!existsSync(GNU_TIME)) {
    log(`${GNU_TIME} (GNU time, Debian package "time") is needed to measure peak RSS`);
    return 1;
  }
  let selected: Set<Tool>;
  try {
    selected = tools();
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  process.stdout.write(
    `# ca-shark realistic benchmark: ${new Date().toISOString()}, revision ${gitRevision()}, node ${process.version}, ` +
      `${availableParallelism()} CPUs, load ${loadNow()}\n` +
      'Rates use wall time; CPU s is user+system of the measured process; peak RSS of that process.\n',
  );
  const unset = UNMEASURED_ENV.filter((name) => env[name] !== undefined);
  if (unset.length > 0)
    process.stdout.write(
      `Measured commands run without ${unset.join(', ')} (set here): it costs every node start a certificate ` +
        "bundle load, none of ca-shark's work.\n",
    );
  let list: Capture[];
  try {
    list = await captures();
  } catch (err) {
    log((err as Error).message);
    log(
      'or point CA_SHARK_BENCH_CAPTURE at an existing capture, e.g. one made by `sudo scripts/make-capture.sh 100 F --realistic`',
    );
    return 1;
  }
  const measured: { capture: Capture; rows: Row[] }[] = [];
  for (const capture of list) measured.push({ capture, rows: await benchCapture(capture, selected) });
  printSteady(measured);
  return 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.exitCode = await main();
