import { describe, expect, it } from 'vitest';
import { firstRows } from './bounded.js';
import { Analyzer } from './report.js';
import { STEP_ITEMS, runSteps, topSteps } from './steps.js';
import type { AnalysisRecord } from './record.js';

/** A deterministic pseudo-random sequence (no Math.random in tests). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('topSteps', () => {
  it('gives what a stable sort then a cut gives, ties in their original order, for every limit', () => {
    const next = lcg(7);
    const items = Array.from({ length: 5000 }, (_, i) => ({ i, count: Math.floor(next() * 40) }));
    const byCount = (a: { count: number }, b: { count: number }): number => b.count - a.count;
    for (const limit of [0, 1, 7, 100, 4999, 5000, 6000]) {
      const expected = firstRows([...items], limit, byCount, 3);
      expect(runSteps(topSteps(items, limit, byCount, 3))).toEqual(expected);
    }
  });

  it('pauses every STEP_ITEMS items', () => {
    const items = Array.from({ length: 10 * STEP_ITEMS }, (_, i) => i);
    const steps = topSteps(items, 10, (a, b) => b - a);
    let pauses = 0;
    for (let r = steps.next(); r.done !== true; r = steps.next()) pauses += 1;
    expect(pauses).toBe(10);
  });
});

describe('Analyzer.reportSteps', () => {
  it('pauses inside the per-PV sections and ends with the report report() gives', () => {
    const analyzer = new Analyzer();
    for (let i = 0; i < 20_000; i++) {
      analyzer.add({
        frame: i,
        timestamp: 1_700_000_000 + i * 1e-3,
        src: '10.0.0.5',
        dst: '10.0.0.255',
        transport: { protocol: 'udp', sport: 40000, dport: 5064 },
        role: 'request',
        pv: `PV:${i % 5000}`,
        command: { name: 'SearchRequest', pv: `PV:${i % 5000}`, cid: i },
      } as unknown as AnalysisRecord);
    }
    const steps = analyzer.reportSteps(['search_storms', 'never_found']);
    let pauses = 0;
    let result = steps.next();
    while (result.done !== true) {
      pauses += 1;
      result = steps.next();
    }
    expect(pauses).toBeGreaterThan(5);
    expect(result.value).toEqual(analyzer.report(['search_storms', 'never_found']));
    expect(result.value.search_storms?.length).toBeGreaterThan(0);
  });
});
