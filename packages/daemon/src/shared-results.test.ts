import { describe, expect, it } from 'vitest';
import { SharedResults } from './shared-results.js';

/** A computation the test settles by hand, counting how often it was started. */
function deferredCompute() {
  const started: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const compute = () => new Promise<string>((resolve, reject) => started.push({ resolve, reject }));
  return { started, compute };
}

describe('SharedResults', () => {
  it('gives concurrent requests for one key the same computation', async () => {
    const shared = new SharedResults(0);
    const { started, compute } = deferredCompute();
    const a = shared.get('report', compute);
    const b = shared.get('report', compute);
    expect(started).toHaveLength(1);
    started[0].resolve('R');
    expect(await a).toBe('R');
    expect(await b).toBe('R');
    // maxAge 0: once settled, the next request computes anew.
    void shared.get('report', compute);
    expect(started).toHaveLength(2);
  });

  it('serves a settled result again until it is maxAgeMs old', async () => {
    let clock = 1000;
    const shared = new SharedResults(1000, 64, () => clock);
    const { started, compute } = deferredCompute();
    const first = shared.get('k', compute);
    started[0].resolve('one');
    await first;
    clock += 999;
    expect(await shared.get('k', compute)).toBe('one');
    expect(started).toHaveLength(1);
    clock += 1;
    const second = shared.get('k', compute);
    expect(started).toHaveLength(2);
    started[1].resolve('two');
    expect(await second).toBe('two');
  });

  it('keeps different keys apart and never serves a failure again', async () => {
    const shared = new SharedResults(60_000);
    const { started, compute } = deferredCompute();
    const a = shared.get('a', compute);
    const b = shared.get('b', compute);
    expect(started).toHaveLength(2);
    started[0].reject(new Error('worker gone'));
    await expect(a).rejects.toThrow('worker gone');
    started[1].resolve('B');
    expect(await b).toBe('B');
    void shared.get('a', compute);
    expect(started).toHaveLength(3);
  });

  it('remembers at most maxKeys queries', async () => {
    const shared = new SharedResults(60_000, 2);
    const { started, compute } = deferredCompute();
    for (const key of ['a', 'b', 'c']) void shared.get(key, compute);
    for (const s of started) s.resolve('x');
    await Promise.resolve();
    void shared.get('b', compute);
    void shared.get('c', compute);
    expect(started).toHaveLength(3);
    void shared.get('a', compute);
    expect(started).toHaveLength(4);
  });

  it('serves a result up to staleMs past its age at once while one new computation replaces it', async () => {
    let clock = 0;
    const shared = new SharedResults(1000, 64, () => clock, 5000);
    const { started, compute } = deferredCompute();
    const first = shared.get('k', compute);
    started[0].resolve('one');
    await first;
    clock = 1500;
    // Stale: the old answer at once, one refresh started however many ask.
    expect(await shared.get('k', compute)).toBe('one');
    expect(await shared.get('k', compute)).toBe('one');
    expect(started).toHaveLength(2);
    started[1].resolve('two');
    await Promise.resolve();
    await Promise.resolve();
    expect(await shared.get('k', compute)).toBe('two');
    // A failed refresh keeps the old answer and lets the next caller try again.
    clock = 3000;
    expect(await shared.get('k', compute)).toBe('two');
    started[2].reject(new Error('busy'));
    await Promise.resolve();
    await Promise.resolve();
    expect(await shared.get('k', compute)).toBe('two');
    expect(started).toHaveLength(4);
    // Too old to serve: the caller waits for a new one.
    clock = 10_000;
    const late = shared.get('k', compute);
    expect(started).toHaveLength(5);
    started[4].resolve('three');
    expect(await late).toBe('three');
  });
});
