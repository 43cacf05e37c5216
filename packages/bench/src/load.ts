#!/usr/bin/env node
/**
 * The live load bench (`pnpm bench:load`, part of `pnpm bench`; needs root): replays a realistic simulator
 * capture onto `lo` with tcpreplay at rising rates while this tree's `ca-sharkd -i lo` captures it, first
 * with no client, then with the dashboard open in headless Chromium and one WebSocket client reading
 * everything, and prints per step what was offered, decoded, dropped, delivered, how the page kept up and
 * how fast `/api/health` answered.
 *
 *   node dist/load.js [--quick] [--mbps 25,50,...] [--multipliers 1,5,20] [--seconds 12] [--size-mb 40]
 *                     [--clients none,page] [--capture FILE] [--profile] [--profile-dir DIR]
 *                     [--daemon-arg=ARG ...]   (e.g. --daemon-arg=--max-lag --daemon-arg=none)
 *                     [--trace DIR]   (a Chromium trace of the page per step, and its long tasks)
 *                     [--timer nano|gtod]   (how tcpreplay waits between packets; gtod spins a core)
 *
 * The capture's CA ports are rewritten (tcprewrite) to ports free at the time, and the daemon captures only
 * those (`-f "port A or port B"`): other engineers' CA traffic on `lo` stays out of the counts, and the
 * replayed searches reach nobody's IOC.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { ensureCapture, frameCensus, givenCapture } from './captures.js';
import type { Capture } from './captures.js';
import {
  caughtUp,
  DEFAULT_REPLAY_TIMER,
  firstBreak,
  healthFigures,
  hotFunctions,
  pageFigures,
  parseSteps,
  parseTcpreplay,
  parseTimer,
  planStep,
  procCpuSeconds,
  procStatTicks,
  renderLoadTable,
  statsCounters,
  statsDelta,
  stepLabel,
  threadCores,
} from './load-plan.js';
import type {
  CpuProfile,
  ReplayFile,
  ReplayTimer,
  StatsCounters,
  Step,
  StepPlan,
  StepResult,
  ViewSwitch,
} from './load-plan.js';
import { chromiumMissing, launchChromium } from './chromium.js';
import { connectWs, openDashboard, readProbe, tourViews } from './load-page.js';
import type { WsReader } from './load-page.js';
import { killAll, trackGroup } from './measure.js';
import { freePort, portFree } from './ports.js';
import { inspectorUrl, startProfiling } from './profile.js';
import type { Profiling } from './profile.js';
import { longTasksOfTrace, renderTraceTasks, startPageTrace, stopPageTrace } from './page-trace.js';
import { thousands } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
/**
 * The tree whose built daemon and dashboard are measured: this one, or `CA_SHARK_LOAD_TREE` (another
 * checkout, built), so two builds are compared by the same bench and probe.
 */
const TREE = process.env.CA_SHARK_LOAD_TREE ?? ROOT;
const DAEMON = join(TREE, 'packages', 'daemon', 'dist', 'main.js');
const DASHBOARD = join(TREE, 'packages', 'dashboard', 'dist', 'index.html');
const ITERATE = join(HERE, 'iterate.js');

/** Default steps: up to and past issue 12's goal of 250 Mbit/s of realistic traffic. */
const DEFAULT_MBPS = '25,50,100,175,250,400';
const QUICK_MBPS = '50,250';
/** `/api/health` is polled this often during a step. */
const HEALTH_POLL_MS = 100;
const HEALTH_TIMEOUT_MS = 5000;
/** After the replay, the daemon counts as caught up when its message count stayed put this long. */
const SETTLED_MS = 1000;
const MAX_DRAIN_MS = 20_000;
/** It also counts as caught up once its count stayed put this long with packets unaccounted for (lost by the kernel). */
const GIVE_UP_MS = 5000;
const STATS_POLL_MS = 250;
/**
 * The page's tour of its views (issue 12: tab switches under 300 ms) starts this long into the replay, and
 * waits this long before each click, so that it runs under the full flood and ends within a 12 s step.
 */
const TOUR_START_MS = 3000;
const TOUR_PAUSE_MS = 500;

/** Tasks of the page at least this long are itemised from a trace (a long task is 50 ms; the goal 100 ms). */
const TRACE_TASK_MS = 50;

