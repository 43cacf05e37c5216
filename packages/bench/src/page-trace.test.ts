import { describe, expect, it } from 'vitest';
import { longTasksOfTrace, renderTraceTasks } from './page-trace.js';
import type { TraceEvent } from './page-trace.js';

const PID = 7;
const MAIN = 1;
const WORKER = 2;

function x(name: string, ts: number, dur: number, tid = MAIN): TraceEvent {
  return { name, ph: 'X', pid: PID, tid, ts, dur };
}

/** A renderer whose main thread ran one 120 ms task (script with a forced layout, then GC) and a 10 ms one. */
function trace(): TraceEvent[] {
  return [
    { name: 'thread_name', ph: 'M', pid: PID, tid: MAIN, ts: 0, args: { name: 'CrRendererMain' } },
    { name: 'thread_name', ph: 'M', pid: PID, tid: WORKER, ts: 0, args: { name: 'DedicatedWorker thread' } },
    // The thread ran 80 ms of the task's 120: it waited 40 ms for a core.
    { ...x('RunTask', 1000, 120_000), tdur: 80_000 },
    x('FunctionCall', 1000, 100_000),
    x('Layout', 61_000, 30_000),
    x('MinorGC', 101_000, 15_000),
    // The tour's mark of a switch, set inside the long task (the click runs in it).
    { name: 'ca-shark:switch:channels', ph: 'R', pid: PID, tid: MAIN, ts: 2000 },
    x('RunTask', 200_000, 10_000),
    x('FunctionCall', 200_000, 10_000),
    // A long task of the worker is not the page's main thread.
    x('RunTask', 300_000, 500_000, WORKER),
    { name: 'Profile', ph: 'P', pid: PID, tid: MAIN, ts: 0, id: '0x1', args: { data: { startTime: 0 } } },
    {
      name: 'ProfileChunk',
      ph: 'P',
      pid: PID,
      // The profiler's own thread sends the chunks.
      tid: 3,
      ts: 0,
      id: '0x1',
      args: {
        data: {
          cpuProfile: {
            nodes: [
              { id: 1, callFrame: { functionName: '(root)' } },
              {
                id: 2,
                callFrame: { functionName: 'render', url: 'http://h/assets/index.js', lineNumber: 9, columnNumber: 2 },
                parent: 1,
              },
              { id: 3, callFrame: { functionName: '', url: 'http://h/assets/index.js', lineNumber: 0 }, parent: 1 },
            ],
            // 20 ms, then 40 ms in render, 40 ms in the anonymous function; one sample after the task.
            samples: [2, 2, 3, 2],
          },
          timeDeltas: [21_000, 40_000, 40_000, 100_000],
        },
      },
    },
  ];
}

describe('longTasksOfTrace', () => {
  it('finds the main thread tasks over the threshold and splits them into self time and JS functions', () => {
    const tasks = longTasksOfTrace({ traceEvents: trace() }, 50);
    expect(tasks).toHaveLength(1);
    const [task] = tasks;
    expect(task?.ms).toBe(120);
    expect(task?.startMs).toBe(1);
    expect(task?.cpuMs).toBe(80);
    expect(task?.events).toEqual([
      { name: 'FunctionCall', ms: 70 },
      { name: 'Layout', ms: 30 },
      { name: 'MinorGC', ms: 15 },
      { name: 'RunTask', ms: 5 },
    ]);
    expect(task?.functions).toEqual([
      { name: 'render index.js:10:3', ms: 60 },
      { name: '(anonymous) index.js:1:1', ms: 40 },
    ]);
    expect(task?.afterSwitch).toEqual({ view: 'channels', ms: -1 });
    expect(renderTraceTasks(tasks)).toContain(
      'task at 0.00 s: 120 ms, 80 ms of it on a CPU (-1 ms after the click on channels)',
    );
  });

  it('returns nothing without a renderer main thread', () => {
    expect(longTasksOfTrace(trace().slice(1), 50)).toEqual([]);
  });
});
