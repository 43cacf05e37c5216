/**
 * The charts' past, from the daemon's `GET /api/history` (per-second aggregates kept for a day): loaded
 * when the page starts so charts open with what happened before, then polled for the seconds since, so
 * the charts follow capture time (a replay's rates look as they did). The same answer says whether the
 * daemon's input ended, when, and with how many messages: the page's "replay finished" notice.
 *
 * Framework-free and driven by injected `fetch` and timers, so it is tested in Node.
 */
import type { LatencyKind, LatencyPoint } from './latency.js';
import { LATENCY_KINDS } from './latency.js';
import type { RatePoint, Timers } from './live-client.js';

/** A series of the answer: column arrays, oldest first; `dt` is the seconds each point covers. */
interface Columns {
  t: number[];
  dt: number[];
}

/** The answer of `GET /api/history` (docs/websocket.md#history). */
export interface HistoryAnswerJSON {
  eof: boolean;
  endedAt: number | null;
  messages: number;
  since: number;
  until: number;
  step: number;
  newest: number | null;
  traffic: Columns & { messages: number[]; bytes: number[]; searches: number[]; errors: number[] };
  latency: (Columns & { server: string; kind: string; count: number[]; sum: number[]; max: number[] })[];
}

/** Whether the daemon's input (a replayed file, stdin) ended, when (wall clock, Unix s) and its messages. */
export interface InputState {
  eof: boolean;
  endedAt: number | null;
  messages: number;
}

/** Latency points of one server and kind, from the daemon. */
export interface LatencyHistory {
  server: string;
  kind: LatencyKind;
  points: LatencyPoint[];
}

/** What one answer adds, complete seconds only (the newest second may still grow until the input ends). */
export interface HistoryUpdate {
  input: InputState;
  rates: RatePoint[];
  /** Only on the first answer: the charts' latency past. */
  latency: LatencyHistory[] | null;
}

/** The part of `fetch` used here. */
export type HistoryFetch = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** `/api/history` beside the daemon's `/ws` URL (same host, path prefix and token), from `since` on. */
export function historyUrl(wsUrl: string, since?: number): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = u.pathname.replace(/ws$/, 'api/history');
  if (since !== undefined) u.searchParams.set('since', String(since));
  return u.toString();
}

/** The complete points of an answer as chart data: rates per second, latency points per series. */
export function historyUpdate(a: HistoryAnswerJSON, withLatency: boolean): HistoryUpdate {
  // The newest second is still being counted while the input runs: it comes with the next answer.
  const complete = (t: number): boolean => a.eof || a.newest === null || t < a.newest;
  const rates: RatePoint[] = [];
  const tr = a.traffic;
  for (let i = 0; i < tr.t.length; i++) {
    if (!complete(tr.t[i])) continue;
    const dt = tr.dt[i] > 0 ? tr.dt[i] : 1;
    rates.push({ t: tr.t[i], messagesPerSecond: tr.messages[i] / dt, searchesPerSecond: tr.searches[i] / dt });
  }
  let latency: LatencyHistory[] | null = null;
  if (withLatency) {
    latency = [];
    for (const s of a.latency) {
      if (!(LATENCY_KINDS as readonly string[]).includes(s.kind)) continue;
      const points: LatencyPoint[] = [];
      for (let i = 0; i < s.t.length; i++)
        if (complete(s.t[i])) points.push({ t: s.t[i], count: s.count[i], sum: s.sum[i], max: s.max[i] });
      latency.push({ server: s.server, kind: s.kind as LatencyKind, points });
    }
  }
  return { input: { eof: a.eof, endedAt: a.endedAt, messages: a.messages }, rates, latency };
}

function isAnswer(v: unknown): v is HistoryAnswerJSON {
  if (v === null || typeof v !== 'object') return false;
  const a = v as Partial<HistoryAnswerJSON>;
  return typeof a.eof === 'boolean' && typeof a.traffic === 'object' && Array.isArray(a.latency);
}

/**
 * Loads the history once, then polls for what is new every `intervalMs` until stopped (or until the daemon
 * says it keeps no history, 404: then the page falls back to rates from snapshots).
 */
export class HistoryLoader {
  /** False once the daemon answered that it keeps no history. */
  supported = true;
  private next: number | undefined;
  private first = true;
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly fetchFn: HistoryFetch,
    private readonly wsUrl: string,
    private readonly timers: Timers,
    private readonly onUpdate: (u: HistoryUpdate) => void,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    this.stopped = false;
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Starts over from the whole history (a reconnect: the daemon may have restarted). */
  reload(): void {
    this.next = undefined;
    this.first = true;
  }

  /** One request; resolves when its answer was applied (tests await it). */
  async poll(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    try {
      const res = await this.fetchFn(historyUrl(this.wsUrl, this.next));
      if (res.status === 404) {
        this.supported = false;
        return;
      }
      const body: unknown = res.ok ? await res.json() : null;
      if (isAnswer(body) && !this.stopped) {
        const update = historyUpdate(body, this.first);
        this.first = false;
        // The next request starts at the second this one could not count whole.
        if (body.newest !== null) this.next = body.eof ? body.newest + 1 : body.newest;
        this.onUpdate(update);
      }
    } catch {
      // The daemon is away (restarting, say): the next poll asks again.
    }
    if (!this.stopped) this.timer = this.timers.setTimeout(() => void this.poll(), this.intervalMs);
  }
}
