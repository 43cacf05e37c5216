import { describe, expect, it } from 'vitest';
import type { Measurement } from './measure.js';
import { cells, renderSteadyTable, renderTable, steadyCells, thousands } from './table.js';
import type { Row } from './table.js';

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

  it('counts a run that exits with the damaged-input status, and says so', () => {
    const row: Row = {
      tool: 'ca-shark FILE (text)',
      measurement: { ...ok, exitCode: 3 },
      units: 300000,
      unitName: 'lines',
      bytes: 100 * 1048576,
      note: '',
      target: { rate: 100000 },
      damagedExit: 3,
    };
    expect(cells(row)).toEqual([
      'ca-shark FILE (text)',
      '2.00',
      '3.50',
      '150,000 lines',
      '50.0',
      '120',
      '≥ 100,000/s: met',
      'exit 3: damaged input, decoded',
    ]);
    expect(cells({ ...row, measurement: { ...ok, exitCode: 70 } })[7]).toBe('EXIT 70');
    const { damagedExit: _, ...strict } = row;
    expect(cells(strict)[3]).toBe('-');
  });
});

describe('steady-state table', () => {
  const run = (wallS: number, cpuS: number, units: number, mb: number): Row => ({
    tool: 'shark()',
    measurement: { ...ok, wallS, cpuS },
    units,
    unitName: 'msgs',
    bytes: mb * 1048576,
    note: '',
    target: { rate: 1_000_000, maxRssMb: 150 },
  });

  it("takes the larger capture's extra messages over its extra wall time", () => {
    // 2.5 M more messages and 1,000 MB more in 2.5 s more: 1 M msgs/s, 400 MB/s; the RSS limit is not a rate.
    expect(steadyCells({ small: run(1, 1.25, 250_000, 100), large: run(3.5, 4, 2_750_000, 1100) })).toEqual([
      'shark()',
      '2,500,000',
      '2.50',
      '2.75',
      '1,000,000 msgs',
      '400.0',
      '≥ 1,000,000/s: met',
    ]);
  });

  it('shows no rate when a run failed or the larger one was not slower', () => {
    const failed = { ...run(3.2, 3.7, 2_640_000, 1000), measurement: { ...ok, exitCode: 70 } };
    expect(steadyCells({ small: run(0.8, 1, 240_000, 100), large: failed }).slice(1, 6)).toEqual([
      '-',
      '-',
      '-',
      '-',
      '-',
    ]);
    expect(steadyCells({ small: run(0.8, 1, 240_000, 100), large: run(0.7, 1, 2_640_000, 1000) })[4]).toBe('-');
    expect(renderSteadyTable([{ small: run(0.8, 1, 1, 1), large: run(1, 1, 2, 2) }]).split('\n')).toHaveLength(3);
  });
});