/** The first second of a replay is left out of the page figures: the page sees the first rows then. */
const PAGE_SETTLE_MS = 1000;
/** How many functions of each profiled thread are shown. */
const HOT_FUNCTIONS = 12;
/** CA's registered server port: traffic on it may be anybody's. */
const STANDARD_SERVER_PORT = 5064;

const log = (line: string): void => void process.stderr.write(`bench:load: ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function onPath(command: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

interface Options {
  steps: Step[];
  seconds: number;
  sizeMb: number;
  clients: ('none' | 'page')[];
  capture?: string;
  /** More arguments for `ca-sharkd` (`--daemon-arg`, repeatable), after the bench's own. */
  daemonArgs: string[];
  profile: boolean;
  /** Where the profiles are also written as `.cpuprofile` files (Chrome DevTools opens them). */
  profileDir?: string;
  /** Where a Chromium trace of the page is written per page step (`--trace`). */
  traceDir?: string;
  /** How tcpreplay waits between packets (`--timer`). */
  timer: ReplayTimer;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      mbps: { type: 'string' },
      multipliers: { type: 'string' },
      seconds: { type: 'string' },
      'size-mb': { type: 'string' },
      clients: { type: 'string', default: 'none,page' },
      capture: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      'daemon-arg': { type: 'string', multiple: true },
      trace: { type: 'string' },
      timer: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const steps =
    values.multipliers !== undefined
      ? parseSteps(values.multipliers, 'multiplier')
      : parseSteps(values.mbps ?? (quick ? QUICK_MBPS : DEFAULT_MBPS), 'mbps');
  const seconds = Number(values.seconds ?? (quick ? 6 : 12));
  const sizeMb = Number(values['size-mb'] ?? (quick ? 20 : 40));
  if (!(seconds > 0) || !(sizeMb > 0)) throw new Error('--seconds and --size-mb take positive numbers');
  const clients = (values.clients ?? '').split(',').map((c) => c.trim());
  for (const c of clients)
    if (c !== 'none' && c !== 'page') throw new Error(`--clients: "${c}" is neither "none" nor "page"`);
  return {
    steps,
    seconds,
    sizeMb,
    clients: clients as Options['clients'],
    capture: values.capture,
    daemonArgs: values['daemon-arg'] ?? [],
    timer: values.timer === undefined ? DEFAULT_REPLAY_TIMER : parseTimer(values.timer),
    profile: values.profile === true || values['profile-dir'] !== undefined,
    ...(values['profile-dir'] !== undefined
      ? { profileDir: resolve(process.env.INIT_CWD ?? process.cwd(), values['profile-dir']) }
      : {}),
    ...(values.trace !== undefined ? { traceDir: resolve(process.env.INIT_CWD ?? process.cwd(), values.trace) } : {}),
  };
}

/** Why the load bench cannot run here (it then skips, successfully), or undefined. */
function blocker(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (tcpreplay and ca-sharkd -i lo capture and inject on lo)';
  for (const tool of ['tcpreplay', 'tcprewrite', 'tcpdump'])
    if (!onPath(tool)) return `${tool} is not installed (apt-get install tcpreplay tcpdump)`;
  if (!existsSync(DAEMON)) return `the daemon is not built (${DAEMON}): run \`pnpm run build\``;
  return undefined;
}

/** Runs a command to its end and returns its exit status and output (stdout and stderr together). */
function run(argv: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const release = trackGroup(child.pid);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', (err) => (output += String(err)));
    child.on('close', (code) => {
      release();
      resolveRun({ code, output });
    });
  });
}

/** The capture to replay, its ports rewritten to free ones, and what it holds. */
interface Prepared {
  capture: Capture;
  file: string;
  serverPort: number;
  repeaterPort: number;
  replay: ReplayFile;
  frames: number;
  daemonArgs: string[];
}

