import { describe as suite, expect, it } from 'vitest';
import { Analyzer, DEFAULT_REPORT_ROWS } from './report.js';
import { formatReport } from './report-text.js';
import { StatsCollector } from './stats.js';
import { channelFlood, flowControlFlood, searchFlood } from './test-support/floods.js';

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
