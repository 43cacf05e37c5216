import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CaptureReader } from '@ca-shark/packet';
import type { CaRecord } from '@ca-shark/decoder';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine, type EngineOptions, toWire } from '../engine.js';
import { BatchEncoder, decodeBatch } from './codec.js';
import { Replayer } from './replay.js';
import { BATCH_MAX_BYTES, MAX_RAW_BYTES, SensorBatcher } from './sensor-batcher.js';

const fixture = (path: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)));

const PORTS = { serverPort: 5064, repeaterPort: 5065 };

const CAPTURES = [
  'packet/fixtures/catest.pcap',
  'packet/fixtures/ca_monitor2.pcapng',
  'packet/fixtures/ca_arrays.pcapng',
  'packet/fixtures/example_udp_data.pcap',
  'decoder/fixtures/libca-sim.pcap',
];

function engine(publish: (r: CaRecord) => void, extra: Partial<EngineOptions> = {}): Engine {
  return new Engine({
    describe: () => ({ kind: 'file' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish,
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    ...extra,
  });
}

/** What a live row shows of a record, without the id. */
const row = (r: CaRecord): unknown => {
  const { id: _id, ...rest } = JSON.parse(toWire(r, 0)) as Record<string, unknown>;
  return rest;
};

/** Decodes a capture as a sensor does, handing over a batch every `every` records. */
function sensor(path: string, every: number): { rows: unknown[]; batches: Uint8Array[]; local: Engine } {
  const rows: unknown[] = [];
  const batches: Uint8Array[] = [];
  const batcher = new SensorBatcher(PORTS, 7);
  let pending = 0;
  const local = engine(
    (r) => {
      rows.push(row(r));
      batcher.add(r, 0);
      if (++pending >= every) {
        pending = 0;
        batches.push(batcher.take()?.bytes ?? new Uint8Array());
      }
    },
    { circuitClosed: (c) => batcher.closed(c, 0) },
  );
  const reader = new CaptureReader({
    frame: (f) => local.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(fixture(path));
  reader.end();
  local.end();
  const last = batcher.take();
  if (last !== undefined) batches.push(last.bytes);
  return { rows, batches, local };
}

describe('sensor batches replayed by a central', () => {
  for (const path of CAPTURES) {
    it(`give the same records and views as decoding ${path} on the sensor`, () => {
      const { rows, batches, local } = sensor(path, 5);
      const central: unknown[] = [];
      const sensors: string[] = [];
      const holder: { replayer?: Replayer } = {};
      // The central decodes with another server port: it learns the sensor's from its batches.
      const remote = engine(
        (r) => {
          central.push(row(r));
          sensors.push(holder.replayer?.hints.sensor ?? '');
        },
        { decoder: { serverPort: 6064 } },
      );
      const replayer = new Replayer(remote);
      holder.replayer = replayer;
      let seq = 1;
      for (const b of batches) {
        const batch = replayer.replay('s1', b);
        expect(batch.firstSeq).toBe(seq);
        seq += batch.records;
      }
      remote.end();
      expect(rows.length).toBeGreaterThan(path.includes('udp') ? 0 : 10);
      expect(seq - 1).toBe(rows.length);
      expect(central).toEqual(rows);
      expect(new Set(sensors)).toEqual(new Set(rows.length > 0 ? ['s1'] : []));
      // The views the central serves are built from the same conversation state.
      const strip = <T extends object>(v: T[]): unknown =>
        JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'time' || k === 'age' ? undefined : x)));
      expect(strip(remote.channels())).toEqual(strip(local.channels()));
      expect(strip(remote.servers())).toEqual(strip(local.servers()));
      expect(strip(remote.searches())).toEqual(strip(local.searches()));
      expect(remote.stats().messages).toBe(local.stats().messages);
    });
  }
});

describe('BatchEncoder', () => {
  it('round-trips messages and circuit ends, sharing strings, and numbers records across batches', () => {
    const enc = new BatchEncoder(0xdeadbeef, { serverPort: 6064, repeaterPort: 6065 }, 8);
    const raw = Uint8Array.from({ length: 12 }, (_, i) => i);
    enc.message({
      kind: 'tcp',
      t: 1.5,
      frame: 300,
      src: '10.0.0.1',
      sport: 5064,
      dst: '10.0.0.2',
      dport: 40000,
      circuit: 200,
      role: 'response',
      pv: 'X:Y',
      latency: 0.25,
      size: 12,
      raw,
    });
    enc.close({ t: 2, frame: 301, circuit: 200, reason: 'rst' });
    enc.message({
      kind: 'udp',
      t: 3,
      frame: 302,
      src: '10.0.0.2',
      sport: 5065,
      dst: '10.0.0.1',
      dport: 5064,
      role: null,
      pv: null,
      size: 0,
      raw: new Uint8Array(),
    });
    const first = decodeBatch(enc.take());
    expect(first).toMatchObject({ run: 0xdeadbeef, firstSeq: 1, records: 2, serverPort: 6064, repeaterPort: 6065 });
    expect(first.entries).toEqual([
      {
        kind: 'tcp',
        t: 1.5,
        frame: 300,
        src: '10.0.0.1',
        sport: 5064,
        dst: '10.0.0.2',
        dport: 40000,
        circuit: 200,
        role: 'response',
        pv: 'X:Y',
        latency: 0.25,
        size: 12,
        raw: raw.subarray(0, 8),
        cut: true,
      },
      { kind: 'close', t: 2, frame: 301, circuit: 200, reason: 'rst' },
      {
        kind: 'udp',
        t: 3,
        frame: 302,
        src: '10.0.0.2',
        sport: 5065,
        dst: '10.0.0.1',
        dport: 5064,
        role: null,
        pv: null,
        size: 0,
        raw: new Uint8Array(),
        cut: false,
      },
    ]);
    enc.close({ t: 4, frame: 303, circuit: 1, reason: 'fin' });
    expect(decodeBatch(enc.take())).toMatchObject({ firstSeq: 3, records: 0 });
  });

  it('refuses bytes that are not a batch, and cut batches', () => {
    expect(() => decodeBatch(new Uint8Array(30))).toThrow(/not a ca-shark record batch/);
    const enc = new BatchEncoder(1, PORTS);
    enc.message({
      kind: 'udp',
      t: 3,
      frame: 1,
      src: '1.1.1.1',
      sport: 1,
      dst: '2.2.2.2',
      dport: 5064,
      role: null,
      pv: null,
      size: 4,
      raw: new Uint8Array(4),
    });
    const bytes = enc.take();
    expect(() => decodeBatch(bytes.subarray(0, bytes.length - 2))).toThrow(/cut/);
  });
});

describe('SensorBatcher', () => {
  it('asks for a hand-over as soon as a batch reaches its size, whatever the timer says', () => {
    const batcher = new SensorBatcher(PORTS, 3);
    const raw = new Uint8Array(1000);
    const record = {
      frame: 1,
      timestamp: 1,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      transport: { protocol: 'udp', sport: 5064, dport: 40000 },
      role: 'response',
      pv: 'X',
      size: raw.length,
      raw,
    } as unknown as CaRecord;
    let added = 0;
    while (!batcher.add(record, 0)) added += 1;
    // Under NATS's max_payload (1 MiB by default) with room for one more record of the largest size.
    const batch = batcher.take();
    expect(batch?.records).toBe(added + 1);
    expect(batch?.bytes.length).toBeGreaterThanOrEqual(BATCH_MAX_BYTES);
    expect(batch?.bytes.length).toBeLessThan(BATCH_MAX_BYTES + 2000);
    expect(BATCH_MAX_BYTES + MAX_RAW_BYTES).toBeLessThan(1024 * 1024);
  });
});