async function prepare(opts: Options, workDir: string): Promise<Prepared> {
  const capture =
    opts.capture !== undefined
      ? givenCapture(resolve(process.env.INIT_CWD ?? process.cwd(), opts.capture))
      : await ensureCapture(
          { mix: 'realistic', sizeMb: opts.sizeMb, privatePorts: true },
          {
            root: ROOT,
            cacheDir: process.env.CA_SHARK_BENCH_DIR ?? join(tmpdir(), 'ca-shark-bench'),
            timeoutMs: (120 + 1.5 * opts.sizeMb) * 1000,
            log,
          },
        );
  const { serverPort: s, repeaterPort: r } = capture.ports;
  let serverPort = s;
  let repeaterPort = r;
  let file = capture.file;
  // A capture recorded on private ports that are still free replays as it is; otherwise its ports are
  // rewritten to free ones.
  if (s === STANDARD_SERVER_PORT || !(await portFree(s)) || !(await portFree(r))) {
    serverPort = await freePort();
    repeaterPort = await freePort();
    while (repeaterPort === serverPort) repeaterPort = await freePort();
    file = join(workDir, 'replay.pcap');
    const rewrite = await run([
      'tcprewrite',
      `--portmap=${s}:${serverPort},${r}:${repeaterPort}`,
      '-i',
      capture.file,
      '-o',
      file,
    ]);
    if (rewrite.code !== 0) throw new Error(`tcprewrite failed: ${rewrite.output.trim()}`);
  }
  const census = frameCensus(file);
  if (census === undefined) throw new Error(`${capture.file} is not a classic pcap file (tcpreplay needs one)`);
  const counted = await run(['node', ITERATE, file, String(serverPort), String(repeaterPort)]);
  const messages = (JSON.parse(counted.output.trim().split('\n').at(-1) ?? '{}') as { records?: number }).records;
  if (typeof messages !== 'number') throw new Error(`could not count the messages of ${file}: ${counted.output}`);
  return {
    capture,
    file,
    serverPort,
    repeaterPort,
    frames: census.frames,
    daemonArgs: opts.daemonArgs,
    replay: { frameBytes: census.frameBytes, durationS: census.lastS - census.firstS, messages },
  };
}

/** A running `ca-sharkd -i lo`. */
interface Daemon {
  pid: number;
  base: string;
  stderr: () => string;
  /** Stops it (SIGTERM, then SIGKILL) and resolves with its exit code. */
  stop: () => Promise<number | null>;
}

async function startDaemon(prepared: Prepared, inspect: boolean): Promise<Daemon> {
  const port = await freePort();
  const { serverPort, repeaterPort } = prepared;
  const node = inspect ? ['--inspect=127.0.0.1:0'] : [];
  const child = spawn(
    process.execPath,
    [
      ...node,
      DAEMON,
      '-i',
      'lo',
      '--listen',
      `127.0.0.1:${port}`,
      '--ports',
      `${serverPort},${repeaterPort}`,
      '--filter',
      `port ${serverPort} or port ${repeaterPort}`,
      ...prepared.daemonArgs,
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const release = trackGroup(child.pid);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    // Keep the tail: the exit summary is what matters, warnings may repeat.
    stderr = (stderr + d).slice(-1_000_000);
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  const daemon: Daemon = {
    pid: child.pid ?? 0,
    base,
    stderr: () => stderr,
    stop: async () => {
      try {
        process.kill(child.pid ?? 0, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      const code = await exited;
      clearTimeout(killer);
      release();
      return code;
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1000) })).ok) return daemon;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await daemon.stop();
  throw new Error(`ca-sharkd did not come up: ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
}

async function stats(base: string): Promise<StatsCounters | undefined> {
  try {
    const res = await fetch(`${base}/api/stats`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return statsCounters(await res.json());
  } catch {
    return undefined;
  }
}

function cpuSeconds(pid: number): number {
  try {
    return procCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** CPU seconds of each thread of `pid` (tid → seconds); empty when it is gone. */
function threadsCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`))
      out.set(Number(tid), procCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
  } catch {
    // gone
  }
  return out;
}

/** Busy CPU seconds of the whole machine so far. */
function machineCpu(): { busy: number; total: number } {
  try {
    const t = procStatTicks(readFileSync('/proc/stat', 'utf8'));
    return { busy: t.busy / 100, total: t.total / 100 };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** CPU seconds of this process's Chromium (every process below this one whose name starts with "chrom"). */
function chromiumCpu(): number {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pid = Number(entry);
      names.set(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cpu.set(pid, procCpuSeconds(stat));
    } catch {
      // exited meanwhile
    }
  }
  let sum = 0;
  for (const [pid, name] of names) {
    if (!name.startsWith('chrom')) continue;
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p))
      if (p === process.pid) {
        sum += cpu.get(pid) ?? 0;
        break;
      }
  }
  return sum;
}

/** CPU seconds of this process (the bench: its WebSocket client, page driving and polls). */
function benchCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Polls `/api/stats` every {@link STATS_POLL_MS} until stopped, for the decoder's own lag and stream share
 * (daemons that report them).
 */
