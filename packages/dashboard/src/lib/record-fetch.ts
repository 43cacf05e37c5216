/**
 * The full record behind a Live row: `GET /api/record/:id` beside the page, with the page's token. The
 * daemon keeps a bounded ring of full records; an id that has left it answers 404 with a reason, which
 * the detail panel shows as it is.
 */
import type { RecordJSON } from './contract.js';

/** The part of `fetch` used here (injected by the tests). */
export type RecordFetch = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** `/api/record/ID` beside the page (which may sit under a path prefix), carrying its `?token=`. */
export function recordUrl(loc: { origin: string; pathname: string; search: string }, id: number): string {
  const base = loc.pathname.replace(/[^/]*$/, '');
  const token = new URLSearchParams(loc.search).get('token');
  const q = token ? `?${new URLSearchParams({ token }).toString()}` : '';
  return `${loc.origin}${base}api/record/${id}${q}`;
}

/** A full record or why there is none. */
export type RecordResult = { record: RecordJSON; error: null } | { record: null; error: string };

/** Fetches record `id`; never throws (a failure is a result with its reason). */
export async function fetchRecord(fetchFn: RecordFetch, url: string, id: number): Promise<RecordResult> {
  let res: Awaited<ReturnType<RecordFetch>>;
  try {
    res = await fetchFn(url);
  } catch (err) {
    return { record: null, error: `could not ask the daemon for record ${id}: ${errorText(err)}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok && isRecord(body)) return { record: body, error: null };
  const said =
    body !== null && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : null;
  if (res.status === 404) {
    return { record: null, error: said ?? `record ${id} is no longer held by the daemon` };
  }
  if (res.status === 401 || res.status === 403) {
    return { record: null, error: `the daemon refused record ${id} (HTTP ${res.status}): open the page with ?token=` };
  }
  return { record: null, error: said ?? `the daemon answered HTTP ${res.status} for record ${id}` };
}

function isRecord(x: unknown): x is RecordJSON {
  if (x === null || typeof x !== 'object') return false;
  const r = x as Partial<RecordJSON>;
  return typeof r.timestamp === 'number' && typeof r.command === 'object' && r.command !== null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
