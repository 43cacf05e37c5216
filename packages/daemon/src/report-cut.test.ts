import { describe, expect, it } from 'vitest';
import { cutReport } from './report-cut.js';

describe('cutReport', () => {
  const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ [tag]: i }));
  const report = {
    summary: { first_seen: 1, last_seen: 2, records: 3 },
    never_found: rows(5, 'pv'),
    writes: rows(5, 'frame'),
    beacons: rows(1, 'server'),
    omitted: { writes: 10 },
  };

  it('keeps the first rows of a ranking, the latest of a log, and counts what it left out', () => {
    const cut = cutReport(report as never, 2, 7);
    expect(cut.never_found).toEqual([{ pv: 0 }, { pv: 1 }]);
    expect(cut.writes).toEqual([{ frame: 3 }, { frame: 4 }]);
    expect(cut.beacons).toEqual([{ server: 0 }]);
    expect(cut).toMatchObject({
      summary: report.summary,
      limit: 2,
      asOf: 7,
      // The analyses' own omissions (beyond their caps) stay counted.
      totals: { never_found: 5, writes: 15, beacons: 1 },
      omitted: { never_found: 3, writes: 13 },
    });
    expect(report.never_found).toHaveLength(5);
    expect(report.omitted).toEqual({ writes: 10 });
  });

  it('keeps every row without a limit', () => {
    const cut = cutReport(report as never, null, 7);
    expect(cut.never_found).toHaveLength(5);
    expect(cut).toMatchObject({ limit: null, omitted: { writes: 10 }, totals: { writes: 15 } });
  });
});
