import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand } from './commands.js';
import { decodeDbr } from './dbr.js';
import { Deframer, deframeDatagram, type DeframerOptions } from './deframer.js';
import { build, concatBytes } from './encode.js';
import { guessRole, oneSidedRole } from './role.js';
import type { CaFrame } from './types.js';
import { frameRecord, type FrameRecord } from './test-support/collect.js';

/** A hang guard, not a speed check: these CPU-bound runs take several times longer on a loaded machine. */
const FUZZ_TIMEOUT_MS = 60_000;

// Fixed seed: the same cases on every run (set FC_SEED to explore others locally).
const SEED = Number(process.env.FC_SEED ?? 20261126);

/** Every frame goes through every decoder; nothing may throw. */
function decodeEverything(f: CaFrame): void {
  decodeCommand(f, 'request');
  decodeCommand(f, 'response', { udp: true, enumStrings: ['a'] });
  oneSidedRole(f);
  guessRole(f);
}

function runStream(
  bytes: Uint8Array,
  cuts: number[],
  options?: DeframerOptions,
): { frames: FrameRecord[]; covered: number; faults: number } {
  const d = new Deframer(options);
  const frames: FrameRecord[] = [];
  let covered = 0;
  let faults = 0;
  const onFrame = (f: CaFrame) => {
    decodeEverything(f);
    frames.push(frameRecord(f));
    covered += f.bytes.length;
  };
  const onFault = (f: { length: number }) => {
    faults++;
    covered += f.length;
  };
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const at = Math.min(c, bytes.length);
    d.push(bytes.subarray(prev, at), onFrame, onFault);
    prev = at;
  }
  d.push(bytes.subarray(prev), onFrame, onFault);
  d.end(onFrame, onFault);
  return { frames, covered, faults };
}

/** Stream offset of frame `f` inside `all` (frames of a fault-free stream are contiguous). */
function sumBefore(all: FrameRecord[], f: FrameRecord): number {
  let n = 0;
  for (const g of all) {
    if (g === f) return n;
    n += g.bytes.split(' ').length;
  }
  return n;
}

/** Random valid messages from the builders. */
const message: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .record({ priority: fc.integer({ min: 0, max: 99 }), version: fc.integer({ min: 1, max: 13 }) })
    .map((f) => build.versionRequest(f)),
  fc.record({ name: fc.string({ maxLength: 60 }), cid: fc.nat() }).map((f) => build.searchRequest(f)),
  fc.record({ cid: fc.nat(), port: fc.integer({ min: 1, max: 65535 }) }).map((f) => build.searchResponse(f)),
  fc.record({ cid: fc.nat(), name: fc.string({ maxLength: 60 }) }).map((f) => build.createChanRequest(f)),
  fc
    .record({
      data_type: fc.integer({ min: 0, max: 6 }),
      data_count: fc.integer({ min: 0, max: 100000 }),
      cid: fc.nat(),
      sid: fc.nat(),
    })
    .map((f) => build.createChanResponse(f)),
  fc.record({ cid: fc.nat(), access_rights: fc.integer({ min: 0, max: 3 }) }).map((f) => build.accessRightsResponse(f)),
  fc
    .record({
      data_type: fc.integer({ min: 0, max: 38 }),
      data_count: fc.integer({ min: 0, max: 4 }),
      sid: fc.nat(),
      ioid: fc.nat(),
    })
    .map((f) => build.readNotifyRequest(f)),
  fc
    .record({ t: fc.integer({ min: 0, max: 34 }), n: fc.integer({ min: 0, max: 70 }), id: fc.nat(), v: fc.double() })
    .map(({ t, n, id, v }) =>
      build.readNotifyResponse({
        data_type: t,
        data: Array(n).fill(t % 7 === 0 ? 'str' : Number.isFinite(v) ? 1 : 0),
        ioid: id,
      }),
    ),
  fc
    .record({
      data_type: fc.integer({ min: 0, max: 38 }),
      sid: fc.nat(),
      subscriptionid: fc.nat(),
      mask: fc.integer({ min: 0, max: 65535 }),
    })
    .map((f) => build.eventAddRequest(f)),
  fc
    .record({
      data_type: fc.integer({ min: 0, max: 38 }),
      data_count: fc.integer({ min: 0, max: 70000 }),
      ioid: fc.nat(),
    })
    .map((f) => build.writeNotifyResponse(f)),
  fc
    .record({
      data_type: fc.integer({ min: 0, max: 38 }),
      data_count: fc.integer({ min: 0, max: 70000 }),
      sid: fc.nat(),
      subscriptionid: fc.nat(),
    })
    .map((f) => build.eventCancelResponse(f)),
  fc
    .record({ cid: fc.nat(), status: fc.integer({ min: 0, max: 500 }), message: fc.string({ maxLength: 100 }) })
    .map((f) => build.error({ ...f, original: build.echoRequest() })),
  fc.constant(build.echoRequest()),
  fc.record({ beacon_id: fc.nat(), server_port: fc.integer({ min: 0, max: 65535 }) }).map((f) => build.beacon(f)),
);

