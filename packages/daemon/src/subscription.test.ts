import { describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { parseSubscription } from './plugins/ws.js';
import { compileSubscription } from './server.js';

type DecodedRecord = Parameters<typeof toWire>[0];

function search(pv: string): ReturnType<typeof toWire> {
  return toWire({ frame: 1, timestamp: 1, src: '10.0.0.5', dst: '10.0.0.255', pv, command: { name: 'SearchRequest' } } as unknown as DecodedRecord);
}

describe('compileSubscription', () => {
  it('means everything for an empty filter', () => {
    expect(compileSubscription(parseSubscription({}))).toBeUndefined();
  });

  it('matches a pathological glob from a client against long PV names off the wire in bounded CPU time', () => {
    // S3 of issue 13: this glob against 60 a's took over 10 s as a RegExp, and any client can send it.
    const keep = compileSubscription(parseSubscription({ pv: ['*a*a*a*a*a*a*a*a*b', '?*a*a*a*a*a*a*a*a*[b]'] }));
    const records = [60, 1000, 16_000].map((n) => search('a'.repeat(n)));
    const start = process.cpuUsage();
    for (let i = 0; i < 20; i++) for (const r of records) expect(keep?.(r)).toBe(false);
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });

  it('refuses filters over the limits with a FilterError that quotes a short prefix', () => {
    const refusal = (filter: unknown): string => {
      try {
        compileSubscription(parseSubscription(filter));
      } catch (err) {
        if (err instanceof Error && err.name === 'FilterError') return err.message;
        throw err;
      }
      return '';
    };
    expect(refusal({ pv: [`${'a'.repeat(5000)}*`] })).toMatch(/^PV glob "a{40}…" is longer than 256 characters$/);
    expect(refusal({ pv: ['{a,b}'.repeat(8)] })).toMatch(/more than 64 alternatives/);
    expect(refusal({ pv: Array.from({ length: 33 }, (_, i) => `x${i}`) })).toMatch(/more than 32 PV globs/);
    const unknown = refusal({ command: ['z'.repeat(1000)] });
    expect(unknown).toMatch(/^unknown command "z{40}…"/);
    expect(unknown).not.toContain('z'.repeat(41));
  });
});
