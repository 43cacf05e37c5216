import { describe as suite, expect, it } from 'vitest';
import { Analyzer, DEFAULT_REPORT_ROWS } from './report.js';
import { formatReport } from './report-text.js';
import { StatsCollector } from './stats.js';
import {
  channelFlood,
  circuitChurn,
  flowControlFlood,
  searchClientFlood,
  searchFlood,
  searchReply,
  searchReplyFlood,
} from './test-support/floods.js';

/** Long enough for the timeouts of a busy shared machine (the floods take seconds there). */
const FLOOD_TIMEOUT = 120_000;

suite('bounded analyses under floods', () => {
  it(
    'reports 300k searches for one PV with distinct CIDs (Math.max over a spread overflowed the stack)',
    { timeout: FLOOD_TIMEOUT },
    () => {
      const a = new Analyzer();
      for (const r of searchFlood(300_000)) a.add(r);
      const report = a.report();
      expect(report.search_storms).toHaveLength(1);
      expect(report.search_storms![0]).toMatchObject({ pv: 'flood:pv', count: 300_000, retries: 1, flagged: true });
      expect(report.never_found).toHaveLength(1);
      expect(formatReport(report)).toContain('flood:pv');
    },
  );

  it('lists the first 32 client processes and hosts of a PV searched by 5000 processes on 50 hosts', () => {
    const a = new Analyzer();
    for (const r of searchClientFlood(5000, 50)) a.add(r);
    const [row] = a.report(['never_found']).never_found!;
    expect(row.count).toBe(5000);
    expect(row.clients).toEqual(Array.from({ length: 32 }, (_, i) => `10.1.0.1:${40000 + i}`));
    // The hosts of all its clients (before, of its first 1024 processes only: 11 hosts here).
    expect(row.hosts).toEqual(Array.from({ length: 32 }, (_, i) => `10.1.${i}.1`));
    expect(a.report(['search_clients']).search_clients).toHaveLength(100);
  });

  it('spots a copied search reply after 5000 answered requests, remembering only the recent ones', () => {
    const a = new Analyzer();
    for (const r of searchReplyFlood(5000)) a.add(r);
    expect(a.report(['duplicates']).duplicates).toEqual([]);
    // The same reply to the last request again, 10 ms later over the same path: a copy (a second route).
    a.add(searchReply(4999e-2 + 11e-3, 4999));
    const [dup] = a.report(['duplicates']).duplicates!;
    expect(dup).toMatchObject({ pv: 'flood:pv', verdict: 'multi-path' });
    expect(dup.answers[0].count).toBe(5001);
    // The replies are 10 ms apart: a handful fall within the 50 ms copy window, the rest were dropped.
    type Searches = { pvs: { map: Map<string, { answers: Map<string, { lastByRequest: Map<string, number> }> }> } };
    const pv = (a as unknown as { searches: Searches }).searches.pvs.map.get('flood:pv')!;
    expect([...pv.answers.values()][0].lastByRequest.size).toBeLessThanOrEqual(64);
  });

  it(
    'keeps the latest flow-control periods of 200k EVENTS_OFF/ON toggles and counts the rest',
    { timeout: FLOOD_TIMEOUT },
    () => {
      const a = new Analyzer();
      for (const r of flowControlFlood(200_000)) a.add(r);
      const report = a.report(['flow_control']);
      expect(report.flow_control).toHaveLength(DEFAULT_REPORT_ROWS);
      expect(report.omitted).toEqual({ flow_control: 200_000 - DEFAULT_REPORT_ROWS });
      // The latest ones, oldest first.
      expect(report.flow_control!.at(-1)!.start).toBeCloseTo(199_999e-3, 6);
      expect(JSON.stringify(report).length).toBeLessThan(500_000);
      expect(formatReport(report)).toContain(`... and ${200_000 - 20} more`);
    },
  );

  it('keeps the busiest loads of 5000 closed circuits, the monitor-load table as if it kept them all', () => {
    const churn = [...circuitChurn(5000)];
    const closing = new Analyzer({ maxRows: 100 });
    const keeping = new Analyzer({ maxRows: 100 });
    for (const item of churn) {
      if ('close' in item) closing.closeCircuit(item.close, item.time, 'fin');
      else {
        closing.add(item);
        keeping.add(item);
      }
    }
    const table = closing.report(['monitor_load']);
    // Before, closed circuits stayed: the analyzer told of none keeps everything, and gives the same table.
    expect(table).toEqual(keeping.report(['monitor_load']));
    expect(table.monitor_load!.filter((r) => r.scope === 'subscription')).toHaveLength(50);
    // 50 PVs: all shown; 5000 subscriptions and 5000 circuits: 50 of each.
    expect(table.omitted).toEqual({ monitor_load: 2 * (5000 - 50) });
    const monitors = (
      closing as unknown as {
        monitors: { byCircuit: { map: Map<number, unknown> }; circuits: { map: Map<number, unknown> } };
      }
    ).monitors;
    expect(monitors.byCircuit.map.size).toBe(0);
    expect(monitors.circuits.map.size).toBe(0);
  });

  it('ends an EVENTS_OFF period when its circuit closes (it was listed as still off at the end)', () => {
    const a = new Analyzer();
    for (const item of circuitChurn(30)) {
      if ('close' in item) a.closeCircuit(item.close, item.time, 'fin');
      else a.add(item);
    }
    const rows = a.report(['flow_control']).flow_control!;
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatchObject({ circuit: 1, start: 0.6, end: 0.7 });
    expect(rows[0].duration).toBeCloseTo(0.1, 9);
    expect(rows.every((r) => r.end !== null)).toBe(true);
  });

  it('bounds every per-channel table of a 60k-channel flood', { timeout: FLOOD_TIMEOUT }, () => {
    const n = 60_000;
    const a = new Analyzer({ maxRows: 500 });
    for (const r of channelFlood(n)) a.add(r);
    a.closeCircuit(1, n, 'fin');
    const report = a.report();
    for (const key of [
      'channels',
      'writes',
      'redundant_subscriptions',
      'circuits',
      'slowest_pvs',
      'monitor_load',
    ] as const) {
      expect(report[key]!.length, key).toBeLessThanOrEqual(500);
    }
    expect(report.channels).toHaveLength(500);
    expect(report.omitted).toMatchObject({ channels: n - 500, writes: n - 500, redundant_subscriptions: n - 500 });
    // The latest channels, in id order.
    expect(report.channels!.at(-1)!.pv).toBe(`flood:${n - 1}`);
    expect(JSON.stringify(report).length).toBeLessThan(1_000_000);
  });

  it('bounds the stats lists of a channel flood and says how many it left out', { timeout: FLOOD_TIMEOUT }, () => {
    const s = new StatsCollector({ maxRows: 1000 });
    const n = 6_000;
    for (const r of channelFlood(n))
      s.add({ ...r, transport: { ...r.transport, protocol: 'tcp' } } as Parameters<StatsCollector['add']>[0]);
    const report = s.report();
    expect(report.connections).toHaveLength(1000);
    expect(report.omitted).toEqual({ connections: 5_000 });
  });
});