const stream = fc.array(message, { minLength: 1, maxLength: 30 }).map(concatBytes);

describe('fuzz', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('random bytes never throw, never hang, and every byte is accounted for', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 8 }),
        (bytes, cuts) => {
          const r = runStream(bytes, cuts);
          expect(r.covered).toBe(bytes.length);
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });

  it('valid streams give the same frames at any segmentation, with no faults', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat({ max: 5000 }), { maxLength: 10 }), (bytes, cuts) => {
        const whole = runStream(bytes, []);
        expect(whole.faults).toBe(0);
        expect(whole.covered).toBe(bytes.length);
        expect(runStream(bytes, cuts).frames).toEqual(whole.frames);
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  it('over-cap messages are skipped identically at any segmentation', () => {
    const small = { maxPayloadSize: 64, oversizePrefix: 16 };
    let overCap = 0;
    fc.assert(
      fc.property(stream, fc.array(fc.nat({ max: 5000 }), { maxLength: 10 }), (bytes, cuts) => {
        const whole = runStream(bytes, [], small);
        expect(whole.faults).toBe(0);
        expect(runStream(bytes, cuts, small).frames).toEqual(whole.frames);
        expect(whole.frames.length).toBe(runStream(bytes, []).frames.length);
        for (const f of whole.frames) {
          if (f.payloadSize <= 64) continue;
          overCap++;
          expect(f).toMatchObject({ truncated: true, anomalies: ['payload-over-cap'] });
          expect(f.payload.split(' ')).toHaveLength(16);
        }
      }),
      { numRuns: 200, seed: SEED },
    );
    expect(overCap).toBeGreaterThan(20);
  });

  it('streams with a lost range (known size) keep every message before it and report at most one fault', () => {
    fc.assert(
      fc.property(stream, fc.nat(), fc.nat({ max: 3000 }), (bytes, at0, len0) => {
        const at = at0 % (bytes.length + 1);
        const len = Math.min(len0, bytes.length - at);
        const whole = runStream(bytes, []).frames;
        const before = whole.filter((f) => f.bytes.length > 0 && sumBefore(whole, f) + f.bytes.split(' ').length <= at);
        const d = new Deframer();
        const frames: FrameRecord[] = [];
        let faults = 0;
        const onFrame = (f: CaFrame) => {
          decodeEverything(f);
          frames.push(frameRecord(f));
        };
        d.push(bytes.subarray(0, at), onFrame, () => faults++);
        d.gap(len, onFrame);
        d.push(bytes.subarray(at + len), onFrame, () => faults++);
        d.end(onFrame, () => faults++);
        expect(frames.slice(0, before.length)).toEqual(before);
        expect(faults).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('mutated streams never throw and keep every byte accounted for', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.integer({ min: 0, max: 2 }),
      byte: fc.integer({ min: 0, max: 255 }),
      len: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(
        stream,
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 6 }),
        (bytes, muts, cuts) => {
          const b = Array.from(bytes);
          for (const m of muts) {
            const at = m.at % (b.length + 1);
            if (m.kind === 0) b[at] = m.byte;
            else if (m.kind === 1) b.splice(at, 0, ...Array(m.len).fill(m.byte));
            else b.splice(at, m.len);
          }
          const mutated = Uint8Array.from(b.filter((x) => x !== undefined));
          const r = runStream(mutated, cuts);
          expect(r.covered).toBe(mutated.length);
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });

  it('a stream with garbage inserted recovers the messages after it', () => {
    // Garbage that starts like an impossible header (command ≥ 256). Garbage that happens to form a
    // plausible header is indistinguishable from CA and is decoded as such.
    const junkArb = fc
      .tuple(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 63 }))
      .map(([b0, rest]) => Uint8Array.from([b0, ...rest]));
    fc.assert(
      fc.property(stream, junkArb, stream, (a, junk, b) => {
        const r = runStream(concatBytes([a, junk, b]), []);
        const tail = runStream(b, []).frames;
        // The last messages of `b` come out intact (the resync may cost the first few of them).
        const lastTail = tail[tail.length - 1];
        expect(r.frames[r.frames.length - 1]).toEqual(lastTail);
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  it('datagrams: every byte is a frame or in the one fault', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), stream), (bytes) => {
        let covered = 0;
        let faults = 0;
        const ok = deframeDatagram(
          bytes,
          (f) => {
            decodeEverything(f);
            covered += f.bytes.length;
          },
          (f) => {
            faults++;
            covered += f.length;
          },
        );
        expect(covered).toBe(bytes.length);
        expect(faults).toBe(ok ? 0 : 1);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('decodeDbr never throws', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 70000 }),
        fc.integer({ min: -5, max: 100000 }),
        fc.uint8Array({ maxLength: 800 }),
        (t, n, p) => {
          const v = decodeDbr(t, n, p);
          expect(v.count).toBeLessThanOrEqual(Math.max(0, n));
        },
      ),
      { numRuns: 500, seed: SEED },
    );
  });
});
