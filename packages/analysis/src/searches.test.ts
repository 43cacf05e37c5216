import { describe as suite, expect, it } from 'vitest';
import { Analyzer } from './report.js';
import { outlierLimit } from './searches.js';
import { rec } from './test-support/records.js';

const CLIENT = '10.0.0.5:40000';
const OTHER_CLIENT = '10.0.0.6:41000';
const BROADCAST = '10.0.0.255:5064';

function search(t: number, pv: string, cid: number, from = CLIENT) {
  return rec(t, from, BROADCAST, { name: 'SearchRequest', id: 6, pv: pv, cid, version: 13, reply: 5 }, { pv });
}

function reply(t: number, serverIp: string, pv: string, cid: number, to = CLIENT, ip = '255.255.255.255', port = 5064) {
  return rec(t, `${serverIp}:5064`, to, { name: 'SearchResponse', id: 6, port, ip, cid, version: 13 }, { pv });
}

suite('search analysis', () => {
  it('flags a PV searched over and over without an answer and lists it as never found', () => {
    const a = new Analyzer();
    for (let i = 0; i < 30; i++) a.add(search(100 + i / 3, 'missing:pv', 7));
    a.add(search(100, 'ok:pv', 8));
    a.add(reply(100.001, '10.0.0.9', 'ok:pv', 8));
    const r = a.report();
    expect(r.never_found).toEqual([
      { pv: 'missing:pv', count: 30, first_seen: 100, last_seen: 100 + 29 / 3, clients: [CLIENT], hosts: ['10.0.0.5'] },
    ]);
    const storm = r.search_storms!.find((s) => s.pv === 'missing:pv')!;
    expect(storm.count).toBe(30);
    expect(storm.rate).toBeCloseTo(30 / (29 / 3), 6);
    expect(storm.flagged).toBe(true);
    expect(storm.retries).toBe(30);
    expect(storm.unanswered_ratio).toBe(1);
    expect(storm.oldest_unanswered_age).toBeCloseTo(29 / 3, 6);
    const ok = r.search_storms!.find((s) => s.pv === 'ok:pv')!;
    expect(ok).toMatchObject({
      answered: true,
      answers: 1,
      flagged: false,
      oldest_unanswered_age: null,
      unanswered_ratio: 0,
    });
  });

  it('flags a client that searches far more than the others', () => {
    const a = new Analyzer({ search: { clientRateThreshold: 1000 } });
    for (let c = 0; c < 5; c++) a.add(search(10, `pv${c}`, c, `10.0.1.${c + 1}:5000`));
    for (let i = 0; i < 200; i++) a.add(search(10 + i * 0.01, `flood${i}`, 100 + i, OTHER_CLIENT));
    const flagged = a.report().search_clients!.filter((c) => c.flagged);
    expect(flagged.map((c) => `${c.kind} ${c.client}`).sort()).toEqual([`host 10.0.0.6`, `process ${OTHER_CLIENT}`]);
    // Spelt right: "the other processes", never "processs".
    expect(flagged.flatMap((c) => c.reasons).sort()).toEqual([
      expect.stringMatching(/^200 searches, far above the other hosts \(limit /),
      expect.stringMatching(/^200 searches, far above the other processes \(limit /),
    ]);
  });

  it('tells two servers answering one PV (duplicate) from one server reached twice (multi-path)', () => {
    const a = new Analyzer();
    a.add(search(1, 'dup:pv', 1));
    a.add(reply(1.001, '10.0.0.9', 'dup:pv', 1));
    a.add(reply(1.002, '10.0.0.10', 'dup:pv', 1));
    a.add(search(2, 'mp:pv', 2));
    a.add(reply(2.001, '10.0.0.9', 'mp:pv', 2, CLIENT, '10.0.0.9', 5064));
    a.add(reply(2.003, '10.0.1.9', 'mp:pv', 2, CLIENT, '10.0.0.9', 5064));
    const dups = a.report().duplicates!;
    expect(dups).toEqual([
      {
        pv: 'dup:pv',
        servers: ['10.0.0.9:5064', '10.0.0.10:5064'],
        verdict: 'duplicate',
        answers: [
          { server: '10.0.0.9:5064', via: ['10.0.0.9:5064'], first_seen: 1.001, count: 1 },
          { server: '10.0.0.10:5064', via: ['10.0.0.10:5064'], first_seen: 1.002, count: 1 },
        ],
      },
      {
        pv: 'mp:pv',
        servers: ['10.0.0.9:5064'],
        verdict: 'multi-path',
        answers: [{ server: '10.0.0.9:5064', via: ['10.0.0.9:5064', '10.0.1.9:5064'], first_seen: 2.001, count: 2 }],
      },
    ]);
  });

  it('does not call a PV duplicated when one server answers each retry once', () => {
    const a = new Analyzer();
    a.add(search(1, 'pv', 1));
    a.add(reply(1.001, '10.0.0.9', 'pv', 1));
    a.add(search(5, 'pv', 1));
    a.add(reply(5.001, '10.0.0.9', 'pv', 1));
    expect(a.report().duplicates).toEqual([]);
  });
});

suite('outlier limit', () => {
  it('lets several PVs storming together stand out from quiet ones (the classic mean + 3σ alone does not)', () => {
    const counts = [27, 27, 27, 1, 1, 1, 1, 1, 1, 1, 1];
    const mean = counts.reduce((a, b) => a + b) / counts.length;
    const std = Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / (counts.length - 1));
    expect(27).toBeLessThan(mean + 3 * std);
    expect(outlierLimit(counts, 3)).toBeLessThan(27);
  });

  it('flags nothing in an even population or a broad natural spread', () => {
    expect(outlierLimit([12, 12, 12, 12, 12, 12], 3)).toBeGreaterThanOrEqual(12);
    const spread = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(outlierLimit(spread, 3)).toBeGreaterThan(20);
  });

  it('needs a population to compare with', () => {
    expect(outlierLimit([1, 100, 1], 3)).toBe(Number.POSITIVE_INFINITY);
  });

  it('orders tied PVs by code units, whatever the locale (B before a, as `<` does)', () => {
    const a = new Analyzer();
    for (const pv of ['a:pv', 'B:pv', 'b:pv', 'A:pv', '_:pv']) a.add(search(1, pv, 1));
    expect(a.report().never_found!.map((e) => e.pv)).toEqual(['A:pv', 'B:pv', '_:pv', 'a:pv', 'b:pv']);
  });
});
