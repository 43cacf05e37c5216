import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe as suite, expect, it } from 'vitest';
import { Analyzer, type AnalyzerOptions, REPORT_SECTIONS, resolveSections } from './report.js';
import { formatReport } from './report-text.js';
import { rec } from './test-support/records.js';

const schema = JSON.parse(readFileSync(new URL('../schema/report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

const C = '10.0.0.5:45000';
const S = '10.0.0.9:5064';
const on = (pv: string | null) => ({ circuit: 1, pv, client: C, server: S });

/** One small conversation that puts at least one row in every section. */
function busyAnalyzer(options?: AnalyzerOptions): Analyzer {
  const a = new Analyzer(options);
  for (let i = 0; i < 12; i++)
    a.add(
      rec(
        i,
        '10.0.0.5:40000',
        '10.0.0.255:5064',
        { name: 'SearchRequest', id: 6, pv: 'missing', cid: 1 },
        { pv: 'missing' },
      ),
    );
  a.add(
    rec(
      0,
      '10.0.0.5:40000',
      '10.0.0.255:5064',
      { name: 'SearchRequest', id: 6, pv: 'demo:ai1', cid: 7 },
      { pv: 'demo:ai1' },
    ),
  );
  a.add(
    rec(
      0.001,
      '10.0.0.9:5064',
      '10.0.0.5:40000',
      { name: 'SearchResponse', id: 6, ip: '255.255.255.255', port: 5064, cid: 7 },
      { pv: 'demo:ai1', latency: 0.001 },
    ),
  );
  a.add(
    rec(
      0.002,
      '10.0.0.8:5064',
      '10.0.0.5:40000',
      { name: 'SearchResponse', id: 6, ip: '255.255.255.255', port: 5064, cid: 7 },
      { pv: 'demo:ai1', latency: 0.002 },
    ),
  );
  a.add(
    rec(0.5, '10.0.0.9:40001', '10.0.0.255:5065', {
      name: 'Beacon',
      id: 13,
      version: 13,
      server_port: 5064,
      beacon_id: 0,
      address: '0.0.0.0',
    }),
  );
  a.add(rec(1, C, S, { name: 'HostNameRequest', id: 21, host_name: 'ws1' }, on(null)));
  a.add(rec(1, C, S, { name: 'CreateChanRequest', id: 18, pv: 'demo:ai1', cid: 7 }, on('demo:ai1')));
  a.add(
    rec(
      1.001,
      S,
      C,
      { name: 'CreateChanResponse', id: 18, data_type: 6, data_count: 1, cid: 7, sid: 42 },
      { ...on('demo:ai1'), latency: 0.001 },
    ),
  );
  for (const sub of [1, 2])
    a.add(rec(2, C, S, { name: 'EventAddRequest', id: 1, sid: 42, subscriptionid: sub, mask: 5 }, on('demo:ai1')));
  a.add(
    rec(
      2.001,
      S,
      C,
      { name: 'EventAddResponse', id: 1, subscriptionid: 1, status: 1, data: [1] },
      { ...on('demo:ai1'), latency: 0.001 },
    ),
  );
  a.add(rec(3, C, S, { name: 'EventsOffRequest', id: 8 }, on(null)));
  a.add(
    rec(3, C, S, { name: 'WriteRequest', id: 4, sid: 42, data: [2.5], data_type: 6, data_count: 1 }, on('demo:ai1')),
  );
  a.add(
    rec(
      4,
      S,
      C,
      { name: 'ReadNotifyResponse', id: 15, status: 152, status_name: 'ECA_GETFAIL', ioid: 1 },
      { ...on('demo:ai1'), latency: 0.5 },
    ),
  );
  a.closeCircuit(1, 5, 'fin');
  return a;
}

suite('report', () => {
  it('has every section the issue names and validates against the JSON Schema', () => {
    const report = JSON.parse(JSON.stringify(busyAnalyzer().report()));
    for (const key of [
      'never_found',
      'search_storms',
      'duplicates',
      'beacons',
      'latency',
      'monitor_load',
      'redundant_subscriptions',
      'writes',
      'errors',
      'circuits',
      'channels',
    ]) {
      expect(report[key], key).toBeInstanceOf(Array);
      expect(report[key].length, key).toBeGreaterThan(0);
    }
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects a report that breaks the schema (the schema is not vacuous)', () => {
    const report = JSON.parse(JSON.stringify(busyAnalyzer().report()));
    report.duplicates[0].verdict = 'maybe';
    expect(validate(report)).toBe(false);
    delete report.duplicates;
    report.surprise = [];
    expect(validate(report)).toBe(false);
  });

  it('limits the output to the chosen sections', () => {
    const report = busyAnalyzer().report(resolveSections(['beacons', 'writes']));
    expect(Object.keys(report).sort()).toEqual(['beacons', 'summary', 'writes']);
    expect(() => resolveSections(['nope'])).toThrow(/unknown report section 'nope'; valid: searches/);
  });

  it('runs only the analyses of the chosen sections, with the same rows as a whole report', () => {
    const whole = busyAnalyzer();
    for (const name of Object.keys(REPORT_SECTIONS)) {
      const sections = resolveSections([name]);
      const only = busyAnalyzer({ sections });
      expect(only.report(), name).toEqual(whole.report(sections));
      // Made for these sections, it has no other rows to give.
      expect(Object.keys(only.report()).sort(), name).toEqual(['summary', ...sections].sort());
      expect(only.readsValues, name).toBe(sections.includes('writes'));
    }
    expect(whole.readsValues).toBe(true);
    // Made for some sections, it gives no other even when asked.
    const logsOnly = busyAnalyzer({ sections: ['circuits'] });
    expect(logsOnly.report(['circuits', 'never_found'])).not.toHaveProperty('never_found');
  });

  it('renders a text report naming the findings', () => {
    const text = formatReport(busyAnalyzer().report());
    expect(text).toContain('== PVs never found');
    expect(text).toMatch(/missing\s+12/);
    expect(text).toMatch(/demo:ai1\s+duplicate\s+10\.0\.0\.9:5064 10\.0\.0\.8:5064/);
    expect(text).toContain('ECA_GETFAIL');
    expect(text).toMatch(/1\s+10\.0\.0\.5:45000\s+10\.0\.0\.9:5064\s+ws1/);
  });
});
