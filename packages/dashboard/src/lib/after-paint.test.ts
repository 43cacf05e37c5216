import { describe, expect, it } from 'vitest';
import { afterPaint, FIRST_PIECE_FRAMES, PaintQueue, type PaintTimers } from './after-paint.js';

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

describe('afterPaint over several frames', () => {
  it('waits for the given number of frames, then a task', () => {
    const timers = manual();
    const ran: string[] = [];
    afterPaint(() => ran.push('piece'), timers, 2);
    timers.frame();
    timers.tasks();
    expect(ran).toEqual([]);
    timers.frame();
    expect(ran).toEqual([]);
    timers.tasks();
    expect(ran).toEqual(['piece']);
  });

  it('cancels between the frames', () => {
    const timers = manual();
    const ran: number[] = [];
    const cancel = afterPaint(() => ran.push(1), timers, 2);
    timers.frame();
    cancel();
    timers.frame();
    timers.tasks();
    expect(ran).toEqual([]);
  });
});

describe('PaintQueue', () => {
  /** The frames a view's first piece waits for: the view's first and the one its main table's rows come in. */
  function paintFirst(timers: ReturnType<typeof manual>): void {
    for (let i = 0; i < FIRST_PIECE_FRAMES; i++) timers.frame();
  }

  it('runs one piece per task: the first after the frames of the view and its main table, then one a frame', () => {
    const timers = manual();
    const queue = new PaintQueue(timers);
    const ran: string[] = [];
    queue.add(() => ran.push('audits'));
    queue.add(() => ran.push('storms'));
    queue.add(() => ran.push('chart'));
    timers.tasks();
    expect(ran).toEqual([]);
    // Not after the view's first frame: the main table's rows come in the next one.
    timers.frame();
    timers.tasks();
    expect(ran).toEqual([]);
    timers.frame();
    expect(timers.queued()).toBe(1);
    timers.tasks();
    expect(ran).toEqual(['audits']);
    // The next piece needs a frame of its own: the browser paints what the first one rendered.
    timers.tasks();
    expect(ran).toEqual(['audits']);
    timers.frame();
    timers.tasks();
    expect(ran).toEqual(['audits', 'storms']);
    timers.frame();
    timers.tasks();
    expect(ran).toEqual(['audits', 'storms', 'chart']);
    expect(queue.size).toBe(0);
    // The next view's first piece waits for its frames again.
    queue.add(() => ran.push('next view'));
    timers.frame();
    timers.tasks();
    expect(ran).toHaveLength(3);
    timers.frame();
    timers.tasks();
    expect(ran.at(-1)).toBe('next view');
  });

  it('skips a piece taken out, whether it waits at the head or behind others', () => {
    const timers = manual();
    const queue = new PaintQueue(timers);
    const ran: number[] = [];
    const first = queue.add(() => ran.push(1));
    const second = queue.add(() => ran.push(2));
    queue.add(() => ran.push(3));
    second();
    paintFirst(timers);
    first();
    // The task booked for the first piece, after the painted frames, runs the next one still waiting.
    timers.tasks();
    expect(ran).toEqual([3]);
    paintFirst(timers);
    timers.tasks();
    expect(ran).toEqual([3]);
  });

  it('books nothing once every piece is taken out, and goes on after a piece that throws', () => {
    const timers = manual();
    const queue = new PaintQueue(timers);
    queue.add(() => undefined)();
    paintFirst(timers);
    expect(timers.queued()).toBe(0);
    const ran: number[] = [];
    queue.add(() => {
      throw new Error('a view piece failed');
    });
    queue.add(() => ran.push(2));
    paintFirst(timers);
    expect(() => timers.tasks()).toThrow('a view piece failed');
    timers.frame();
    timers.tasks();
    expect(ran).toEqual([2]);
  });
});
