/**
 * A Chromium trace of the dashboard over a load step (`load.js --trace DIR`) and what its long tasks were:
 * for each main-thread task over a threshold, the self time per trace event kind (script, style
 * recalculation, layout, paint, GC, ...) and, from the V8 sampling profiler recorded in the same trace, the
 * JavaScript functions that ran in it (issue 12: no main-thread task over 100 ms).
 */
import type { Browser, Page } from 'playwright-core';

/** Timeline events, the V8 sampling profiler (JS functions per task) and GC events. */
export const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-v8.cpu_profiler',
  'v8',
  'v8.execute',
  'blink.user_timing',
  'toplevel',
];

/** Starts a trace of `page` (one trace per browser at a time). */
export function startPageTrace(browser: Browser, page: Page): Promise<void> {
  return browser.startTracing(page, { categories: TRACE_CATEGORIES, screenshots: false });
}

/** Ends the trace started by {@link startPageTrace} and returns its JSON. */
export async function stopPageTrace(browser: Browser): Promise<Buffer> {
  return browser.stopTracing();
}

/** One event of Chromium's trace event format (the fields used here). */
export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  /** Microseconds. */
  ts: number;
  /** Microseconds, complete ('X') events only. */
  dur?: number;
  /** Microseconds the thread ran (on a CPU) in a complete event, where the trace records thread time. */
  tdur?: number;
  id?: string;
  args?: Record<string, unknown>;
}

/** A V8 CPU profile node as trace 'ProfileChunk' events carry it. */
interface ProfileNode {
  id: number;
  callFrame: { functionName?: string; url?: string; lineNumber?: number; columnNumber?: number };
  parent?: number;
}

/** Milliseconds of self time under one name. */
export interface Share {
  name: string;
  ms: number;
}

/** One long main-thread task of the page. */
export interface TraceLongTask {
  /** Milliseconds since the trace's first event. */
  startMs: number;
  ms: number;
  /**
   * Milliseconds the main thread ran on a CPU in the task (the trace's thread time), when recorded: on a
   * machine whose cores are all busy, a task's wall time is mostly waiting for one.
   */
  cpuMs?: number;
  /** Self time per event name (script, layout, GC, ...), largest first. */
  events: Share[];
  /** Sampled JavaScript self time per function (name url:line:column), largest first. */
  functions: Share[];
  /**
   * The latest of the bench's tab-switch marks (`performance.mark('ca-shark:switch:VIEW')`) at or before the
   * task's end: the view switched to and how many ms after its click the task began (negative: the task
   * holds the click).
   */
  afterSwitch?: { view: string; ms: number };
}

/** Prefix of the user-timing marks the bench's view tour sets before each click. */
export const SWITCH_MARK = 'ca-shark:switch:';

/** The top-level task event of Chromium's schedulers (older builds name it differently). */
const TASK_NAMES = new Set(['RunTask', 'ThreadControllerImpl::RunTask', 'ThreadControllerImpl::DoWork']);

