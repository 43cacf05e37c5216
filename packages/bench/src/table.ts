/** Formatting of the realistic bench's results: one row per tool, aligned columns. */
import type { Measurement } from './measure.js';

/** One line of the results table. */
export interface Row {
  tool: string;
  measurement: Measurement;
  /** Messages (or output lines) the rate is computed from. */
  units: number;
  /** What `units` counts: 'msgs' or 'lines'. */
  unitName: 'msgs' | 'lines';
  bytes: number;
  note: string;
  /** The issue-11 target of this row, if it has one: least rate (units/s, wall) and most peak RSS. */
  target?: Target;
}

/** A performance target: a rate to reach, and optionally a peak RSS not to exceed. */
export interface Target {
  rate: number;
  maxRssMb?: number;
}

const HEADERS = ['tool', 'wall s', 'cpu s', 'rate/s', 'MB/s', 'peak RSS MB', 'target', 'notes'];

/** `≥ 1M/s ≤ 150 MB: met` or `... : MISSED`, or '' for a row without a target. */
export function targetCell(row: Row, rate: number): string {
  const t = row.target;
  if (t === undefined) return '';
  const rss = t.maxRssMb === undefined ? '' : `, ≤ ${t.maxRssMb} MB`;
  const met = rate >= t.rate && (t.maxRssMb === undefined || row.measurement.rssMb <= t.maxRssMb);
  return `≥ ${thousands(t.rate)}/s${rss}: ${met ? 'met' : 'MISSED'}`;
}

/** `1234567` → `1,234,567`; `NaN` → `-`. */
export function thousands(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** `n` with `digits` decimals; `NaN` → `-`. */
export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** The cells of a row: rates use wall time, as a user waiting for the command sees them. */
export function cells(row: Row): string[] {
  const m = row.measurement;
  const failed = m.timedOut || m.exitCode !== 0;
  const rate = failed || !(m.wallS > 0) ? NaN : row.units / m.wallS;
  const mbps = failed || !(m.wallS > 0) ? NaN : row.bytes / 1048576 / m.wallS;
  const status = m.timedOut ? 'TIMED OUT' : m.exitCode !== 0 ? `EXIT ${m.exitCode ?? 'signal'}` : '';
  return [
    row.tool,
    fixed(m.wallS, 2),
    fixed(m.cpuS, 2),
    Number.isFinite(rate) ? `${thousands(rate)} ${row.unitName}` : '-',
    fixed(mbps, 1),
    fixed(m.rssMb, 0),
    targetCell(row, rate),
    [status, row.note].filter(Boolean).join('; '),
  ];
}

/** Renders rows as a Markdown-compatible table (pastes into docs/performance.md as is). */
export function renderTable(rows: readonly Row[]): string {
  return renderGrid(HEADERS, rows.map(cells));
}

/** Renders headers and rows of cells as a Markdown table with aligned columns. */
export function renderGrid(headers: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
