/**
 * The pure parts of the live load bench (load.ts): which replay each step runs, what tcpreplay, `/api/stats`
 * and /proc say, and the table the steps make. Nothing here spawns, waits or reads the clock.
 */
import { describeSample } from '@ca-shark/analysis';
import { fixed, renderGrid, thousands } from './table.js';

/** One step: a constant bit rate (`tcpreplay --mbps`) or a speed-up of the capture's own timing (`--multiplier`). */
export interface Step {
  kind: 'mbps' | 'multiplier';
  value: number;
}

/** What the replayed file holds. */
export interface ReplayFile {
  /** Frame bytes as tcpreplay sends them. */
  frameBytes: number;
  /** Seconds from the first to the last frame. */
  durationS: number;
  /** CA messages in the file (shark()). */
  messages: number;
}

/** A step made concrete: tcpreplay's arguments and what the daemon should decode. */
export interface StepPlan {
  step: Step;
  /** Passes over the file; each pass after the first gets new IP addresses (`--unique-ip`), so new TCP flows. */
  loops: number;
  /** CA messages tcpreplay puts on the wire: loops × messages in the file. */
  expectedMessages: number;
  /** tcpreplay arguments after `-i IFACE`, without the file. */
  args: string[];
}

/** Parses `25,50,100` into steps of one kind; throws on anything but positive numbers. */
export function parseSteps(text: string, kind: Step['kind']): Step[] {
  const steps = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const value = Number(s);
      if (!(value > 0) || !Number.isFinite(value)) throw new Error(`not a positive number: "${s}"`);
      return { kind, value };
    });
  if (steps.length === 0) throw new Error(`no ${kind} steps given`);
  return steps;
}

/** The label of a step in the table: `250 Mbit/s` or `×20`. */
export function stepLabel(step: Step): string {
  return step.kind === 'mbps' ? `${step.value} Mbit/s` : `×${step.value}`;
}

/**
 * How tcpreplay waits between packets (`--timer`). `nano` sleeps (nanosleep); `gtod`, tcpreplay 4.4's
 * default, spins on gettimeofday and sched_yield. Measured alone on `lo` at 250 Mbit/s (12.2k packets/s,
 * 5.7 s): gtod 5.8 s of CPU (a whole core: user 2.5, sys 3.3), nano 0.6 s, both at 249.99 Mbit/s. On this
 * 2-core machine the spinning sender took the share of a core the daemon needs (docs/performance.md,
 * "Session 10"); a real network's senders are other machines.
 */
export type ReplayTimer = 'nano' | 'gtod';

/** The default {@link ReplayTimer}: the one that leaves the cores to the daemon. */
export const DEFAULT_REPLAY_TIMER: ReplayTimer = 'nano';

/** Parses `--timer`; throws on anything but a {@link ReplayTimer}. */
export function parseTimer(text: string): ReplayTimer {
  if (text !== 'nano' && text !== 'gtod') throw new Error(`--timer: "${text}" is neither "nano" nor "gtod"`);
  return text;
}

/**
 * Plans a step that lasts about `seconds`: as many whole passes over the file as fit (at least one), so the
 * number of messages offered is known exactly.
 */
export function planStep(
  step: Step,
  file: ReplayFile,
  seconds: number,
  timer: ReplayTimer = DEFAULT_REPLAY_TIMER,
): StepPlan {
  const onePassS = step.kind === 'mbps' ? (file.frameBytes * 8) / (step.value * 1e6) : file.durationS / step.value;
  const loops = onePassS > 0 ? Math.max(1, Math.round(seconds / onePassS)) : 1;
  // --pktlen: send each frame whole. Without it tcpreplay cuts frames to the file header's snaplen, and
  // tcprewrite writes 65,535 there: every 64 KiB loopback segment would lose its last 14 bytes.
  const rate = step.kind === 'mbps' ? ['--mbps', String(step.value)] : ['--multiplier', String(step.value)];
  const args = ['--pktlen', '--timer', timer, ...rate];
  if (loops > 1) args.push('--loop', String(loops), '--unique-ip');
  return { step, loops, expectedMessages: loops * file.messages, args };
}

/** What tcpreplay reports it sent ("Actual: N packets (B bytes) sent in S seconds"). */
export interface ReplayReport {
  packets: number;
  bytes: number;
  seconds: number;
  failedPackets: number;
}

