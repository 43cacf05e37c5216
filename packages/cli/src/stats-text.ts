/** Text rendering of `ca-shark stats` (pandas-like tables, as caproto's benchmark example prints). */
import type { LatencySummary, StatsReport } from '@ca-shark/analysis';
import type { Palette } from './color.js';

const DESCRIBE_COLUMNS = ['count', 'mean', 'std', 'min', '25%', '50%', '75%', 'max'] as const;

/** Rows of the raw connection table in the text report (all of them are in --json). */
const MAX_RAW_ROWS = 20;

const LATENCY_SECTIONS: readonly [keyof StatsReport['latency'], string][] = [
  ['connection', 'Channel connection latency (s) by server (CreateChanRequest -> CreateChanResponse):'],
  ['search', 'Search reply latency (s) by server:'],
  ['readNotify', 'Read notify latency (s) by server:'],
  ['writeNotify', 'Write notify latency (s) by server:'],
];

/** Seconds with 6 decimals, as pandas shows these latencies; NaN for an undefined std. */
function seconds(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'NaN' : x.toFixed(6);
}

/** A right-aligned table with a left-aligned first column. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => {
    let width = h.length;
    for (const r of rows) width = Math.max(width, (r[i] ?? '').length);
    return width;
  });
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

function describeTable(keyName: string, groups: Record<string, LatencySummary>): string[] {
  const rows = Object.entries(groups).map(([key, d]) => [
    key,
    String(d.count),
    ...DESCRIBE_COLUMNS.slice(1).map((c) => seconds(d[c] as number | null)),
  ]);
  if (rows.length === 0) return ['  (none)'];
  return table([keyName, ...DESCRIBE_COLUMNS], rows).map((l) => '  ' + l);
}

/** The whole report as text lines. */
export function renderStats(report: StatsReport, c: Palette): string[] {
  const out: string[] = [];
  const n = report.unansweredCreations.length + (report.omitted?.unansweredCreations ?? 0);
  out.push(`${n} channel creation request${n === 1 ? ' was' : 's were'} unanswered during this capture.`);
  for (const u of report.unansweredCreations) {
    out.push(`  ${u.timestamp} ${u.client}->${u.server} ${u.pv ?? '?'} (cid ${u.cid ?? '?'})`);
  }
  if (report.omitted?.unansweredCreations) out.push(`  ... ${report.omitted.unansweredCreations} more not listed`);
  if (report.failedCreations > 0) {
    out.push(
      `${report.failedCreations} channel creation request${report.failedCreations === 1 ? ' was' : 's were'} refused (CreateChFailResponse).`,
    );
  }
  out.push('');
  out.push(c.heading('Channel connections (raw data):'));
  const shown = report.connections.slice(0, MAX_RAW_ROWS);
  const raw = shown.map((k) => [k.pv ?? '?', k.server, String(k.t), seconds(k.dt)]);
  append(out, raw.length ? table(['pv', 'server', 't', 'dt'], raw).map((l) => '  ' + l) : ['  (none)']);
  if (report.connections.length > shown.length) {
    const kept = report.omitted?.connections ? ` lists ${report.connections.length}` : ' lists them all';
    out.push(
      `  ... ${report.connections.length - shown.length + (report.omitted?.connections ?? 0)} more (ca-shark stats --json${kept})`,
    );
  }
  out.push('');
  for (const [kind, title] of LATENCY_SECTIONS) {
    out.push(c.heading(title));
    append(out, describeTable('server', report.latency[kind]));
    out.push('');
  }
  out.push(c.heading(`Messages per command (${report.messages} in all):`));
  const commands = Object.entries(report.commands).map(([k, v]) => [k, String(v)]);
  append(out, commands.length ? table(['command', 'count'], commands).map((l) => '  ' + l) : ['  (none)']);
  out.push('');
  out.push(c.heading('Most searched PVs:'));
  const searched = report.topSearched.map((s) => [s.pv, String(s.count)]);
  append(out, searched.length ? table(['pv', 'searches'], searched).map((l) => '  ' + l) : ['  (none)']);
  out.push('');
  out.push(c.heading('Circuits:'));
  const circuits = report.circuits.map((ci) => [
    ci.client,
    ci.server,
    ci.host ?? '?',
    ci.user ?? '?',
    String(ci.channels),
    String(ci.messages),
  ]);
  append(
    out,
    circuits.length
      ? table(['client', 'server', 'host', 'user', 'channels', 'messages'], circuits).map((l) => '  ' + l)
      : ['  (none)'],
  );
  if (report.omitted?.circuits) out.push(`  ... ${report.omitted.circuits} more circuits not listed`);
  const skipped = report.skippedFlows;
  if (skipped.flows > 0) {
    out.push('');
    out.push(
      `Skipped flows: ${skipped.flows} TCP flow${skipped.flows === 1 ? '' : 's'} (${skipped.bytes} bytes) not recognised as CA; ` +
        'name CA servers on other ports with --ports',
    );
  }
  return out;
}

/** Appends lines one by one: spreading a long table into push() would overflow the stack. */
function append(out: string[], lines: readonly string[]): void {
  for (const line of lines) out.push(line);
}
