import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, ServerMetrics } from './server-metrics.js';
import { startTestDaemon } from './test-support/daemon.js';

/** One sample of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4): samples, and the TYPE of each family. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      expect(types.has(type[1]), `family ${type[1]} declared twice`).toBe(false);
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `bad sample line ${JSON.stringify(line)}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k] = v.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const value = m![3] === '+Inf' ? Infinity : Number(m![3]);
    expect(Number.isNaN(value), line).toBe(false);
    samples.push({ name: m![1], labels, value });
  }
  return { samples, types };
}

const pick = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const value = (samples: Sample[], name: string, labels: Record<string, string>): number | undefined =>
  pick(samples, name, labels)[0]?.value;

/** Checks every histogram: buckets cumulative and ordered, +Inf equal to _count. */
function checkHistograms(samples: Sample[], name: string): void {
  const series = new Map<string, Sample[]>();
  for (const s of pick(samples, `${name}_bucket`)) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
    expect(les).toEqual([...LATENCY_BUCKETS, Infinity]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    const labels = JSON.parse(key) as Record<string, string>;
    expect(buckets.at(-1)?.value).toBe(value(samples, `${name}_count`, labels));
  }
}

describe('per-server metrics', () => {
  it('gives the busiest servers their own series and sums the rest under "other"', () => {
    let now = 1000;
    const m = new ServerMetrics(2, () => now);
    // Two quiet servers take the first places, then a busy one appears.
    m.add('10.0.0.1:5064', 100, 'read', 0.002);
    m.add('10.0.0.2:5064', 50, undefined, undefined);
    for (let i = 0; i < 10; i++) m.add('10.0.0.3:5064', 40, 'read', 0.2);
    const first = parseExposition(m.render());
    const types = first.types;
    let samples = first.samples;
    expect(types.get('ca_sharkd_server_messages_total')).toBe('counter');
    expect(types.get('ca_sharkd_server_request_latency_seconds')).toBe('histogram');
    // The ranking at the first scrape puts the busy server in; its traffic so far counted under "other".
    expect(pick(samples, 'ca_sharkd_server_messages_total').map((s) => [s.labels.server, s.value])).toEqual([
      ['10.0.0.1:5064', 1],
      ['10.0.0.3:5064', 0],
      ['other', 10],
    ]);
    expect(value(samples, 'ca_sharkd_server_bytes_total', { server: 'other' })).toBe(400);
    checkHistograms(samples, 'ca_sharkd_server_request_latency_seconds');
    const read = { server: '10.0.0.1:5064', kind: 'read' };
    expect(value(samples, 'ca_sharkd_server_request_latency_seconds_bucket', { ...read, le: '0.001' })).toBe(0);
    expect(value(samples, 'ca_sharkd_server_request_latency_seconds_bucket', { ...read, le: '0.0025' })).toBe(1);
    expect(value(samples, 'ca_sharkd_server_request_latency_seconds_sum', read)).toBe(0.002);

    // From then on it counts under its own name; "other" never goes down when servers change places.
    for (let i = 0; i < 5; i++) m.add('10.0.0.3:5064', 40, 'read', 0.2);
    for (let i = 0; i < 3; i++) m.add('10.0.0.2:5064', 10, undefined, undefined);
    now += 61;
    ({ samples } = parseExposition(m.render()));
    expect(value(samples, 'ca_sharkd_server_messages_total', { server: '10.0.0.3:5064' })).toBe(5);
    expect(value(samples, 'ca_sharkd_server_messages_total', { server: 'other' })).toBe(13);
    const before = value(samples, 'ca_sharkd_server_messages_total', { server: 'other' }) as number;
    // 10.0.0.1 was quiet for the last minute: 10.0.0.2 took its place at this ranking.
    expect(pick(samples, 'ca_sharkd_server_messages_total').map((s) => s.labels.server)).toEqual([
      '10.0.0.2:5064',
      '10.0.0.3:5064',
      'other',
    ]);
    m.add('10.0.0.1:5064', 100, 'read', 0.002);
    ({ samples } = parseExposition(m.render()));
    expect(value(samples, 'ca_sharkd_server_messages_total', { server: 'other' })).toBe(before + 1);
  });

  it('escapes label values', () => {
    const m = new ServerMetrics(5);
    m.add('a"b\\c\nd', 1, 'read', 0.01);
    const { samples } = parseExposition(m.render());
    expect(pick(samples, 'ca_sharkd_server_messages_total').map((s) => s.labels.server)).toContain('a"b\\c\nd');
  });

  it('are served at /metrics by the daemon, from the decoding worker', { timeout: 30_000 }, async () => {
    const fixture = fileURLToPath(new URL('../../packet/fixtures/catest.pcap', import.meta.url));
    const daemon = await startTestDaemon(['-r', fixture, '--speed', 'max']);
    try {
      await daemon.engine.whenEnded();
      const res = await daemon.app.inject('/metrics');
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const { samples, types } = parseExposition(res.body);
      // The daemon's own families are still there, each declared once.
      expect(types.get('ca_sharkd_messages_total')).toBe('counter');
      const servers = pick(samples, 'ca_sharkd_server_messages_total');
      expect(servers.map((s) => s.labels.server)).toEqual(['127.0.0.1:5064', 'other']);
      const total = value(samples, 'ca_sharkd_packets_total', {}) as number;
      expect(servers[0].value).toBeGreaterThan(0);
      expect(total).toBeGreaterThan(0);
      checkHistograms(samples, 'ca_sharkd_server_request_latency_seconds');
      const kinds = pick(samples, 'ca_sharkd_server_request_latency_seconds_count', { server: '127.0.0.1:5064' }).map(
        (s) => s.labels.kind,
      );
      expect(kinds).toContain('read');
      expect(kinds).toContain('create');
    } finally {
      await daemon.shutdown('test over');
    }
  });
});