/** Parses tcpreplay's summary; undefined when it printed none (it failed to start). */
export function parseTcpreplay(output: string): ReplayReport | undefined {
  const actual = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(output);
  if (actual === null) return undefined;
  const failed = /Failed packets:\s+(\d+)/.exec(output);
  return {
    packets: Number(actual[1]),
    bytes: Number(actual[2]),
    seconds: Number(actual[3]),
    failedPackets: failed === null ? 0 : Number(failed[1]),
  };
}

/** The counters of `/api/stats` the bench compares. */
export interface StatsCounters {
  packets: number;
  messages: number;
  malformed: number;
  decoderDropped: number;
  /** libpcap's drops: buffer overflows plus drops by the interface. */
  captureDropped: number;
  wsDropped: number;
}

/** Every counter zero. */
export const ZERO_COUNTERS: Readonly<StatsCounters> = {
  packets: 0,
  messages: 0,
  malformed: 0,
  decoderDropped: 0,
  captureDropped: 0,
  wsDropped: 0,
};

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : NaN;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** Reads the counters from a parsed `/api/stats` answer; a missing counter is NaN. */
export function statsCounters(body: unknown): StatsCounters {
  const capture = field(body, 'capture');
  return {
    packets: count(field(body, 'packets')),
    messages: count(field(body, 'messages')),
    malformed: count(field(body, 'malformed')),
    decoderDropped: count(field(body, 'decoderDropped')),
    captureDropped: count(field(capture, 'dropped')) + count(field(capture, 'ifDropped')),
    wsDropped: count(field(field(body, 'websocket'), 'dropped')),
  };
}

/** `after − before`, counter by counter. libpcap's counters are 32-bit and may wrap once within a step. */
export function statsDelta(before: StatsCounters, after: StatsCounters): StatsCounters {
  const out = { ...ZERO_COUNTERS };
  for (const key of Object.keys(ZERO_COUNTERS) as (keyof StatsCounters)[]) {
    let d = after[key] - before[key];
    if (key === 'captureDropped' && d < 0) d += 2 ** 32;
    out[key] = d;
  }
  return out;
}

/**
 * Whether the daemon has caught up after a replay: its message count has stood still for `stillMs` and
 * every packet sent is accounted for (captured, dropped by its decoder, or dropped by libpcap, which counts
 * each `lo` packet twice); or the count has stood still for `giveUpMs`, since packets the kernel lost are
 * never accounted for. A count that stands still alone proves nothing: a starved daemon's /api/stats can
 * stay unchanged for seconds while it is still decoding.
 */
export function caughtUp(
  delta: StatsCounters,
  sentPackets: number,
  stillMs: number,
  giveUpMs: number,
  quietMs: number,
): boolean {
  if (quietMs >= giveUpMs) return true;
  if (quietMs < stillMs) return false;
  const accounted = delta.packets + delta.decoderDropped + delta.captureDropped / 2;
  return !(accounted < sentPackets);
}

/** CPU seconds (user + system, all threads) from the text of `/proc/PID/stat`. */
export function procCpuSeconds(statText: string, ticksPerSecond = 100): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / ticksPerSecond;
}

