import fc from 'fast-check';
import { compileFilter } from '@ca-shark/analysis/filter';
import { type ValueFormat, failureStatus, summarizeFields } from '@ca-shark/analysis/summary';
import type { CaRecord } from '@ca-shark/decoder';
import { type CaFrame, decodeCommand, dbrSize } from '@ca-shark/protocol';
import { describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { heldCopy } from './history-codec.js';
import { HeldRecords } from './history-ring.js';
import { chartValueOf } from './series.js';

const SEED = Number(process.env.FC_SEED ?? 20261207);

/** A CA frame of random header fields and payload bytes (a DBR payload of its type's size, often). */
const frame: fc.Arbitrary<CaFrame> = fc
  .record({
    // Mostly the commands that carry DBR values (monitor, read, write), every command, now and then none.
    command: fc.oneof(
      { arbitrary: fc.constantFrom(1, 3, 4, 15, 19), weight: 6 },
      { arbitrary: fc.integer({ min: 0, max: 27 }), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
    ),
    dataType: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 38 }), weight: 9 },
      { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
    ),
    dataCount: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(255, 256, 257, 1000)),
    parameter1: fc.nat(),
    parameter2: fc.nat(),
    sized: fc.boolean(),
    extra: fc.integer({ min: -8, max: 40 }),
    seed: fc.integer(),
    special: fc.boolean(),
    truncated: fc.boolean(),
  })
  .map((f) => {
    const size = f.sized ? (dbrSize(f.dataType, f.dataCount) ?? 0) + Math.max(0, f.extra) : Math.max(0, f.extra * 8);
    const payload = new Uint8Array(size);
    let x = f.seed | 1;
    const doubles = [0x7ff8, 0x8000, 0x7ff0, 0xfff0, 0x0000, 0x7fef, 0x3ff0];
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      payload[i] = x & 0xff;
      // Now and then the top bytes of a NaN, -0, Infinity, a subnormal or the greatest double.
      if (f.special && i % 8 === 0 && (x & 3) === 0 && i + 1 < size) {
        const d = doubles[(x >>> 8) % doubles.length];
        payload[i] = d >>> 8;
        payload[++i] = d & 0xff;
      }
    }
    const bytes = new Uint8Array(16 + size);
    bytes.set(payload, 16);
    return {
      command: f.command,
      payloadSize: size + (f.truncated ? 8 : 0),
      dataType: f.dataType,
      dataCount: f.dataCount,
      parameter1: f.parameter1,
      parameter2: f.parameter2,
      headerSize: 16,
      payload,
      bytes,
      ...(f.truncated ? { truncated: true } : {}),
    };
  });

const display: fc.Arbitrary<ValueFormat | undefined> = fc.option(
  fc.record(
    {
      precision: fc.integer({ min: -1, max: 20 }),
      units: fc.string({ maxLength: 4 }),
      enumStrings: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

const record = fc.record({
  frame,
  request: fc.boolean(),
  udp: fc.boolean(),
  enumStrings: fc.option(fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }), { nil: undefined }),
  pv: fc.option(fc.constantFrom('A:B', 'IOC03:AI17', 'ünï:cödé', '', 'x'.repeat(300)), { nil: null }),
  latency: fc.option(fc.oneof(fc.double(), fc.constant(Number.NaN)), { nil: undefined }),
  src: fc.constantFrom('10.0.0.5', '10.0.0.9', '127.0.0.1'),
  channel: display,
  // Now and then bytes that are no CA message: a Malformed record, whose line is made at once.
  malformed: fc.integer({ min: 0, max: 15 }),
});

type Generated = typeof record extends fc.Arbitrary<infer T> ? T : never;

/** A decoded record of random traffic, as the decoder would give it. */
function toRecord(r: Generated, i: number): CaRecord {
  const command =
    r.malformed === 0
      ? {
          name: 'Malformed',
          id: -1,
          reason: 'bad data type 0xffff',
          code: 'bad-data-type',
          length: r.frame.bytes.length,
          hex: Buffer.from(r.frame.bytes.subarray(0, 64)).toString('hex'),
        }
      : decodeCommand(r.frame, r.request ? 'request' : 'response', {
          udp: r.udp,
          ...(r.enumStrings !== undefined ? { enumStrings: r.enumStrings } : {}),
        });
  return {
    frame: i + 1,
    timestamp: 1_700_000_000 + i / 8,
    interfaceId: 0,
    src: r.src,
    dst: '10.0.0.1',
    transport: { protocol: r.udp ? 'udp' : 'tcp', sport: 5064, dport: 40000 + i },
    command,
    pv: r.pv,
    size: r.frame.bytes.length,
    ...(r.latency !== undefined ? { latency: r.latency } : {}),
  } as unknown as CaRecord;
}

describe('held records of random traffic', () => {
  it('make the summary, status and chart value of the decoded command', () => {
    fc.assert(
      fc.property(record, fc.constantFrom(undefined, 40, 120), (r, max) => {
        const { command } = toRecord(r, 0);
        const copy = heldCopy(command);
        if (copy === undefined) return;
        expect(summarizeFields(copy, max, r.channel)).toBe(summarizeFields(command, max, r.channel));
        expect(failureStatus(copy)).toBe(failureStatus(command));
        expect(chartValueOf(copy as CaRecord['command'])).toBe(chartValueOf(command));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('rebuild the stream text, filter verdicts and chart values of the decoded records', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 70 }), (rs, max) => {
        const records = rs.map(toRecord);
        const held = new HeldRecords({ maxRecords: max, maxSeconds: Infinity });
        records.forEach((rec, i) => held.add(i + 1, rec, rs[i].channel));
        const first = records.length - held.size;
        for (let p = 0; p < held.size; p++) {
          const i = first + p;
          expect(held.wire(p)).toBe(toWire(records[i], i + 1, rs[i].channel));
        }
        for (const spec of [{ errors: true }, { command: ['read', 'write'] }, { pv: ['IOC*'] }]) {
          const test = compileFilter(spec);
          for (let p = 0; p < held.size; p++) expect(test(held.filterable(p))).toBe(test(records[first + p]));
        }
        for (const pv of ['A:B', 'IOC03:AI17', '']) {
          const seen: number[] = [];
          held.eachOfPv(pv, (_t, _size, _command, value) => seen.push(value));
          const want = records
            .slice(first)
            .filter((rec) => rec.pv === pv)
            .map((rec) => chartValueOf(rec.command));
          expect(seen).toEqual(want);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
