import { fileURLToPath } from 'node:url';
import { compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { beforeAll, describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { HeldRecords } from './history-ring.js';
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
