import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CaptureReader } from '@ca-shark/packet';
import type { CaRecord } from '@ca-shark/decoder';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url)));

/** Runs a capture through an in-process Engine (what the decoding worker does). */
function run(name: string, end = true): { engine: Engine; records: CaRecord[] } {
  const records: CaRecord[] = [];
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: name }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: (r) => records.push(r),
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
  });
  const reader = new CaptureReader({
    frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(fixture(name));
  reader.end();
  if (end) engine.end();
  return { engine, records };
}

describe('Engine views', () => {
  it('names channels with their server, type, access, monitor updates and last value', () => {
    const { engine } = run('ca_monitor2.pcapng', false);
    expect(engine.eof).toBe(false);
    const channels = engine.channels();
    expect(channels.map((c) => c.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    for (const ch of channels) {
      // The capture holds the circuit's end, so the channels end up closed.
      expect(['connected', 'closed']).toContain(ch.state);
      expect(ch.updates).toBe(7);
      expect(ch.server).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
      expect(ch.access).toBe('rw');
      expect(ch.connectLatency).toBeGreaterThan(0);
      expect(Array.isArray(ch.lastValue)).toBe(true);
    }
    const stats = engine.stats();
    expect(stats).toMatchObject({ packets: 29, messages: 33, malformed: 0 });
    // At the end of the input the circuits end; what was seen stays.
    engine.end();
    expect(engine.eof).toBe(true);
    for (const ch of engine.channels()) expect(ch.updates).toBe(7);
  });

  it('summarises servers with latency percentiles, clients with host and user, searches per PV', () => {
    const { engine } = run('catest.pcap');
    const servers = engine.servers();
    expect(servers.length).toBeGreaterThan(0);
    const withReads = servers.find((s) => s.latency.read !== undefined);
    expect(withReads?.latency.read.count).toBeGreaterThan(0);
    expect(withReads?.latency.read.p50).toBeGreaterThan(0);
    const clients = engine.clients();
    expect(clients.some((c) => c.user !== null && c.hostname !== null)).toBe(true);
    const searches = engine.searches();
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.every((s, i) => i === 0 || searches[i - 1].count >= s.count)).toBe(true);
    const report = engine.report(['latency']);
    expect(Object.keys(report).sort()).toEqual(['latency', 'slowest_pvs', 'summary']);
    expect(report.summary?.records).toBe(engine.stats().messages);
    expect(() => engine.report(['bogus'])).toThrow(/unknown report section/);
    const snapshot = JSON.parse(engine.snapshotText());
    expect(Object.keys(snapshot.analysis).sort()).toEqual([
      'beacon_anomalies',
      'duplicates',
      'never_found',
      'redundant_subscriptions',
      'writes',
    ]);
    expect(snapshot.analysis.writes.length).toBeGreaterThan(0);
    expect(snapshot.type).toBe('snapshot');
    expect(snapshot.searches.top.length).toBeGreaterThan(0);
    expect(snapshot.stats.messages).toBe(engine.stats().messages);
  });

  it('reports beacon periods per server', () => {
    const { engine } = run('cabeacon.cap');
    const server = engine.servers().find((s) => s.beacons === 8);
    expect(server).toBeDefined();
    expect(server?.beaconPeriod).toBeGreaterThan(0);
    expect(server?.lastBeaconId).not.toBeNull();
  });
});

describe('Engine drop alerts', () => {
  it('turns rising libpcap and decoder drop counters into alerts and stats, never silently', () => {
    const capture = { received: 100, dropped: 0, ifDropped: 0 };
    let decoderDropped = 0;
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const engine = new Engine({
      describe: () => ({ kind: 'live', iface: 'lo' }),
      counters: () => capture,
      publish: () => undefined,
      hubStats: () => ({ clients: 0, dropped: 0 }),
      decoderDropped: () => decoderDropped,
      logger,
    });
    engine.poll();
    expect(JSON.parse(engine.snapshotText()).alerts).toEqual([]);
    capture.dropped = 7;
    decoderDropped = 3;
    engine.poll();
    const kinds = (JSON.parse(engine.snapshotText()).alerts as { kind: string; message: string }[])
      .map((a) => a.kind)
      .sort();
    expect(kinds).toEqual(['capture-drops', 'decoder-drops']);
    expect(warnings.some((w) => /libpcap dropped packets/.test(w) && /"dropped":7/.test(w))).toBe(true);
    expect(engine.stats()).toMatchObject({ decoderDropped: 3, capture: { dropped: 7 } });
    // No new drops, no new alert.
    engine.poll();
    expect(JSON.parse(engine.snapshotText()).alerts).toHaveLength(2);
  });
});