/** Busy and total CPU time (clock ticks) of all CPUs, from the first line of `/proc/stat`. */
export function procStatTicks(statText: string): { busy: number; total: number } {
  const fields = (statText.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const total = fields.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The main thread's and the busiest other thread's (the decoding worker's) CPU seconds between two readings
 * of a process's threads (tid → CPU seconds); the main thread is the one whose tid is the process id.
 */
export function threadCores(
  pid: number,
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): { main: number; worker: number } {
  let main = NaN;
  let worker = NaN;
  for (const [tid, cpu] of after) {
    const d = cpu - (before.get(tid) ?? 0);
    if (tid === pid) main = d;
    else if (!(d <= worker)) worker = d;
  }
  return { main, worker };
}

/** What the WebSocket client read during a step. */
export interface WsCounts {
  frames: number;
  /** Records received (the length of every `records` frame's array). */
  records: number;
  /** Sum of the frames' `matched` (records that matched the filter), NaN when no frame carried it. */
  matched: number;
  /** Sum of the frames' `sent`, NaN when no frame carried it. */
  sent: number;
  /** Sum of the `dropped` notices' counts. */
  dropped: number;
  /** Frames that said the daemon was sampling. */
  samplingFrames: number;
}

/** Empty counts. */
export function emptyWsCounts(): WsCounts {
  return { frames: 0, records: 0, matched: NaN, sent: NaN, dropped: 0, samplingFrames: 0 };
}

/** Adds one WebSocket frame (parsed JSON) to the counts; frames of other types only count as frames. */
export function countWsFrame(counts: WsCounts, frame: unknown): void {
  counts.frames += 1;
  const type = field(frame, 'type');
  if (type === 'records') {
    const records = field(frame, 'records');
    if (Array.isArray(records)) counts.records += records.length;
    const matched = field(frame, 'matched');
    const sent = field(frame, 'sent');
    if (typeof matched === 'number') counts.matched = (Number.isNaN(counts.matched) ? 0 : counts.matched) + matched;
    if (typeof sent === 'number') counts.sent = (Number.isNaN(counts.sent) ? 0 : counts.sent) + sent;
    if (field(frame, 'sampling') === true) counts.samplingFrames += 1;
  } else if (type === 'dropped') {
    const n = field(frame, 'count');
    if (typeof n === 'number') counts.dropped += n;
  }
}

/**
 * What the page showed, sampled inside it every {@link PAGE_SAMPLE_MS}: `[wall ms, timer lateness ms,
 * newest row's capture time (Unix s, NaN without rows), the page's own data-lag-ms (null without the hook),
 * data-sampling (1, 0, null), and the status bar's data-stages (the last frame's {@link LAG_STAGES} before
 * the page, ms; null or absent without the hook)]`.
 */
export type PageSample = [
  wallMs: number,
  latenessMs: number,
  newestT: number,
  pageLagMs: number | null,
  sampling: 0 | 1 | null,
  stages?: number[] | null,
];

/**
 * Where the Live lag accrues: the status bar's stages of the newest row (capture to the decoder's queue,
 * decoding, the daemon's main thread, its send, to the page's worker), then `page`: the rest of the lag the probe saw
 * (the worker's render throttle, the main thread's frame, and the time the row stayed on screen).
 */
export const LAG_STAGES = ['capture', 'decoder', 'main', 'hub', 'to page', 'page'] as const;

/** One stage of the Live lag over a step's samples, ms. */
export interface StageFigure {
  stage: (typeof LAG_STAGES)[number];
  p50Ms: number;
  maxMs: number;
}
/** A long task: `[start, wall ms; duration ms]`. */
export type LongTask = [startMs: number, durationMs: number];

/** How often the page samples itself (a 100 ms timer, as the issue measured lateness with). */
export const PAGE_SAMPLE_MS = 100;

/** One tab switch of the page: the view switched to and the time from the click to its first painted frame (NaN: it failed). */
export interface ViewSwitch {
  view: string;
  ms: number;
}

/** The slowest of `switches` (a failed switch counts as slowest), or undefined when there were none. */
export function slowestSwitch(switches: readonly ViewSwitch[]): ViewSwitch | undefined {
  let slowest: ViewSwitch | undefined;
  for (const s of switches) {
    if (slowest !== undefined && Number.isNaN(slowest.ms)) break;
    if (slowest === undefined || !(s.ms <= slowest.ms)) slowest = s;
  }
  return slowest;
}

/** Page figures of one step. */
export interface PageFigures {
  longTasks: number;
  longestTaskMs: number;
  /** Live-view lag (wall clock − newest row's capture time), seconds: largest and at the end of the replay. */
  lagMaxS: number;
  lagEndS: number;
  /** When the largest lag was seen: seconds after the window's start (NaN without rows). */
  lagMaxAtS?: number;
  /** The median lag over the samples with rows, seconds (NaN without rows). */
  lagP50S?: number;
  /** The page's own `data-lag-ms`, largest seen (NaN without the hook). */
  pageLagMaxMs: number;
  /** Largest delay of the page's 100 ms timer. */
  timerLateMaxMs: number;
  /** Samples taken in the window, and how many of them said "sampling". */
  samples: number;
  samplingSamples: number;
  /** Live lag by stage ({@link LAG_STAGES}); empty without the status bar's stage hook. */
  stages?: StageFigure[];
  /** The same over the window's first {@link FLOOD_START_MS}: a flood's start, where the largest lag was. */
  startStages?: StageFigure[];
}

/** The first part of a step's window whose lag stages are also shown on their own (ms). */
export const FLOOD_START_MS = 3000;

/**
 * Reduces the page's samples and long tasks to the figures of the window `[fromMs, toMs]` (the replay, minus
 * a settling second at its start, which the caller chooses).
 */
export function pageFigures(
  samples: readonly PageSample[],
  longTasks: readonly LongTask[],
  fromMs: number,
  toMs: number,
): PageFigures {
  const inWindow = samples.filter(([wall]) => wall >= fromMs && wall <= toMs);
  const tasks = longTasks.filter(([start, duration]) => start + duration >= fromMs && start <= toMs);
  let lagMaxS = NaN;
  let lagMaxAtS = NaN;
  let lagEndS = NaN;
  let pageLagMaxMs = NaN;
  let timerLateMaxMs = NaN;
  let samplingSamples = 0;
  const byStage: number[][] = LAG_STAGES.map(() => []);
  const startByStage: number[][] = LAG_STAGES.map(() => []);
  const lags: number[] = [];
  for (const [wall, late, newestT, pageLag, sampling, stages] of inWindow) {
    const lag = wall / 1000 - newestT;
    if (Number.isFinite(lag)) {
      if (!(lag <= lagMaxS)) {
        lagMaxS = lag;
        lagMaxAtS = (wall - fromMs) / 1000;
      }
      lagEndS = lag;
      lags.push(lag);
      if (stages != null && stages.length === LAG_STAGES.length - 1 && stages.every(Number.isFinite)) {
        const early = wall < fromMs + FLOOD_START_MS;
        let before = 0;
        stages.forEach((ms, i) => {
          byStage[i].push(ms);
          if (early) startByStage[i].push(ms);
          before += ms;
        });
        // The stages are of the newest frame the page had; a row from an older one only makes this larger.
        const page = Math.max(0, Math.round(lag * 1000 - before));
        byStage[LAG_STAGES.length - 1].push(page);
        if (early) startByStage[LAG_STAGES.length - 1].push(page);
      }
    }
    if (pageLag !== null && Number.isFinite(pageLag))
      pageLagMaxMs = Number.isNaN(pageLagMaxMs) ? pageLag : Math.max(pageLagMaxMs, pageLag);
    timerLateMaxMs = Number.isNaN(timerLateMaxMs) ? late : Math.max(timerLateMaxMs, late);
    if (sampling === 1) samplingSamples += 1;
  }
  return {
    longTasks: tasks.length,
    longestTaskMs: tasks.reduce((m, [, d]) => Math.max(m, d), 0),
    lagMaxS,
    lagMaxAtS,
    lagP50S: describeSample(lags).p50,
    lagEndS,
    pageLagMaxMs,
    timerLateMaxMs,
    samples: inWindow.length,
    samplingSamples,
    stages: stageFigures(byStage),
    startStages: stageFigures(startByStage),
  };
}

function stageFigures(byStage: readonly number[][]): StageFigure[] {
  if (byStage[0].length === 0) return [];
  return LAG_STAGES.map((stage, i) => {
    const d = describeSample(byStage[i]);
    return { stage, p50Ms: d.p50, maxMs: d.max };
  });
}

/**
 * "lag stages p50/max ms: capture 12/40, decoder 300/900, ..." (p50/max ms of each stage; `what` names the
 * part of the step), '' without stages.
 */
export function stagesNote(stages: readonly StageFigure[], what = 'lag stages'): string {
  if (stages.length === 0) return '';
  return `${what} p50/max ms: ${stages.map((s) => `${s.stage} ${thousands(s.p50Ms)}/${thousands(s.maxMs)}`).join(', ')}`;
}

/**
 * Parses the Live table's clock text (`HH:MM:SS.mmm`, UTC) as the moment of that day nearest to `nearMs`;
 * NaN for other text. For pages without the `data-t` hook.
 */
export function clockToUnix(text: string, nearMs: number): number {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3})$/.exec(text.trim());
  if (m === null) return NaN;
  const day = 86_400_000;
  const ofDay = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
  let ms = Math.floor(nearMs / day) * day + ofDay;
  if (ms - nearMs > day / 2) ms -= day;
  else if (nearMs - ms > day / 2) ms += day;
  return ms / 1000;
}

/** `/api/health` answer times of a step: p99 and max (ms) over the polls, and polls that got no answer. */
export interface HealthFigures {
  polls: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
}

/** Reduces health poll latencies (ms; NaN for a failed or timed-out poll). */
export function healthFigures(latenciesMs: readonly number[]): HealthFigures {
  const answered = latenciesMs.filter((l) => Number.isFinite(l));
  const d = describeSample(answered);
  return {
    polls: latenciesMs.length,
    p99Ms: d.p99,
    maxMs: d.max,
    failed: latenciesMs.length - answered.length,
  };
}

/** Everything one step measured. */
export interface StepResult {
  plan: StepPlan;
  /** 'no client', or 'page + WS' (the dashboard in Chromium and one WebSocket client). */
  clients: 'none' | 'page+ws';
  replay: ReplayReport | undefined;
  delta: StatsCounters;
  /** Seconds the daemon kept decoding after tcpreplay finished (its backlog), NaN when it never settled. */
  drainS: number;
  /** Daemon CPU (all threads) over the step, in cores (CPU s ÷ wall s). */
  daemonCores: number;
  /**
   * The same for the daemon's main thread and its decoding worker, the whole machine (every process, other
   * users' included), Chromium (all its processes) and the bench itself (its WebSocket client); NaN when
   * not measured.
   */
  cores?: { main: number; worker: number; machine: number; chromium: number; bench: number };
  /** The daemon's own figures polled during the step: largest decoder lag (ms), least stream share. */
  decoder?: { lagMaxMs: number; shareMin: number };
  health: HealthFigures;
  ws?: WsCounts;
  page?: PageFigures;
  /** The page's tab switches during the replay (a tour of every view and back to Live). */
  switches?: ViewSwitch[];
  /** Why a part of the step failed (daemon exit, page crash), or ''. */
  note: string;
}

/** Headers of the load table. */
export const LOAD_HEADERS = [
  'step',
  'clients',
  'offered Mbit/s',
  'offered msgs/s',
  'packets / sent',
  'decoded / in file',
  'libpcap drops',
  'decoder drops',
  'malformed',
  'drain s',
  'daemon cores',
  'WS records (matched/sent)',
  'long tasks (max ms)',
  'slowest tab switch ms',
  'Live lag max/end s',
  'timer late max ms',
  '/api/health p99 (max) ms',
  'main / worker cores',
  'machine / chromium / bench cores',
  'decoder lag max ms (stream share min)',
  'notes',
] as const;

function percent(part: number, whole: number): string {
  return whole > 0 && Number.isFinite(part) ? `${((100 * part) / whole).toFixed(1)} %` : '-';
}

/** "Channels 123" for the slowest switch of a tour, "failed" when it never painted; '' without a tour. */
function switchCell(switches: readonly ViewSwitch[] | undefined): string {
  const slowest = switches === undefined ? undefined : slowestSwitch(switches);
  if (slowest === undefined) return '';
  const label = slowest.view.charAt(0).toUpperCase() + slowest.view.slice(1);
  return Number.isNaN(slowest.ms) ? `${label} failed` : `${label} ${thousands(slowest.ms)}`;
}

/** The cells of one step's row. */
export function loadCells(r: StepResult): string[] {
  const seconds = r.replay?.seconds ?? NaN;
  const mbit = r.replay !== undefined && seconds > 0 ? (r.replay.bytes * 8) / 1e6 / seconds : NaN;
  const msgsPerS = seconds > 0 ? r.plan.expectedMessages / seconds : NaN;
  const d = r.delta;
  // A few more than offered happen (a Malformed record where a live stream differs from the file); many
  // more means traffic from elsewhere got in.
  const extra = d.messages > r.plan.expectedMessages * 1.001 ? ' (more than offered: other traffic?)' : '';
  const ws = r.ws;
  const wsCell =
    ws === undefined
      ? ''
      : `${thousands(ws.records)} (${percent(ws.records, d.messages)})` +
        (Number.isNaN(ws.matched) ? '' : `, ${thousands(ws.matched)}/${thousands(ws.sent)}`) +
        (ws.dropped > 0 ? `, ${thousands(ws.dropped)} dropped` : '');
  const p = r.page;
  const notes = [r.note];
  if (r.plan.loops > 1) notes.push(`${r.plan.loops} passes`);
  if (r.replay !== undefined && r.replay.failedPackets > 0) notes.push(`${thousands(r.replay.failedPackets)} not sent`);
  if (p !== undefined && p.samplingSamples > 0) notes.push(`page sampling ${percent(p.samplingSamples, p.samples)}`);
  if (p !== undefined && Number.isFinite(p.pageLagMaxMs))
    notes.push(`page says lag ≤ ${fixed(p.pageLagMaxMs / 1000, 1)} s`);
  if (p !== undefined && p.lagP50S !== undefined && Number.isFinite(p.lagP50S))
    notes.push(`lag p50 ${fixed(p.lagP50S, 2)} s`);
  if (p !== undefined && p.lagMaxAtS !== undefined && Number.isFinite(p.lagMaxAtS))
    notes.push(`lag max ${fixed(p.lagMaxAtS, 1)} s into the step`);
  if (p !== undefined) notes.push(stagesNote(p.stages ?? []));
  if (p !== undefined) notes.push(stagesNote(p.startStages ?? [], `first ${FLOOD_START_MS / 1000} s`));
  const back = r.switches?.find((sw) => sw.view === 'live');
  if (back !== undefined) notes.push(`back to Live ${Number.isNaN(back.ms) ? 'failed' : `${thousands(back.ms)} ms`}`);
  if (r.health.failed > 0) notes.push(`${r.health.failed} health polls unanswered`);
  return [
    stepLabel(r.plan.step),
    r.clients === 'none' ? 'none' : 'page + WS',
    fixed(mbit, 0),
    thousands(msgsPerS),
    `${thousands(d.packets)} / ${thousands(r.replay?.packets ?? NaN)}`,
    `${thousands(d.messages)} / ${thousands(r.plan.expectedMessages)} (${percent(d.messages, r.plan.expectedMessages)})${extra}`,
    thousands(d.captureDropped),
    thousands(d.decoderDropped),
    thousands(d.malformed),
    fixed(r.drainS, 1),
    fixed(r.daemonCores, 2),
    wsCell,
    p === undefined ? '' : `${p.longTasks} (${thousands(p.longestTaskMs)})`,
    switchCell(r.switches),
    p === undefined ? '' : `${fixed(p.lagMaxS, 1)} / ${fixed(p.lagEndS, 1)}`,
    p === undefined ? '' : thousands(p.timerLateMaxMs),
    `${fixed(r.health.p99Ms, 0)} (${fixed(r.health.maxMs, 0)})`,
    r.cores === undefined ? '' : `${fixed(r.cores.main, 2)} / ${fixed(r.cores.worker, 2)}`,
    r.cores === undefined
      ? ''
      : `${fixed(r.cores.machine, 2)} / ${fixed(r.cores.chromium, 2)} / ${fixed(r.cores.bench, 2)}`,
    r.decoder === undefined
      ? ''
      : `${thousands(r.decoder.lagMaxMs)}` +
        (Number.isFinite(r.decoder.shareMin) ? ` (${fixed(r.decoder.shareMin, 3)})` : ''),
    notes.filter(Boolean).join('; '),
  ];
}

/** The load table (Markdown). */
export function renderLoadTable(results: readonly StepResult[]): string {
  return renderGrid(LOAD_HEADERS, results.map(loadCells));
}

/** The first step where the daemon lost messages, drops or fell behind, and why in a few words; undefined if none. */
export function firstBreak(results: readonly StepResult[]): { result: StepResult; why: string } | undefined {
  for (const r of results) {
    const why: string[] = [];
    const d = r.delta;
    if (d.captureDropped > 0) why.push(`libpcap dropped ${thousands(d.captureDropped)}`);
    if (d.decoderDropped > 0) why.push(`decoder dropped ${thousands(d.decoderDropped)} frames`);
    if (d.messages < r.plan.expectedMessages)
      why.push(`decoded ${percent(d.messages, r.plan.expectedMessages)} of the messages`);
    if (!Number.isFinite(r.drainS) || r.drainS > 2) why.push('kept decoding long after the replay (backlog)');
    if (why.length > 0) return { result: r, why: why.join(', ') };
  }
  return undefined;
}

/** A `.cpuprofile` (V8's CPU profile format), as far as the summary reads it. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** One function's share of a profile. */
export interface HotFunction {
  name: string;
  /** Self time, ms, and its share of the profiled time. */
  selfMs: number;
  share: number;
}

/**
 * The functions with the most self time (same name and location summed over call paths), biggest first.
 * `(idle)` is left out: it is the thread waiting, not working.
 */
export function hotFunctions(profile: CpuProfile, top: number): { busyShare: number; functions: HotFunction[] } {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    // A sample's time is the gap to the next one (V8 writes the gap before each sample).
    const us = deltas[i + 1] ?? 0;
    byNode.set(id, (byNode.get(id) ?? 0) + Math.max(0, us));
  }
  const totalUs = Math.max(1, profile.endTime - profile.startTime);
  const byName = new Map<string, number>();
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const file =
      f.url === '' ? '' : ` ${f.url.replace(/^.*\/packages\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
    const name = `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`;
    byName.set(name, (byName.get(name) ?? 0) + us);
  }
  const functions = [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / totalUs }));
  return { busyShare: 1 - idleUs / totalUs, functions };
}
