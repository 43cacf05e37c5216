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
  /**
   * An exit status that means the tool finished its work on damaged input (ca-shark's 3: a message cut
   * short at the capture's end, a malformed one): the run counts, and the row says so.
   */
  damagedExit?: number;
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

/** Whether a row's run finished its work: exit 0, or the exit status that means damaged input. */
export function succeeded(row: Row): boolean {
  const m = row.measurement;
  return !m.timedOut && (m.exitCode === 0 || (m.exitCode !== null && m.exitCode === row.damagedExit));
}

/** The cells of a row: rates use wall time, as a user waiting for the command sees them. */
export function cells(row: Row): string[] {
  const m = row.measurement;
  const failed = !succeeded(row);
  const rate = failed || !(m.wallS > 0) ? NaN : row.units / m.wallS;
  const mbps = failed || !(m.wallS > 0) ? NaN : row.bytes / 1048576 / m.wallS;
  const status = m.timedOut
    ? 'TIMED OUT'
    : failed
      ? `EXIT ${m.exitCode ?? 'signal'}`
      : m.exitCode !== 0
        ? `exit ${m.exitCode}: damaged input, decoded`
        : '';
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

/** One tool's row on two captures of the same mix, a smaller and a larger one. */
export interface RowPair {
  small: Row;
  large: Row;
}

const STEADY_HEADERS = ['tool', 'extra units', 'extra wall s', 'extra cpu s', 'rate/s', 'MB/s', 'target'];

/**
 * The steady-state cells of a tool measured on two captures of one mix: the larger capture's extra units
 * and bytes over its extra wall time. Start-up, module loading and JIT warm-up are paid once per run, so
 * they cancel out; what is left is what each further message costs. `-` where either run failed or the
 * larger one was not slower.
 */
export function steadyCells(pair: RowPair): string[] {
  const { small, large } = pair;
  const units = large.units - small.units;
  const wall = large.measurement.wallS - small.measurement.wallS;
  const cpu = large.measurement.cpuS - small.measurement.cpuS;
  const valid = succeeded(small) && succeeded(large) && wall > 0 && units > 0;
  const rate = valid ? units / wall : NaN;
  const mbps = valid ? (large.bytes - small.bytes) / 1048576 / wall : NaN;
  const target = large.target === undefined ? '' : targetCell({ ...large, target: { rate: large.target.rate } }, rate);
  return [
    large.tool,
    valid ? thousands(units) : '-',
    valid ? fixed(wall, 2) : '-',
    valid ? fixed(cpu, 2) : '-',
    Number.isFinite(rate) ? `${thousands(rate)} ${large.unitName}` : '-',
    fixed(mbps, 1),
    target,
  ];
}

/** Renders the steady-state table of {@link steadyCells}. */
export function renderSteadyTable(pairs: readonly RowPair[]): string {
  return renderGrid(STEADY_HEADERS, pairs.map(steadyCells));
}