function pollDecoder(base: string): { stop: () => { lagMaxMs: number; shareMin: number } } {
  let lagMaxMs = NaN;
  let shareMin = NaN;
  const timer = setInterval(() => {
    fetch(`${base}/api/stats`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      .then((res) => res.json() as Promise<{ decoderLagMs?: unknown; streamShare?: unknown }>)
      .then(
        (body) => {
          if (typeof body.decoderLagMs === 'number')
            lagMaxMs = Number.isNaN(lagMaxMs) ? body.decoderLagMs : Math.max(lagMaxMs, body.decoderLagMs);
          if (typeof body.streamShare === 'number')
            shareMin = Number.isNaN(shareMin) ? body.streamShare : Math.min(shareMin, body.streamShare);
        },
        () => undefined,
      );
  }, STATS_POLL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return { lagMaxMs, shareMin };
    },
  };
}

/** Polls `/api/health` every {@link HEALTH_POLL_MS} (whether or not the last poll answered) until stopped. */
function pollHealth(base: string): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const start = performance.now();
    const p = fetch(`${base}/api/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      .then((res) => res.text())
      .then(
        () => void latencies.push(performance.now() - start),
        () => void latencies.push(NaN),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }, HEALTH_POLL_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
      return latencies;
    },
  };
}

/**
 * Runs one step on a fresh daemon (and, with a browser, a fresh page and WebSocket client). With `profiles`,
 * every thread of the daemon is profiled from just before the replay until it caught up, into that map.
 */
async function runStep(
  prepared: Prepared,
  plan: StepPlan,
  browser?: Browser,
  profiles?: Map<string, CpuProfile>,
  traceDir?: string,
): Promise<StepResult> {
  const clients = browser === undefined ? 'none' : 'page+ws';
  const daemon = await startDaemon(prepared, profiles !== undefined);
  const notes: string[] = [];
  let ws: WsReader | undefined;
  let profiling: Profiling | undefined;
  let page: Awaited<ReturnType<typeof openDashboard>> | undefined;
  try {
    if (browser !== undefined) {
      page = await openDashboard(browser, `${daemon.base}/`);
      ws = await connectWs(`${daemon.base.replace(/^http/, 'ws')}/ws`, 15_000);
      if (traceDir !== undefined) await startPageTrace(browser, page);
    }
    await sleep(1000);
    const before = await stats(daemon.base);
    if (before === undefined) throw new Error('/api/stats did not answer before the replay');
    if (profiles !== undefined) {
      const url = inspectorUrl(daemon.stderr());
      if (url === undefined) throw new Error('the daemon printed no inspector address');
      profiling = await startProfiling(url);
    }
    ws?.reset();
    const cpu0 = cpuSeconds(daemon.pid);
    const threads0 = threadsCpu(daemon.pid);
    const machine0 = machineCpu();
    const chromium0 = browser === undefined ? 0 : chromiumCpu();
    const bench0 = benchCpu();
    const t0 = Date.now();
    const health = pollHealth(daemon.base);
    const decoder = pollDecoder(daemon.base);
    const touring = page;
    const tour: Promise<ViewSwitch[]> | undefined =
      touring === undefined ? undefined : sleep(TOUR_START_MS).then(() => tourViews(touring, TOUR_PAUSE_MS));
    const replayed = await run(['tcpreplay', '-i', 'lo', ...plan.args, prepared.file]);
    const t1 = Date.now();
    const switches = await tour;
    if (traceDir !== undefined && browser !== undefined) await writeTrace(browser, traceDir, plan);
    const replay = parseTcpreplay(replayed.output);
    if (replay === undefined) notes.push(`tcpreplay failed: ${replayed.output.trim().split('\n').at(-1) ?? ''}`);
    // Wait for the daemon to catch up: its count stops moving once its backlog is decoded.
    let last = before;
    // What the WebSocket client had read when the daemon's count was last read: the two are compared, and a
    // daemon slow to answer /api/stats would otherwise be compared with a later WS count.
    let wsAtLast = ws === undefined ? undefined : { ...ws.counts };
    let lastChange = t1;
    let drainS = NaN;
    while (Date.now() - t1 < MAX_DRAIN_MS) {
      await sleep(STATS_POLL_MS);
      const now = await stats(daemon.base);
      if (now === undefined) continue;
      if (now.messages !== last.messages) lastChange = Date.now();
      last = now;
      if (ws !== undefined) wsAtLast = { ...ws.counts };
      const sent = replay?.packets ?? 0;
      if (caughtUp(statsDelta(before, now), sent, SETTLED_MS, GIVE_UP_MS, Date.now() - lastChange)) {
        drainS = Math.max(0, (lastChange - t1) / 1000);
        break;
      }
    }
    if (Number.isNaN(drainS)) notes.push(`still decoding ${MAX_DRAIN_MS / 1000} s after the replay`);
    const cpu1 = cpuSeconds(daemon.pid);
    const threads = threadCores(daemon.pid, threads0, threadsCpu(daemon.pid));
    const machine1 = machineCpu();
    const chromium1 = browser === undefined ? 0 : chromiumCpu();
    const bench1 = benchCpu();
    const t2 = Date.now();
    const wallS = (t2 - t0) / 1000;
    const decoderFigures = decoder.stop();
    const latencies = await health.stop();
    if (profiling !== undefined) for (const [name, p] of await profiling.stop()) profiles?.set(name, p);
    const final = await stats(daemon.base);
    if (final !== undefined && ws !== undefined) wsAtLast = { ...ws.counts };
    let after = final ?? last;
    if (after === before) {
      notes.push('/api/stats did not answer after the replay');
      after = statsCounters({});
    }
    let figures: StepResult['page'];
    if (page !== undefined) {
      const probe = await readProbe(page, 30_000);
      if (!probe.answered) notes.push('page did not answer within 30 s');
      figures = pageFigures(probe.samples, probe.longTasks, t0 + PAGE_SETTLE_MS, t1);
      if (process.env.CA_SHARK_LOAD_DEBUG === '1')
        log(
          `page probe: ${JSON.stringify({ t0, t1, samples: probe.samples.filter((s, i) => i % 10 === 0), longTasks: probe.longTasks })}`,
        );
    }
    return {
      plan,
      clients,
      replay,
      delta: statsDelta(before, after),
      drainS,
      daemonCores: (cpu1 - cpu0) / wallS,
      cores: {
        main: threads.main / wallS,
        worker: threads.worker / wallS,
        // All CPUs' busy time over the step's wall time: how many of the machine's cores were in use.
        machine: ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * availableParallelism(),
        chromium: browser === undefined ? NaN : (chromium1 - chromium0) / wallS,
        bench: (bench1 - bench0) / wallS,
      },
      decoder: decoderFigures,
      health: healthFigures(latencies),
      ws: wsAtLast,
      page: figures,
      switches,
      note: notes.join('; '),
    };
  } finally {
    profiling?.close();
    ws?.close();
    await page?.close().catch(() => undefined);
    const code = await daemon.stop();
    if (code !== 0) log(`ca-sharkd exited with ${code}: ${daemon.stderr().trim().split('\n').slice(-2).join(' / ')}`);
  }
}

/** Ends the page's trace, writes it to `dir` and prints the page's tasks over {@link TRACE_TASK_MS}. */
async function writeTrace(browser: Browser, dir: string, plan: StepPlan): Promise<void> {
  const trace = await stopPageTrace(browser);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `page-${stepLabel(plan.step).replace(/[^\w.-]+/g, '_')}.json`);
  writeFileSync(file, trace);
  const tasks = longTasksOfTrace(
    JSON.parse(trace.toString('utf8')) as Parameters<typeof longTasksOfTrace>[0],
    TRACE_TASK_MS,
  );
  process.stdout.write(
    `\n### Page tasks over ${TRACE_TASK_MS} ms at ${stepLabel(plan.step)} (${file}; self ms)\n${renderTraceTasks(tasks)}\n`,
  );
}

