/**
 * The alert list's logic: grouped alert rows as the daemon sends them (one per kind and subject), what
 * the page shows of each, and acknowledgement (`POST /api/alerts/ack`, held by the daemon for every page).
 */
import type { AlertRow } from './contract.js';

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
