/**
 * Downloads of what the page shows: a table as CSV (the columns as displayed) or NDJSON (the rows as the
 * daemon sent them), and the pcapng of the packets behind the current filter (`/api/pcap`, beside the page,
 * with its token). Text is made where the rows are (the data worker for the big tables); the page only turns
 * it into a file.
 */
import type { LiveRecord, SubscribeFilter } from './contract.js';
import type { Column } from './table.js';

/** The formats a table downloads as. */
export type TableFormat = 'csv' | 'ndjson';

/** MIME type of each format. */
export const FORMAT_MIME: Record<TableFormat, string> = {
  csv: 'text/csv;charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/** A CSV field (RFC 4180): quoted when it holds a comma, quote, or line break; quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV, one header line of column labels, the cells as the table displays them (CRLF lines). */
export function tableCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(c.label)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(c.text(row))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The rows as NDJSON: one JSON object a line, every field as the daemon sent it. */
export function tableNdjson(rows: readonly unknown[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row) + '\n';
  return out;
}

/** The rows in `format`. */
export function tableText<T>(format: TableFormat, columns: readonly Column<T>[], rows: readonly T[]): string {
  return format === 'csv' ? tableCsv(columns, rows) : tableNdjson(rows);
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Columns of the Live table's CSV: every field of a live record, the time in ISO 8601 UTC. */
export const LIVE_EXPORT_COLUMNS: Column<LiveRecord>[] = [
  { key: 'id', label: 'id', text: (r) => cell(r.id) },
  { key: 't', label: 'time', text: (r) => new Date(r.t * 1000).toISOString() },
  { key: 'frame', label: 'frame', text: (r) => cell(r.frame) },
  { key: 'src', label: 'src', text: (r) => r.src },
  { key: 'dst', label: 'dst', text: (r) => r.dst },
  { key: 'proto', label: 'proto', text: (r) => r.proto },
  { key: 'cmd', label: 'command', text: (r) => r.cmd },
  { key: 'pv', label: 'pv', text: (r) => cell(r.pv) },
  { key: 'summary', label: 'summary', text: (r) => r.summary },
  { key: 'latency', label: 'latency_s', text: (r) => cell(r.latency) },
  { key: 'status', label: 'status', text: (r) => cell(r.status) },
  { key: 'error', label: 'error', text: (r) => (r.error ? 'true' : 'false') },
  { key: 'size', label: 'size', text: (r) => cell(r.size) },
];

/** A file name for a download: `ca-shark-channels-20261206T053000Z.csv` (UTC). */
export function downloadName(what: string, extension: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `ca-shark-${what}-${stamp}.${extension}`;
}

/**
 * `/api/pcap` beside the page (it may be served under a path prefix) for `filter`, with the page's token:
 * the packets of the messages the filter keeps, as pcapng.
 */
export function pcapUrl(loc: { origin: string; pathname: string; search: string }, filter: SubscribeFilter): string {
  const base = loc.pathname.replace(/[^/]*$/, '');
  const q = new URLSearchParams();
  for (const pv of filter.pv ?? []) q.append('pv', pv);
  for (const host of filter.host ?? []) q.append('host', host);
  for (const command of filter.command ?? []) q.append('command', command);
  if (filter.errors === true) q.set('errors', '1');
  const token = new URLSearchParams(loc.search).get('token');
  if (token) q.set('token', token);
  const query = q.toString();
  return `${loc.origin}${base}api/pcap${query === '' ? '' : `?${query}`}`;
}

/** Hands `text` to the browser as a file named `name` (the browser's download, no server round trip). */
export function saveText(name: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the object URL; it may be let go after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