/**
 * Profiles the daemon's threads over one step (with the page and WebSocket client when `browser` is given)
 * and prints each thread's hottest functions.
 */
async function profileStep(prepared: Prepared, plan: StepPlan, browser?: Browser, dir?: string): Promise<void> {
  const who = browser === undefined ? 'no client' : 'page + WS client';
  log(`profiling ca-sharkd at ${stepLabel(plan.step)} (${who}) ...`);
  const profiles = new Map<string, CpuProfile>();
  const result = await runStep(prepared, plan, browser, profiles);
  process.stdout.write(
    `\n### Profile of ca-sharkd at ${stepLabel(plan.step)}, ${who} (V8 sampling profiler over the step; self time)\n` +
      `${renderLoadTable([result])}\n`,
  );
  if (profiles.size === 0) process.stdout.write('no profile (the inspector did not answer)\n');
  for (const [thread, profile] of profiles) {
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true });
      const file = join(
        dir,
        `${browser === undefined ? 'none' : 'page'}-${thread.replace(/[^\w.-]+/g, '_')}.cpuprofile`,
      );
      writeFileSync(file, JSON.stringify(profile));
      log(`wrote ${file}`);
    }
    const hot = hotFunctions(profile, HOT_FUNCTIONS);
    process.stdout.write(`\n${thread}: busy ${(100 * hot.busyShare).toFixed(0)} % of the step\n`);
    for (const fn of hot.functions)
      process.stdout.write(
        `  ${(100 * fn.share).toFixed(1).padStart(5)} %  ${fn.selfMs.toFixed(0).padStart(7)} ms  ${fn.name}\n`,
      );
  }
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = options();
  } catch (err) {
    log((err as Error).message);
    return 2;
  }
  const why = blocker();
  if (why !== undefined) {
    process.stdout.write(`\n## live load (tcpreplay onto lo): SKIPPED: ${why}\n`);
    return 0;
  }
  let clients = opts.clients;
  const noBrowser =
    chromiumMissing() ?? (existsSync(DASHBOARD) ? undefined : `the dashboard is not built (${DASHBOARD})`);
  if (noBrowser !== undefined && clients.includes('page')) {
    process.stdout.write(`page steps SKIPPED: ${noBrowser}\n`);
    clients = clients.filter((c) => c !== 'page');
  }
  const workDir = mkdtempSync(join(tmpdir(), 'ca-shark-load-'));
  let browser: Browser | undefined;
  try {
    const prepared = await prepare(opts, workDir);
    const plans = opts.steps.map((s) => planStep(s, prepared.replay, opts.seconds, opts.timer));
    process.stdout.write(
      `\n## live load (tcpreplay onto lo): ${new Date().toISOString()}, node ${process.version}, ` +
        `${availableParallelism()} CPUs, load before ${loadNow()}\n` +
        `capture: ${prepared.capture.label} ${prepared.capture.file}: ${(prepared.replay.frameBytes / 1048576).toFixed(1)} MB ` +
        `in ${thousands(prepared.frames)} frames, ${thousands(prepared.replay.messages)} CA messages over ` +
        `${prepared.replay.durationS.toFixed(1)} s; replayed on ports ${prepared.serverPort}/${prepared.repeaterPort} ` +
        `(daemon filter "port ${prepared.serverPort} or port ${prepared.repeaterPort}": other traffic on lo stays out); ` +
        `tcpreplay --timer ${opts.timer}` +
        `${prepared.daemonArgs.length > 0 ? `; ca-sharkd also given: ${prepared.daemonArgs.join(' ')}` : ''}\n`,
    );
    const results: StepResult[] = [];
    for (const mode of clients) {
      if (mode === 'page' && browser === undefined) browser = await launchChromium();
      for (const plan of plans) {
        log(
          `${stepLabel(plan.step)}, ${mode === 'none' ? 'no client' : 'page + WS client'} (${plan.loops} passes) ...`,
        );
        try {
          results.push(await runStep(prepared, plan, mode === 'page' ? browser : undefined, undefined, opts.traceDir));
        } catch (err) {
          log(`${stepLabel(plan.step)} failed: ${(err as Error).message}`);
        }
      }
    }
    process.stdout.write(`\n${renderLoadTable(results)}\nload after: ${loadNow()}\n`);
    const broke = firstBreak(results.filter((r) => r.clients === 'none'));
    process.stdout.write(
      broke === undefined
        ? 'no client: no step lost messages, dropped or fell behind.\n'
        : `no client: first step that breaks: ${stepLabel(broke.result.plan.step)} (${broke.why}).\n`,
    );
    if (opts.profile) {
      // Each client mode at its first step that breaks (the last step when none does).
      for (const mode of clients) {
        const own = results.filter((r) => r.clients === (mode === 'none' ? 'none' : 'page+ws'));
        const plan = firstBreak(own)?.result.plan ?? plans.at(-1);
        if (plan !== undefined)
          await profileStep(prepared, plan, mode === 'page' ? browser : undefined, opts.profileDir);
      }
    }
    return 0;
  } catch (err) {
    log((err as Error).message);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.exitCode = await main();
