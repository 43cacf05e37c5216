import { describe, expect, it } from 'vitest';
import type { Measurement } from './measure.js';
import { cells, renderTable, thousands } from './table.js';

const ok: Measurement = { wallS: 2, cpuS: 3.5, rssMb: 120.4, exitCode: 0, timedOut: false, stdout: '', stderr: '' };

describe('results table', () => {
  it('computes rates from wall time', () => {
    expect(
      cells({
        tool: 'shark()',
        measurement: ok,
        units: 300000,
        unitName: 'msgs',
        bytes: 100 * 1048576,
        note: '0 malformed',
      }),
    ).toEqual(['shark()', '2.00', '3.50', '150,000 msgs', '50.0', '120', '', '0 malformed']);
  });

  it('says whether a row met its target rate and RSS', () => {
    const row = { tool: 't', measurement: ok, units: 300000, unitName: 'msgs' as const, bytes: 0, note: '' };
    expect(cells({ ...row, target: { rate: 100000, maxRssMb: 150 } })[6]).toBe('≥ 100,000/s, ≤ 150 MB: met');
    expect(cells({ ...row, target: { rate: 100000, maxRssMb: 100 } })[6]).toBe('≥ 100,000/s, ≤ 100 MB: MISSED');
    expect(cells({ ...row, target: { rate: 1000000 } })[6]).toBe('≥ 1,000,000/s: MISSED');
  });

  it('shows no rate for a failed or timed-out run, and says why', () => {
    const failed = cells({
      tool: 't',
      measurement: { ...ok, exitCode: 70 },
      units: 10,
      unitName: 'lines',
      bytes: 1,
      note: '',
    });
    expect([failed[3], failed[4], failed[7]]).toEqual(['-', '-', 'EXIT 70']);
    const late = cells({
      tool: 't',
      measurement: { ...ok, timedOut: true, exitCode: null },
      units: 10,
      unitName: 'lines',
      bytes: 1,
      note: 'n',
    });
    expect(late[7]).toBe('TIMED OUT; n');
  });

  it('aligns a Markdown table', () => {
    const text = renderTable([{ tool: 'a', measurement: ok, units: NaN, unitName: 'msgs', bytes: 0, note: '' }]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[1]).toMatch(/^\|-+\|/);
    expect(thousands(NaN)).toBe('-');
  });
});
