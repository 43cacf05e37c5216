import { AlarmSeverity, AlarmStatus, EventMask } from '@ca-shark/protocol';
import { describe, expect, it } from 'vitest';
import { readElements, writeElements } from './convert.js';
import { Prng } from './prng.js';
import type { PvSpec } from './pvs.js';
import {
  ENUM_STATES,
  Pv,
  PvDatabase,
  coerceNumber,
  epicsTimeFromMs,
  ownPeriodMs,
  parseWaveformGroup,
  standardPvs,
  waveformPvs,
} from './pvs.js';

const NOW = Date.UTC(2023, 10, 14, 22, 13, 20, 250); // 1700000000.25 s

describe('Prng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
  });

  it('draws integers inside the bounds', () => {
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(p.int(2, 4));
    expect([...seen].sort()).toEqual([2, 3, 4]);
    expect(() => p.pick([])).toThrow(RangeError);
  });
});

describe('epicsTimeFromMs', () => {
  it('converts to seconds past 1990 and nanoseconds', () => {
    expect(epicsTimeFromMs(NOW)).toEqual({ secondsPastEpoch: 1700000000 - 631152000, nanoseconds: 250000000 });
  });
});

describe('Pv', () => {
  const doubleSpec = {
    name: 't:d',
    type: 'DOUBLE' as const,
    value: 0,
    limits: { alarmLow: -9, warningLow: -7, warningHigh: 7, alarmHigh: 9 },
  };

  it('computes the alarm from the limits and reports alarm changes in the mask', () => {
    const pv = new Pv(doubleSpec, NOW);
    const masks: number[] = [];
    pv.onChange((m) => masks.push(m));
    const cases: [number, number, number][] = [
      [8, AlarmStatus.HIGH, AlarmSeverity.MINOR],
      [9.5, AlarmStatus.HIHI, AlarmSeverity.MAJOR],
      [-7, AlarmStatus.LOW, AlarmSeverity.MINOR],
      [-100, AlarmStatus.LOLO, AlarmSeverity.MAJOR],
      [1, AlarmStatus.NO_ALARM, AlarmSeverity.NO_ALARM],
    ];
    for (const [value, status, severity] of cases) {
      expect(pv.put([value], NOW)).toBeUndefined();
      expect([pv.status, pv.severity]).toEqual([status, severity]);
    }
    expect(masks.every((m) => (m & EventMask.DBE_VALUE) !== 0)).toBe(true);
    expect(masks.every((m) => (m & EventMask.DBE_ALARM) !== 0)).toBe(true);
    pv.put([2], NOW);
    expect(masks.at(-1)).toBe(EventMask.DBE_VALUE | EventMask.DBE_LOG);
  });

  it('refuses writes to read-only PVs, bad counts and enum indexes beyond the states', () => {
    expect(new Pv({ ...doubleSpec, writable: false }, NOW).put([1], NOW)).toBe('read-only');
    const arr = new Pv({ name: 'a', type: 'LONG', count: 3 }, NOW);
    expect(arr.put([1, 2, 3, 4], NOW)).toBe('bad-count');
    expect(arr.put([], NOW)).toBe('bad-count');
    expect(arr.put([5, 6], NOW)).toBeUndefined();
    expect(arr.value).toEqual([5, 6]);
    const e = new Pv({ name: 'e', type: 'ENUM', enumStrings: ENUM_STATES }, NOW);
    expect(e.put([3], NOW)).toBe('bad-value');
    expect(e.put([2], NOW)).toBeUndefined();
  });

  it('raises a STATE alarm for enum states with a severity', () => {
    const e = new Pv({ name: 'e', type: 'ENUM', enumStrings: ENUM_STATES, enumSeverities: [0, 0, 2] }, NOW);
    e.put([2], NOW);
    expect([e.status, e.severity]).toEqual([AlarmStatus.STATE, AlarmSeverity.MAJOR]);
  });

  it('stores numbers as the C element type would', () => {
    expect(coerceNumber('SHORT', 40000)).toBe(40000 - 65536);
    expect(coerceNumber('CHAR', 300.7)).toBe(44);
    expect(coerceNumber('LONG', -3.9)).toBe(-3);
    expect(coerceNumber('FLOAT', 0.1)).toBe(Math.fround(0.1));
    const s = new Pv({ name: 's', type: 'SHORT' }, NOW);
    s.put([70000], NOW);
    expect(s.value).toEqual([70000 - 65536]);
  });

  it('updates deterministically for a seed', () => {
    const run = (): number[] => {
      const pv = new Pv(
        { name: 'x', type: 'DOUBLE', update: { kind: 'random' }, limits: { displayLow: 0, displayHigh: 10 } },
        NOW,
      );
      const prng = new Prng(5);
      const out: number[] = [];
      for (let i = 0; i < 10; i++) {
        pv.tick(prng, NOW);
        out.push(pv.value[0] as number);
      }
      return out;
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(1);
    for (const v of a) expect(v >= 0 && v <= 10).toBe(true);
  });

  it('counts up by its step', () => {
    const pv = new Pv({ name: 'c', type: 'LONG', value: 5, update: { kind: 'counter', periodMs: 100, step: 2 } }, NOW);
    pv.tick(new Prng(1), NOW);
    pv.tick(new Prng(1), NOW);
    expect(pv.value).toEqual([9]);
  });
});

describe('standardPvs', () => {
  it('always serves the six documented names with their types', () => {
    const db = new PvDatabase(standardPvs({ prefix: 'P:' }), NOW);
    expect(db.get('P:double')?.type).toBe('DOUBLE');
    expect(db.get('P:double')?.units).not.toBe('');
    expect(db.get('P:double')?.limits.displayHigh).toBeDefined();
    expect(db.get('P:long')?.type).toBe('LONG');
    expect(db.get('P:string')?.type).toBe('STRING');
    expect(db.get('P:enum')?.enumStrings).toEqual(['Off', 'On', 'Fault']);
    expect(db.get('P:waveform')?.maxCount).toBe(1000);
    expect(db.get('P:waveform')?.type).toBe('DOUBLE');
    expect(db.get('P:counter')?.update).toEqual({ kind: 'counter', periodMs: 100 });
    for (const n of ['double', 'long', 'string', 'enum', 'waveform', 'counter'])
      expect(db.get(`P:${n}`)?.writable).toBe(true);
  });

  it('generates N extra PVs covering every native type', () => {
    const specs = standardPvs({ prefix: 'g:', generated: 9, seed: 3, bigWaveformCount: 10 });
    const generated = specs.filter((s) => /^g:pv\d+$/.test(s.name));
    expect(generated).toHaveLength(9);
    expect(new Set(generated.map((s) => s.type))).toEqual(
      new Set(['DOUBLE', 'FLOAT', 'LONG', 'SHORT', 'CHAR', 'ENUM', 'STRING']),
    );
    expect(standardPvs({ prefix: 'g:', generated: 9, seed: 3, bigWaveformCount: 10 })).toEqual(specs);
  });

  it('removes PVs and tells listeners', () => {
    const db = new PvDatabase(standardPvs({ prefix: 'r:' }), NOW);
    const removed: string[] = [];
    db.onRemove((pv) => removed.push(pv.name));
    expect(db.remove('r:double')).toBe(true);
    expect(db.remove('r:double')).toBe(false);
    expect(removed).toEqual(['r:double']);
    expect(db.has('r:double')).toBe(false);
  });
});

describe('waveform groups', () => {
  it.each([
    ['30000@10', { count: 30000, rateHz: 10, copies: 1 }],
    ['100@20x10', { count: 100, rateHz: 20, copies: 10 }],
    ['64', { count: 64, rateHz: 10, copies: 1 }],
    ['8x3', { count: 8, rateHz: 10, copies: 3 }],
    [' 5@2.5 ', { count: 5, rateHz: 2.5, copies: 1 }],
  ])('parses %s', (text, expected) => {
    expect(parseWaveformGroup(text)).toEqual(expected);
  });

  it.each(['', 'x', '0@10', '10@0', '10x0', '10@-1', '1e3', '100@10x2x3'])('rejects "%s"', (text) => {
    expect(() => parseWaveformGroup(text)).toThrow(RangeError);
  });

  it('makes updating DOUBLE waveforms named by size and copy, each with its own tick period', () => {
    const specs = waveformPvs('w:', [
      { count: 30000, rateHz: 10 },
      { count: 100, rateHz: 20, copies: 2 },
    ]);
    expect(specs.map((s) => [s.name, s.type, s.count, ownPeriodMs(s.update)])).toEqual([
      ['w:wave30000_0', 'DOUBLE', 30000, 100],
      ['w:wave100_0', 'DOUBLE', 100, 50],
      ['w:wave100_1', 'DOUBLE', 100, 50],
    ]);
    const pv = new Pv(specs[1] as PvSpec, 0);
    const before = [...(pv.value as number[])];
    pv.tick(new Prng(1), 1);
    expect(pv.value).toHaveLength(100);
    expect(pv.value).not.toEqual(before);
    expect(() => waveformPvs('w:', [{ count: 0, rateHz: 1 }])).toThrow(RangeError);
    expect(() => waveformPvs('w:', [{ count: 1, rateHz: 0 }])).toThrow(RangeError);
  });

  it('leaves rate-driven PVs without a period of their own', () => {
    expect(ownPeriodMs({ kind: 'sine' })).toBeUndefined();
    expect(ownPeriodMs({ kind: 'counter', periodMs: 100 })).toBe(100);
  });
});

describe('conversions', () => {
  const db = new PvDatabase(standardPvs({ prefix: 'c:' }), NOW);
  const pv = (n: string): Pv => db.get(`c:${n}`) as Pv;

  it('reads numbers as strings with the precision and enums as state names', () => {
    expect(readElements(pv('double'), 'STRING', 1)).toEqual(['42.500']);
    expect(readElements(pv('enum'), 'STRING', 1)).toEqual(['Off']);
    expect(readElements(pv('long'), 'DOUBLE', 1)).toEqual([7]);
    expect(readElements(pv('longarray'), 'LONG', 18).slice(14)).toEqual([196, 225, 0, 0]);
  });

  it('parses strings written to numeric and enum PVs, and refuses nonsense', () => {
    expect(writeElements(pv('double'), 'STRING', ['  12.5 '])).toEqual([12.5]);
    expect(writeElements(pv('enum'), 'STRING', ['Fault'])).toEqual([2]);
    expect(writeElements(pv('enum'), 'STRING', ['1'])).toEqual([1]);
    expect(writeElements(pv('double'), 'STRING', ['twelve'])).toBeUndefined();
    expect(writeElements(pv('enum'), 'STRING', ['Maybe'])).toBeUndefined();
    expect(writeElements(pv('string'), 'LONG', [5])).toEqual(['5']);
  });
});
