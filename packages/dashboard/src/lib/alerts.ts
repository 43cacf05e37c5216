/**
 * The alert list's logic: grouped alert rows as the daemon sends them (one per kind and subject), what
 * the page shows of each, and acknowledgement (`POST /api/alerts/ack`, held by the daemon for every page).
 */
import { SEVERITIES, severityClass } from './analysis.js';
import type { AlertRow } from './contract.js';
import { formatClock, formatCount } from './dbr.js';
import { escapeHtml } from './row-html.js';
import type { Column } from './table.js';

/** `/api/alerts/ack` beside the page (which may sit under a path prefix), carrying its `?token=`. */
export function ackUrl(loc: { origin: string; pathname: string; search: string }): string {
  const base = loc.pathname.replace(/[^/]*$/, '');
  const token = new URLSearchParams(loc.search).get('token');
  const q = token ? `?${new URLSearchParams({ token }).toString()}` : '';
  return `${loc.origin}${base}api/alerts/ack${q}`;
}

/** The part of `fetch` used to acknowledge (injected by the tests). */
export type AckFetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Asks the daemon to acknowledge group `key`; resolves with null, or why it failed (never throws). */
export async function acknowledge(fetchFn: AckFetch, url: string, key: string): Promise<string | null> {
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    if (res.ok) return null;
    const body = (await res.json().catch(() => null)) as { error?: unknown } | null;
    return typeof body?.error === 'string' ? body.error : `the daemon answered ${res.status}`;
  } catch (err) {
    return `could not reach the daemon: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The row as acknowledged locally until the daemon's next snapshot says so too. */
export function withLocalAcks(rows: readonly AlertRow[], pending: ReadonlyMap<string, number>): AlertRow[] {
  if (pending.size === 0) return [...rows];
  return rows.map((r) =>
    r.acknowledged === null && pending.has(r.key)
      ? { ...r, acknowledged: { at: pending.get(r.key) as number, count: r.count } }
      : r,
  );
}

/** Occurrences since the acknowledgement (`+12 since`), or '' when none or not acknowledged. */
export function sinceAck(r: AlertRow): string {
  if (r.acknowledged === null) return '';
  const n = r.count - r.acknowledged.count;
  return n > 0 ? `+${n} since` : '';
}

/** First seen – last seen (UTC clock), or the one time when both are the same. */
export function alertWhen(a: AlertRow): string {
  const first = formatClock(a.firstSeen);
  return a.lastSeen > a.firstSeen ? `${first} – ${formatClock(a.lastSeen)}` : first;
}

/** What the last column says of an acknowledged row (when, and the occurrences since). */
function ackedText(a: AlertRow): string {
  return a.acknowledged === null ? '' : `acknowledged ${formatClock(a.acknowledged.at)} ${sinceAck(a)}`.trimEnd();
}

/** Rank of a severity in {@link SEVERITIES} (most serious first); one the page does not know sorts last. */
function severityRank(severity: string): number {
  const rank = (SEVERITIES as readonly string[]).indexOf(severity);
  return rank < 0 ? SEVERITIES.length : rank;
}

/**
 * The alert list's columns (ErrorsView's AlertList draws them with DataTable: up to 200 groups per
 * severity, a few hundred rows under a flood, each a Svelte component per cell made the switch to Errors
 * 200-480 ms). The last cell is an Acknowledge button (`data-ack` holds the group's key; the list handles
 * its click) or when it was acknowledged.
 */
export const ALERT_COLUMNS: Column<AlertRow>[] = [
  {
    key: 'severity',
    label: 'Severity',
    text: (a) => a.severity,
    sortValue: (a) => severityRank(a.severity),
    cellClass: (a) => severityClass(a.severity),
  },
  { key: 'kind', label: 'Kind', text: (a) => a.kind },
  { key: 'subject', label: 'Subject', mono: true, text: (a) => a.subject },
  { key: 'what', label: 'What', text: (a) => a.message, cellClass: () => 'what', cellTitle: (a) => a.message },
  {
    key: 'when',
    label: 'When',
    mono: true,
    title: 'First seen – last seen (UTC)',
    sortValue: (a) => a.lastSeen,
    text: alertWhen,
  },
  {
    key: 'count',
    label: 'Count',
    numeric: true,
    title: 'How many times it was raised',
    sortValue: (a) => a.count,
    text: (a) => formatCount(a.count),
  },
  {
    key: 'ack',
    label: '',
    text: ackedText,
    html: (a) =>
      a.acknowledged === null
        ? `<button type="button" class="ack" data-ack="${escapeHtml(a.key)}" data-testid="alert-ack">Acknowledge</button>`
        : `<span class="muted" data-testid="alert-acked">${escapeHtml(ackedText(a))}</span>`,
  },
];
