import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { beforeAll, describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { summarizeFields } from '@ca-shark/analysis/summary';
import { heldCopy } from './history-codec.js';
import { HeldRecords, deferredSummary } from './history-ring.js';
import { chartValueOf } from './series.js';

const FIXTURE = fileURLToPath(new URL('../../decoder/fixtures/libca-sim.pcap', import.meta.url));

const decoded: CaRecord[] = [];
beforeAll(async () => {
  for await (const r of shark(FIXTURE, { keepBytes: true })) decoded.push(r);
  // The capture has no failure: add a failed read (status without the ECA success bit) and a fault.
  const read = decoded.find((r) => r.command.name === 'ReadNotifyResponse');
  if (read === undefined) throw new Error('fixture without a read reply');
  decoded.push({ ...read, command: { ...read.command, status: 0 } as CaRecord['command'] });
  decoded.push({ ...read, command: { name: 'Malformed', reason: 'test' } as unknown as CaRecord['command'] });
});

/** A record as the decoder gives it, at capture time `t`. */
function at(t: number, base = decoded[0]): CaRecord {
  return { ...base, timestamp: t };
}

describe('HeldRecords', () => {
  it('rebuilds the live stream text of every decoded record, byte for byte', () => {
    expect(decoded.length).toBeGreaterThan(50);
    const held = new HeldRecords();
    decoded.forEach((r, i) => held.add(i + 1, r));
    expect(held.size).toBe(decoded.length);
    decoded.forEach((r, i) => expect(held.wire(i)).toBe(toWire(r, i + 1)));
  });

  it('makes the same summary line later as the stream makes at once, with the channel display given', () => {
    const monitor = decoded.find((r) => r.command.name === 'EventAddResponse');
    if (monitor === undefined) throw new Error('fixture without a monitor update');
    /** `monitor` carrying `data` (and DBR type `type`). */
    const valued = (data: unknown, type = 6): CaRecord =>
      ({ ...monitor, command: { ...monitor.command, data_type: type, data_count: 1, data } }) as CaRecord;
    const cases: { record: CaRecord; channel?: { precision?: number; units?: string; enumStrings?: string[] } }[] = [
      { record: valued([3.14159]), channel: { precision: 2, units: 'mm' } },
      { record: valued([1], 3), channel: { enumStrings: ['Off', 'On'] } },
      { record: valued([1.5, 2.5, 3.5]) },
      // Long plain arrays and typed arrays (waveforms) are held as a preview: same text either way.
      { record: valued(Array.from({ length: 40 }, (_, i) => i / 3)), channel: { precision: 1 } },
      { record: valued(new Float32Array([0.1, 0.2, 0.3]), 2) },
      { record: valued(new Float64Array(30_000).fill(7)), channel: { units: 'V' } },
      { record: valued(['a', 'b'], 0) },
      ...decoded.map((record) => ({ record })),
    ];
    const held = new HeldRecords();
    cases.forEach(({ record, channel }, i) => held.add(i + 1, record, channel));
    cases.forEach(({ record, channel }, i) => expect(held.wire(i)).toBe(toWire(record, i + 1, channel)));
    // The display given with the record, not a later one, formats its line.
    expect(JSON.parse(held.wire(0))).toMatchObject({ summary: expect.stringMatching(/^3\.14 mm /) as unknown });
  });

  it('defers the summary of every command but a fault', () => {
    const command = (data: unknown): CaRecord['command'] =>
      ({ name: 'EventAddResponse', data_type: 6, data_count: 1, data }) as unknown as CaRecord['command'];
    expect(deferredSummary(command(undefined))).toBe(true);
    expect(deferredSummary(command([1]))).toBe(true);
    expect(deferredSummary(command(new Float64Array(1)))).toBe(true);
    expect(deferredSummary({ name: 'Malformed', reason: 'x' } as unknown as CaRecord['command'])).toBe(false);
  });

  it("keeps a waveform as a preview whose summary line is the waveform's, byte for byte", () => {
    const command = (data: unknown, type = 6, more: Record<string, unknown> = {}): CaRecord['command'] =>
      ({
        name: 'EventAddResponse',
        data_type: type,
        data_count: 1,
        data,
        status: 1,
        ...more,
      }) as unknown as CaRecord['command'];
    const ramp = (n: number): number[] => Array.from({ length: n }, (_, i) => (i - 2) / 7);
    const alarm = { metadata: { status: 3, severity: 2, stamp: 1 }, subscriptionid: 9 };
    const values: [unknown, number][] = [];
    for (const n of [0, 1, 2, 3, 4, 5, 6, 9, 100, 30_000]) {
      values.push([new Float64Array(ramp(n)), 6], [new Float32Array(ramp(n)), 2], [new Float32Array(ramp(n)), 6]);
      values.push(
        [Int16Array.from(ramp(n), (v) => Math.round(v * 100)), 1],
        [Uint8Array.from(ramp(n), (_, i) => i), 4],
      );
      values.push([Int32Array.from(ramp(n), (_, i) => i % 3), 3], [ramp(n), 6], [ramp(n).map(String), 0]);
    }
    values.push([new Float64Array([Number.NaN, Infinity, -0, 1e300, 5e-324, 2, 3]), 6]);
    const channels = [undefined, { precision: 3, units: 'mm' }, { enumStrings: ['Off', 'On', ''] }, { units: 'V' }];
    let previews = 0;
    for (const [data, type] of values) {
      for (const more of [{}, alarm]) {
        const cmd = command(data, type, more);
        const standIn = heldCopy(cmd);
        expect(standIn).toBeDefined();
        if (standIn === undefined) continue;
        previews += 1;
        for (const channel of channels) {
          for (const max of [undefined, 40]) {
            expect(summarizeFields(standIn, max, channel)).toBe(summarizeFields(cmd, max, channel));
          }
        }
        // It holds the preview, not the waveform.
        expect((standIn as { data: unknown }).data).not.toBe(data);
      }
    }
    expect(previews).toBe(values.length * 2);
    // What cannot be written is not: its line is made at once.
    expect(heldCopy(command(new DataView(new ArrayBuffer(8))))).toBeUndefined();
    expect(heldCopy(command(new BigInt64Array(2)))).toBeUndefined();
    expect(heldCopy(command(new Map()))).toBeUndefined();
  });

  it('visits every held record of one PV, oldest first, with its time, size, command and value', () => {
    const held = new HeldRecords();
    decoded.forEach((r, i) => held.add(i + 1, r));
    const pv = decoded.find((r) => r.command.name === 'EventAddResponse')?.pv;
    expect(typeof pv).toBe('string');
    const seen: [number, number, string, number][] = [];
    held.eachOfPv(pv as string, (t, size, command, value) => seen.push([t, size, command, value]));
    const want = decoded
      .filter((r) => r.pv === pv)
      .map((r) => [r.timestamp, r.size, r.command.name, chartValueOf(r.command)]);
    expect(want.length).toBeGreaterThan(1);
    expect(seen).toEqual(want);
    // The monitor updates of a scalar PV carry the value its chart plots.
    expect(seen.some(([, , command, value]) => command === 'EventAddResponse' && Number.isFinite(value))).toBe(true);
  });

  it('gives the shared filter the verdicts it gives the decoded records', () => {
    const held = new HeldRecords();
    decoded.forEach((r, i) => held.add(i + 1, r));
    const filters = [
      { errors: true },
      { command: ['search'] },
      { command: ['read', 'write'] },
      { pv: ['*:*'] },
      { host: ['127.0.0.1'] },
      { host: ['10.0.0.0/8'], command: ['monitor'] },
    ];
    for (const spec of filters) {
      const test = compileFilter(spec);
      const verdicts = decoded.map((r) => test(r));
      expect(
        decoded.map((_, i) => test(held.filterable(i))),
        JSON.stringify(spec),
      ).toEqual(verdicts);
    }
    // The capture has failures, so the errors filter is not trivially all false.
    expect(decoded.some((r) => compileFilter({ errors: true })(r))).toBe(true);
  });

  it('keeps at most maxRecords, the newest, growing and wrapping its columns', () => {
    const held = new HeldRecords({ maxRecords: 3000, maxSeconds: Infinity });
    for (let id = 1; id <= 10_000; id++) held.add(id, at(1000 + id * 1e-3, decoded[id % decoded.length]));
    expect(held.size).toBe(3000);
    expect(held.oldestId).toBe(7001);
    expect(held.newestId).toBe(10_000);
    expect(held.idAt(0)).toBe(7001);
    expect(JSON.parse(held.wire(2999))).toMatchObject({ id: 10_000, t: 1010 });
    expect(held.positionOf(7000)).toBe(0);
    expect(held.positionOf(8000)).toBe(999);
    expect(held.positionOf(20_000)).toBe(3000);
  });

  it('keeps every record in order when its columns grow while they wrap', () => {
    const held = new HeldRecords({ maxRecords: 1_000_000, maxSeconds: 0.9 });
    // 1,000 records a second for 2 s: the time bound drops the oldest, so the ring wraps below its capacity.
    let id = 0;
    for (; id < 2000; id++) held.add(id + 1, at(1000 + id * 1e-3, decoded[id % decoded.length]));
    // Then a burst at one instant: the columns fill up while wrapped and double.
    for (; id < 6000; id++) held.add(id + 1, at(1002, decoded[id % decoded.length]));
    const ids = Array.from({ length: held.size }, (_, i) => held.idAt(i));
    expect(ids).toEqual(Array.from({ length: held.size }, (_, i) => ids[0] + i));
    expect(held.newestId).toBe(6000);
    expect(held.size).toBeGreaterThan(4000);
    for (let i = 0; i < held.size; i += 97)
      expect(held.wire(i)).toBe(toWire(at(held.timeAt(i), decoded[(ids[i] - 1) % decoded.length]), ids[i]));
  });

  it('wraps its chunks many times, keeping order, and lets chunks go that no held record uses', () => {
    // 40,000 records in chunks of 16,384: the ring has 65,536 slots (three chunks and one more, so a chunk is
    // empty before the newest reach it again); 200,000 records wrap it three times.
    const held = new HeldRecords({ maxRecords: 40_000, maxSeconds: 10 });
    const record = (id: number, t: number): CaRecord => at(t, decoded[id % decoded.length]);
    let id = 0;
    for (; id < 200_000; id++) held.add(id + 1, record(id, 1000 + id * 1e-5));
    expect(held.size).toBe(40_000);
    // The oldest at the end of one chunk, the newest at the start of the fourth after it.
    expect(held.chunksHeld).toBe(4);
    const check = (): void => {
      for (let i = 0; i < held.size; i += 997) {
        const want = held.oldestId + i;
        expect(held.idAt(i)).toBe(want);
        expect(held.wire(i)).toBe(toWire(record(want - 1, held.timeAt(i)), want));
      }
    };
    check();
    // Then 1,000 records a second for 60 s: the time bound holds about 10,000, within one or two chunks.
    for (let s = 0; s < 60_000; s++, id++) held.add(id + 1, record(id, 1100 + s * 1e-3));
    expect(held.size).toBeGreaterThan(9_000);
    expect(held.size).toBeLessThanOrEqual(10_001);
    expect(held.chunksHeld).toBeLessThanOrEqual(2);
    check();
    expect(held.newestId).toBe(id);
    expect(held.positionOf(held.newestId)).toBe(held.size - 1);
  });

  it('keeps ids and frame numbers exact when they jump, go back or are no integers', () => {
    const held = new HeldRecords({ maxRecords: 100, maxSeconds: Infinity });
    // Ids 2^31 and more apart and up to 2^53; frames out of order, fractional, negative zero; a NaN latency.
    const ids = [1, 2, 2 ** 31 + 5, 2 ** 40, 2 ** 53 - 1];
    const frames = [7, 3, 2 ** 33, 1.5, -0];
    ids.forEach((id, i) => held.add(id, { ...at(1000 + i), frame: frames[i], latency: Number.NaN }));
    ids.forEach((id, i) => {
      expect(held.idAt(i)).toBe(id);
      const live = JSON.parse(held.wire(i)) as { id: number; frame: number; latency: unknown };
      // JSON has no negative zero.
      expect(live).toMatchObject({ id, frame: frames[i] + 0, latency: null });
      expect(held.wire(i)).toBe(toWire({ ...at(1000 + i), frame: frames[i], latency: Number.NaN }, id));
    });
    expect(Object.is(held.live(4).frame, -0)).toBe(true);
    expect(held.positionOf(2 ** 40)).toBe(3);
  });

  it('keeps a frame number exact whose difference from the first rounds to an integer, or a first -0', () => {
    for (const frames of [
      [7, 5e-20, -5e-20, 8],
      [-0, 1, 2],
      [2 ** 52, 2 ** 52 + 0.5, 0.25],
    ]) {
      const held = new HeldRecords({ maxRecords: 100, maxSeconds: Infinity });
      frames.forEach((frame, i) => held.add(i + 1, { ...at(1000 + i), frame }));
      expect(frames.map((_, i) => held.live(i).frame)).toEqual(frames);
      frames.forEach((frame, i) => expect(Object.is(held.live(i).frame, frame), `${frame}`).toBe(true));
    }
  });

  it('holds what a plain list under the same bounds holds, through bursts, gaps and late records', () => {
    // Bursts of records at steps of capture time, with gaps that empty the history and late records that
    // go back in time; bounds of more than one chunk (16,384 records), so chunks are let go, kept spare and
    // reused, and the ring wraps.
    const burst = fc.record({
      count: fc.integer({ min: 1, max: 30_000 }),
      step: fc.constantFrom(0, 1e-4, 1e-3, 0.05),
      gap: fc.constantFrom(0, 0, 0.5, 30, 1000, -5),
    });
    fc.assert(
      fc.property(
        fc.array(burst, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(1, 7, 16_384, 16_385, 40_000),
        fc.constantFrom(0.5, 10, Infinity),
        (bursts, maxRecords, maxSeconds) => {
          const held = new HeldRecords({ maxRecords, maxSeconds });
          // The model: ids and times of the records held, oldest first, from `head` on.
          const ids: number[] = [];
          const times: number[] = [];
          let head = 0;
          let newest = -Infinity;
          let id = 0;
          let t = 1000;
          for (const { count, step, gap } of bursts) {
            t += gap;
            for (let i = 0; i < count; i++, t += step) {
              id += 1;
              held.add(id, at(t, decoded[id % decoded.length]));
              newest = Math.max(newest, t);
              while (head < ids.length && newest - times[head] > maxSeconds) head += 1;
              if (ids.length - head === maxRecords) head += 1;
              ids.push(id);
              times.push(t);
            }
            expect(held.size).toBe(ids.length - head);
            expect(held.oldestId).toBe(ids[head]);
            expect(held.newestId).toBe(id);
            expect(held.chunksHeld).toBeLessThanOrEqual(Math.ceil(maxRecords / 16_384) + 1);
            for (let p = 0; p < held.size; p += 1 + Math.floor(held.size / 50)) {
              const want = ids[head + p];
              expect(held.idAt(p)).toBe(want);
              expect(held.positionOf(want)).toBe(p);
              expect(held.wire(p)).toBe(toWire(at(times[head + p], decoded[want % decoded.length]), want));
            }
          }
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 20261207), numRuns: 12 },
    );
  });

  it('lets go of the references of a chunk its records left, before the chunk is reused', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Chunks of 8 records. The first display is held only by the records of the first chunk.
    const held = new HeldRecords({ maxRecords: 8, maxSeconds: 10 });
    const record = (t: number): CaRecord => ({ ...at(t), pv: 'A:B' });
    const later = { precision: 1 };
    const first = ((): WeakRef<object> => {
      const display = { precision: 3, units: 'first' };
      for (let id = 1; id <= 8; id++) held.add(id, record(1000), display);
      return new WeakRef(display);
    })();
    // The ninth record starts the second chunk; the tenth, 100 s later, drops the others (the first chunk
    // is let go and kept spare) and goes into the second chunk: the spare is not reused.
    held.add(9, record(1005), later);
    held.add(10, record(1100), later);
    expect(held.size).toBe(1);
    expect(held.chunksHeld).toBe(1);
    // A WeakRef keeps its target for the rest of the job that made it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(first.deref()).toBeUndefined();
    expect(held.wire(0)).toBe(toWire(record(1100), 10, later));
  });

  it('keeps at most maxSeconds of capture time, counted from the newest record', () => {
    const held = new HeldRecords({ maxRecords: 1_000_000, maxSeconds: 60 });
    for (let s = 0; s < 300; s++) held.add(s + 1, at(1_700_000_000 + s));
    expect(held.oldestTime).toBe(1_700_000_000 + 299 - 60);
    expect(held.size).toBe(61);
    // A late record (out of capture order) does not move the window back.
    held.add(301, at(1_700_000_000 + 100));
    expect(held.oldestTime).toBe(1_700_000_000 + 299 - 60);
  });

  it('holds nothing with maxRecords 0', () => {
    const held = new HeldRecords({ maxRecords: 0 });
    held.add(1, decoded[0]);
    expect(held.size).toBe(0);
    expect(held.newestId).toBe(0);
  });
});
