/**
 * The charts' data from the daemon (`/api/series/*`, `/api/talkers`, `/api/report?section=circuits`): URLs
 * beside the page with its token, a poller that asks again while a chart is open, and the conversion of a
 * series into uPlot's columns.
 */
import type { SeriesView, TalkersView } from '@ca-shark/daemon';
import type { CircuitLogEntry } from '@ca-shark/analysis';

export type { SeriesView, TalkersView, TalkerRow, TalkerLists } from '@ca-shark/daemon';
export type { CircuitLogEntry } from '@ca-shark/analysis';

/** An API URL beside the page (which may be served under a path prefix), carrying the page's `?token=`. */
export function apiUrl(
  loc: { origin: string; pathname: string; search: string },
  path: string,
  params: Record<string, string> = {},
): string {
  const base = loc.pathname.replace(/[^/]*$/, '');
  const q = new URLSearchParams(params);
  const token = new URLSearchParams(loc.search).get('token');
  if (token) q.set('token', token);
  const query = q.toString();
  return `${loc.origin}${base}api/${path}${query ? `?${query}` : ''}`;
}

/** The part of `fetch` used here (injected by the tests). */
export type FetchJson = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** One answer of a {@link JsonPoller}. */
export type PollResult<T> = { value: T; error: null } | { value: null; error: string };

/**
 * Fetches a URL now and then every `intervalMs` while started (0: once). A fetch still under way is
 * never doubled; `setUrl` asks the new URL at once. Failures are results, never thrown.
 */
export class JsonPoller<T> {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private running = false;

  constructor(
    private url: string,
    private readonly parse: (body: unknown) => T,
    private readonly onResult: (r: PollResult<T>) => void,
    private readonly fetchImpl: FetchJson,
    private intervalMs: number,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll(++this.generation);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Asks `url` from now on (at once when running), every `intervalMs` (0: once). */
  setUrl(url: string, intervalMs = this.intervalMs): void {
    if (url === this.url && intervalMs === this.intervalMs) return;
    this.url = url;
    this.intervalMs = intervalMs;
    if (this.running) {
      this.stop();
      this.start();
    }
  }

  private async poll(gen: number): Promise<void> {
    let result: PollResult<T>;
    try {
      const res = await this.fetchImpl(this.url);
      let body: unknown = null;
      try {
        body = await res.json();
      } catch {
        body = null;
      }
      if (!res.ok) {
        const said = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
        throw new Error(typeof said === 'string' ? said : `HTTP ${res.status}`);
      }
      result = { value: this.parse(body), error: null };
    } catch (e) {
      result = { value: null, error: e instanceof Error ? e.message : String(e) };
    }
    if (gen !== this.generation) return;
    this.onResult(result);
    if (this.intervalMs > 0) this.timer = setTimeout(() => void this.poll(gen), this.intervalMs);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object';

/** A series answer, checked for the fields the charts read (throws on anything else). */
export function parseSeries(body: unknown): SeriesView {
  if (
    !isObject(body) ||
    typeof body.step !== 'number' ||
    typeof body.start !== 'number' ||
    !isObject(body.fields) ||
    typeof body.key !== 'string'
  )
    throw new Error('the daemon sent no series');
  return body as unknown as SeriesView;
}

/** A talkers answer, checked for the lists the view reads. */
export function parseTalkers(body: unknown): TalkersView {
  if (
    !isObject(body) ||
    !isObject(body.iocs) ||
    !isObject(body.pvs) ||
    !isObject(body.hosts) ||
    !isObject(body.clients)
  )
    throw new Error('the daemon sent no top talkers');
  return body as unknown as TalkersView;
}

/** The `circuits` log of a `/api/report` answer (well-formed rows only). */
export function parseCircuits(body: unknown): CircuitLogEntry[] {
  if (!isObject(body) || !Array.isArray(body.circuits)) throw new Error('the daemon sent no circuits');
  return body.circuits.filter(
    (c): c is CircuitLogEntry =>
      isObject(c) && typeof c.circuit === 'number' && typeof c.start === 'number' && typeof c.end === 'number',
  );
}

/** The time column of a series (Unix seconds, one per point: the start of each point's slot). */
export function seriesTimes(s: SeriesView): number[] {
  const n = Object.values(s.fields)[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => s.start + i * s.step);
}

/** Fields of a series scaled by `factor` (e.g. seconds → milliseconds), nulls kept. */
export function scaled(values: readonly (number | null)[] | undefined, factor: number): (number | null)[] {
  return (values ?? []).map((v) => (v === null ? null : v * factor));
}

/** How a circuit ended, in words. */
export function circuitEnd(reason: string): string {
  switch (reason) {
    case 'fin':
      return 'closed (FIN)';
    case 'rst':
      return 'reset (RST)';
    case 'timeout':
      return 'timed out';
    case 'evicted':
      return 'forgotten (table full)';
    case 'capture-end':
      // Still open, or open when a replayed capture ended.
      return 'open';
    default:
      return reason;
  }
}
