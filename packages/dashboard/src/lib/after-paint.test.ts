import { describe, expect, it } from 'vitest';
import { afterPaint, type PaintTimers } from './after-paint.js';

/** Timers that run only when the test says so: frames and timeouts in separate queues. */
function manual(): PaintTimers & { frame(): void; tasks(): void; queued(): number } {
  const frames = new Map<number, () => void>();
  const timeouts = new Map<number, () => void>();
  let next = 1;
  return {
    requestAnimationFrame(fn) {
      frames.set(next, fn);
      return next++;
    },
    cancelAnimationFrame(id) {
      frames.delete(id);
    },
    setTimeout(fn) {
      timeouts.set(next, fn);
      return next++;
    },
    clearTimeout(id) {
      timeouts.delete(id as number);
    },
    frame() {
      const due = [...frames.values()];
      frames.clear();
      for (const f of due) f();
    },
    queued() {
      return timeouts.size;
    },
    tasks() {
      const due = [...timeouts.values()];
      timeouts.clear();
      for (const f of due) f();
    },
  };
}

describe('afterPaint', () => {
  it('runs the work in a task after the next frame, not before', () => {
    const timers = manual();
    const ran: string[] = [];
    afterPaint(() => ran.push('chart'), timers);
    timers.tasks();
    expect(ran).toEqual([]);
    timers.frame();
    expect(ran).toEqual([]);
    timers.tasks();
    expect(ran).toEqual(['chart']);
  });

  it('gives each piece of work a task of its own', () => {
    const timers = manual();
    const ran: number[] = [];
    for (let i = 0; i < 3; i++) afterPaint(() => ran.push(i), timers);
    timers.frame();
    expect(timers.queued()).toBe(3);
    timers.tasks();
    expect(ran).toEqual([0, 1, 2]);
  });

  it('does nothing once cancelled, before or after the frame', () => {
    const timers = manual();
    const ran: number[] = [];
    afterPaint(() => ran.push(1), timers)();
    const cancelAfterFrame = afterPaint(() => ran.push(2), timers);
    timers.frame();
    cancelAfterFrame();
    timers.tasks();
    timers.frame();
    timers.tasks();
    expect(ran).toEqual([]);
  });
});
