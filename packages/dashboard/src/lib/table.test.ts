import { describe, expect, it } from 'vitest';
import { formatAge, naturalKey, rowWindow, sortRows, type Column } from './table.js';
import { TABLE_COLUMNS } from './columns.js';

interface R {
  pv: string;
  n: number | null;
}
const rows: R[] = [
  { pv: 'b', n: 2 },
  { pv: 'a10', n: null },
  { pv: 'a9', n: 10 },
  { pv: 'c', n: 2 },
];
const byN: Column<R> = { key: 'n', label: 'n', sortValue: (r) => r.n, text: (r) => String(r.n ?? '') };
const byPv: Column<R> = { key: 'pv', label: 'pv', text: (r) => r.pv };

describe('sortRows', () => {
  it('sorts numbers both ways, stable, empty last', () => {
    expect(sortRows(rows, byN, 'asc').map((r) => r.pv)).toEqual(['b', 'c', 'a9', 'a10']);
    expect(sortRows(rows, byN, 'desc').map((r) => r.pv)).toEqual(['a9', 'b', 'c', 'a10']);
  });
  it('sorts text naturally and leaves the input alone', () => {
    expect(sortRows(rows, byPv, 'asc').map((r) => r.pv)).toEqual(['a9', 'a10', 'b', 'c']);
    expect(rows[0].pv).toBe('b');
    expect(sortRows(rows, undefined, 'asc')).toEqual(rows);
  });
  it('orders text naturally by keys made once: case-blind, digit runs by value', () => {
    expect(naturalKey('PV:a9')).toBe('pv:a0000000000000009');
    const pvs = ['x10', 'X9', 'x1.5', 'x1.10', 'w'].map((pv) => ({ pv, n: null }));
    expect(sortRows(pvs, byPv, 'asc').map((r) => r.pv)).toEqual(['w', 'x1.5', 'x1.10', 'X9', 'x10']);
  });
  it('formats ages', () => {
    expect(formatAge(5.5)).toBe('5 s');
    expect(formatAge(125)).toBe('2 min');
    expect(formatAge(7200)).toBe('2.0 h');
    expect(formatAge(-1)).toBe('');
  });
});

describe('rowWindow', () => {
  it('draws the rows in sight and the overscan either side', () => {
    // 240 px of 24 px rows scrolled to row 100: rows 100-109 in sight, 15 more either side.
    expect(rowWindow(2400, 240, 24, 15)).toEqual({ start: 85, end: 125 });
    expect(rowWindow(0, 240, 24, 15)).toEqual({ start: 0, end: 25 });
  });

  it('stays within the table when its length is known', () => {
    expect(rowWindow(0, 240, 24, 15, 12)).toEqual({ start: 0, end: 12 });
    // Scrolled past the end (the table shrank under the scroll box): the last rows, never a negative start.
    expect(rowWindow(24_000, 240, 24, 15, 120)).toEqual({ start: 95, end: 120 });
    expect(rowWindow(500, 240, 24, 15, 0)).toEqual({ start: 0, end: 0 });
  });

  it('survives a box not laid out yet (no height, no row height)', () => {
    expect(rowWindow(0, 0, 0, 15)).toEqual({ start: 0, end: 15 });
  });
});

describe('the big tables', () => {
  it('give every column a width: they are laid out as fixed tables', () => {
    for (const [id, columns] of Object.entries(TABLE_COLUMNS))
      for (const c of columns) expect(c.width, `${id}.${c.key}`).toBeGreaterThan(0);
  });
});