function top(map: Map<string, number>, n: number): Share[] {
  return [...map]
    .map(([name, us]) => ({ name, ms: us / 1000 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

function frameName(node: ProfileNode): string {
  const f = node.callFrame;
  const where =
    f.url === undefined || f.url === ''
      ? ''
      : ` ${f.url.replace(/^.*\//, '')}:${(f.lineNumber ?? 0) + 1}:${(f.columnNumber ?? 0) + 1}`;
  return `${f.functionName === undefined || f.functionName === '' ? '(anonymous)' : f.functionName}${where}`;
}

/** The page's main thread: the thread named CrRendererMain that ran the most task time. */
function mainThread(events: readonly TraceEvent[]): { pid: number; tid: number } | undefined {
  const renderers = new Set<string>();
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name' && (e.args?.['name'] as string | undefined) === 'CrRendererMain')
      renderers.add(`${e.pid}:${e.tid}`);
  const busy = new Map<string, number>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && TASK_NAMES.has(e.name) && renderers.has(key))
      busy.set(key, (busy.get(key) ?? 0) + (e.dur ?? 0));
  }
  const best = [...busy].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (best === undefined) return undefined;
  const [pid, tid] = best.split(':').map(Number) as [number, number];
  return { pid, tid };
}

/** JavaScript samples of one thread's profile: [time in µs, leaf function]. */
function samples(events: readonly TraceEvent[], pid: number, tid: number): [number, string][] {
  const nodes = new Map<number, ProfileNode>();
  const out: [number, string][] = [];
  // A profile's chunks carry its nodes and samples in order; the chunk's time deltas continue the previous.
  // Chunks come from the profiler's own thread (v8:ProfEvntProc): they belong to the thread whose 'Profile'
  // event has their id.
  const clock = new Map<string, number>();
  for (const e of events) {
    if (e.pid !== pid) continue;
    const id = e.id ?? '';
    if (e.name === 'Profile' && e.tid === tid) {
      const start = (e.args?.['data'] as { startTime?: number } | undefined)?.startTime;
      clock.set(id, start ?? e.ts);
    } else if (e.name === 'ProfileChunk' && clock.has(id)) {
      const data = e.args?.['data'] as
        { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
      for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
      const ids = data?.cpuProfile?.samples ?? [];
      const deltas = data?.timeDeltas ?? [];
      let t = clock.get(id) as number;
      for (let i = 0; i < ids.length; i++) {
        t += deltas[i] ?? 0;
        const node = nodes.get(ids[i] as number);
        if (node !== undefined) out.push([t, frameName(node)]);
      }
      clock.set(id, t);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/**
 * The page's main-thread tasks of at least `minMs`, each with its self time per event name and per sampled
 * JavaScript function.
 */
export function longTasksOfTrace(
  trace: { traceEvents?: TraceEvent[] } | TraceEvent[],
  minMs: number,
  n = 8,
): TraceLongTask[] {
  const events = Array.isArray(trace) ? trace : (trace.traceEvents ?? []);
  const main = mainThread(events);
  if (main === undefined) return [];
  const origin = events.reduce((m, e) => (e.ph !== 'M' && e.ts < m ? e.ts : m), Infinity);
  const own = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const js = samples(events, main.pid, main.tid);
  const marks = events
    .filter((e) => e.pid === main.pid && e.name.startsWith(SWITCH_MARK))
    .map((e) => ({ view: e.name.slice(SWITCH_MARK.length), ts: e.ts }))
    .sort((a, b) => a.ts - b.ts);
  const tasks: TraceLongTask[] = [];
  let i = 0;
  while (i < own.length) {
    const task = own[i] as TraceEvent;
    const end = task.ts + (task.dur ?? 0);
    let j = i + 1;
    while (j < own.length && (own[j] as TraceEvent).ts < end) j++;
    if (TASK_NAMES.has(task.name) && (task.dur ?? 0) >= minMs * 1000) {
      // Self time: each event's duration less that of the events nested directly in it.
      const self = new Map<string, number>();
      const stack: { e: TraceEvent; end: number; child: number }[] = [];
      const close = (upTo: number): void => {
        while (stack.length > 0 && (stack.at(-1) as { end: number }).end <= upTo) {
          const done = stack.pop() as { e: TraceEvent; end: number; child: number };
          self.set(done.e.name, (self.get(done.e.name) ?? 0) + (done.e.dur ?? 0) - done.child);
          const parent = stack.at(-1);
          if (parent !== undefined) parent.child += done.e.dur ?? 0;
        }
      };
      for (let k = i; k < j; k++) {
        const e = own[k] as TraceEvent;
        close(e.ts);
        stack.push({ e, end: e.ts + (e.dur ?? 0), child: 0 });
      }
      close(Infinity);
      const fns = new Map<string, number>();
      let prev = task.ts;
      for (const [t, name] of js) {
        if (t < task.ts) continue;
        if (t > end) break;
        fns.set(name, (fns.get(name) ?? 0) + (t - prev));
        prev = t;
      }
      const mark = marks.findLast((m) => m.ts <= end);
      tasks.push({
        startMs: (task.ts - origin) / 1000,
        ms: (task.dur ?? 0) / 1000,
        ...(task.tdur === undefined ? {} : { cpuMs: task.tdur / 1000 }),
        events: top(self, n),
        functions: top(fns, n),
        ...(mark === undefined ? {} : { afterSwitch: { view: mark.view, ms: (task.ts - mark.ts) / 1000 } }),
      });
    }
    // Tasks do not nest; events inside this one are not tasks of their own.
    i = TASK_NAMES.has(task.name) ? j : i + 1;
  }
  return tasks;
}

/** A readable report of {@link longTasksOfTrace}. */
export function renderTraceTasks(tasks: readonly TraceLongTask[]): string {
  const lines: string[] = [];
  for (const t of tasks) {
    const after =
      t.afterSwitch === undefined
        ? ''
        : ` (${t.afterSwitch.ms.toFixed(0)} ms after the click on ${t.afterSwitch.view})`;
    const cpu = t.cpuMs === undefined ? '' : `, ${t.cpuMs.toFixed(0)} ms of it on a CPU`;
    lines.push(`task at ${(t.startMs / 1000).toFixed(2)} s: ${t.ms.toFixed(0)} ms${cpu}${after}`);
    lines.push(`  events:    ${t.events.map((s) => `${s.name} ${s.ms.toFixed(0)}`).join(', ')}`);
    for (const f of t.functions) lines.push(`  ${f.ms.toFixed(1).padStart(7)} ms  ${f.name}`);
  }
  return lines.join('\n');
}
