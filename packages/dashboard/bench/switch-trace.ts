/**
 * What each tab switch of the render bench cost the page's main thread, from a Chromium trace of the tour
 * (`render-bench.ts --trace`): wall time on a shared 2-core machine is mostly waiting for a core, the
 * trace's thread time (`tdur`) is what the page itself spent, so builds compare on it under any load.
 */
import { longTasksOfTrace } from '@ca-shark/bench/page-trace';

export { SWITCH_MARK } from '@ca-shark/bench/page-trace';

/** One switch of the tour as the trace saw it. */
export interface SwitchCost {
  view: string;
  /** Main-thread CPU ms of the task holding the click and the tasks that began within the window after it. */
  cpuMs: number;
  /** The longest of those tasks: wall ms and CPU ms. */
  longestMs: number;
  longestCpuMs: number;
  /** Self wall ms of style and layout (`UpdateLayoutTree`, `Layout`) over the window's tasks. */
  layoutMs: number;
  /** Self wall ms per event name over the window's tasks, largest first (Layout, FunctionCall, ...). */
  events: { name: string; ms: number }[];
}

/**
 * The cost of every switch marked in `trace` (the bench's `performance.mark(SWITCH_MARK + view)` before
 * each click): the main thread's task that holds the click and those that began up to `windowMs` after it
 * (and before the next click).
 */
export function switchCosts(trace: Parameters<typeof longTasksOfTrace>[0], windowMs: number): SwitchCost[] {
  const byClick = new Map<number, SwitchCost>();
  const self = new Map<SwitchCost, Map<string, number>>();
  // Every task (no minimum length), each with the latest click at or before its end.
  for (const t of longTasksOfTrace(trace, 0, Number.MAX_SAFE_INTEGER)) {
    const after = t.afterSwitch;
    // Negative: the task began before its click, and holds it (the tour clicks in a task of its own).
    if (after === undefined || after.ms >= windowMs) continue;
    const click = Math.round((t.startMs - after.ms) * 1000);
    let c = byClick.get(click);
    if (c === undefined) {
      c = { view: after.view, cpuMs: 0, longestMs: 0, longestCpuMs: 0, layoutMs: 0, events: [] };
      byClick.set(click, c);
      self.set(c, new Map());
    }
    c.cpuMs += t.cpuMs ?? t.ms;
    if (t.ms > c.longestMs) {
      c.longestMs = t.ms;
      c.longestCpuMs = t.cpuMs ?? 0;
    }
    const s = self.get(c) as Map<string, number>;
    for (const e of t.events) s.set(e.name, (s.get(e.name) ?? 0) + e.ms);
  }
  const costs = [...byClick].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  for (const c of costs) {
    const s = self.get(c) as Map<string, number>;
    c.layoutMs = (s.get('Layout') ?? 0) + (s.get('UpdateLayoutTree') ?? 0);
    c.events = [...s]
      .filter(([name]) => !name.includes('RunTask'))
      .map(([name, ms]) => ({ name, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5);
  }
  return costs;
}
