/**
 * The live analyses of the daemon (`snapshot.analysis`, `alerts`, `/api/report`) made ready to show:
 * tolerant readers (a daemon without the analyses, or a row it added a field to, must not break the
 * page), alert counts by severity, write outcomes, and the periodic report fetch of the Searches view.
 */
import type {
  AlertRow,
  BeaconAnomalyRow,
  DuplicateRow,
  NeverFoundRow,
  RedundantSubscriptionRow,
  SearchStormRow,
  SnapshotAnalysis,
  SnapshotMessage,
  WriteRow,
} from './contract.js';
import { ecaStatus, formatLastValue } from './dbr.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listOf<T>(v: unknown, valid: (x: Record<string, unknown>) => boolean): T[] {
  return Array.isArray(v) ? (v.filter((x) => isRecord(x) && valid(x)) as T[]) : [];
}

const hasPv = (x: Record<string, unknown>): boolean => typeof x.pv === 'string';
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The IP of an `"ip:port"` endpoint. */
export function hostOf(endpoint: string): string {
  return endpoint.replace(/:\d+$/, '');
}

/** A list cut to its first `max` items: `a, b, c +4 more`. */
export function formatList(items: readonly string[], max = 3): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} +${items.length - max} more`;
}

/**
 * The snapshot's analyses with every list present and every row carrying the fields the tables read.
 * A daemon that sends no `analysis` still has its own unanswered-search table: the never-found list
 * falls back to it, so the Searches view works against either.
 */
export function analysisOf(snap: SnapshotMessage | null | undefined): SnapshotAnalysis {
  if (snap === null || snap === undefined) return readAnalysis(snap);
  // Read once per snapshot, however many views and tables ask: a busy capture's lists took 40 ms to check.
  let read = analysisRead.get(snap);
  if (read === undefined) {
    read = readAnalysis(snap);
    analysisRead.set(snap, read);
  }
  return read;
}

/** {@link analysisOf} of each snapshot seen (snapshots are never changed once received). */
const analysisRead = new WeakMap<SnapshotMessage, SnapshotAnalysis>();

function readAnalysis(snap: SnapshotMessage | null | undefined): SnapshotAnalysis {
  const a: Record<string, unknown> = isRecord(snap?.analysis)
    ? (snap.analysis as unknown as Record<string, unknown>)
    : {};
  let neverFound = listOf<NeverFoundRow>(a.never_found, hasPv).map((n) => ({
    ...n,
    clients: strings(n.clients),
    hosts: strings(n.hosts),
  }));
  if (!isRecord(snap?.analysis)) {
    neverFound = (snap?.searches?.unanswered ?? []).map((u) => {
      const clients = strings(u.clients);
      return {
        pv: u.pv,
        count: u.count,
        first_seen: u.firstSeen,
        last_seen: u.lastSeen,
        clients,
        hosts: [...new Set(clients.map(hostOf))],
      };
    });
  }
  return {
    never_found: neverFound,
    duplicates: listOf<DuplicateRow>(a.duplicates, hasPv).map((d) => ({
      ...d,
      servers: strings(d.servers),
      answers: Array.isArray(d.answers) ? d.answers : [],
    })),
    beacon_anomalies: listOf<BeaconAnomalyRow>(
      a.beacon_anomalies,
      (x) => typeof x.server === 'string' && typeof x.time === 'number',
    ),
    writes: listOf<WriteRow>(a.writes, (x) => typeof x.time === 'number' && typeof x.client === 'string').map((w) => ({
      ...w,
      value: Array.isArray(w.value) ? w.value : [],
    })),
    redundant_subscriptions: listOf<RedundantSubscriptionRow>(a.redundant_subscriptions, hasPv).map((r) => ({
      ...r,
      subscriptionids: Array.isArray(r.subscriptionids) ? r.subscriptionids : [],
    })),
  };
}

/** Alert severities, most serious first. */
export const SEVERITIES = ['error', 'warn', 'info'] as const;
/** One alert severity. */
export type Severity = (typeof SEVERITIES)[number];

/** How many alerts of each severity, and the most serious present. */
export interface AlertSummary {
  total: number;
  error: number;
  warn: number;
  info: number;
  /** Null when there are no alerts. */
  worst: Severity | null;
}

/** A severity the page knows; anything else counts as `info`. */
export function severityOf(v: unknown): Severity {
  return v === 'error' || v === 'warn' ? v : 'info';
}

/** Counts open (unacknowledged) alert groups by severity. */
export function alertSummary(alerts: readonly AlertRow[] | null | undefined): AlertSummary {
  const s: AlertSummary = { total: 0, error: 0, warn: 0, info: 0, worst: null };
  for (const a of alerts ?? []) {
    if (a.acknowledged != null) continue;
    s[severityOf(a.severity)]++;
    s.total++;
  }
  s.worst = SEVERITIES.find((k) => s[k] > 0) ?? null;
  return s;
}

/**
 * Open alert groups by severity: the daemon's totals when the snapshot has them (they count groups beyond
 * the list it sends), else counted from the list.
 */
export function alertSummaryOf(
  snapshot:
    | { alerts?: readonly AlertRow[] | null; alertTotals?: { open?: Partial<Record<Severity, unknown>> } }
    | null
    | undefined,
): AlertSummary {
  const open = snapshot?.alertTotals?.open;
  if (open === undefined) return alertSummary(snapshot?.alerts);
  const s: AlertSummary = { total: 0, error: 0, warn: 0, info: 0, worst: null };
  for (const k of SEVERITIES) {
    const n = open[k];
    s[k] = typeof n === 'number' && n > 0 ? n : 0;
    s.total += s[k];
  }
  s.worst = SEVERITIES.find((k) => s[k] > 0) ?? null;
  return s;
}

/** The badge's words: `3 alerts (1 error, 2 warn)`, or `no alerts`. */
export function describeAlerts(s: AlertSummary): string {
  if (s.total === 0) return 'no alerts';
  const parts = SEVERITIES.filter((k) => s[k] > 0).map((k) => `${s[k]} ${k === 'error' && s[k] > 1 ? 'errors' : k}`);
  return `${s.total} alert${s.total === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** CSS class of a severity (`info` has its own colour). */
export function severityClass(v: unknown): string {
  return severityOf(v);
}

/** Outcome of a write as text and a CSS class (`ok`, `error`, or `muted` when nothing answered). */
export function writeOutcome(w: WriteRow): { text: string; cls: string } {
  const eca = ecaStatus(w.status_name ?? w.status ?? undefined);
  if (eca) return { text: eca.name, cls: eca.ok ? 'ok' : 'error' };
  // A plain WRITE is acknowledged only when it fails; silence is its success.
  if (w.command === 'WriteRequest') return { text: 'no reply (WRITE)', cls: 'muted' };
  return { text: 'no reply yet', cls: 'muted' };
}

/** A write's value: the elements the report kept, with the real element count when it cut them. */
export function formatWriteValue(w: WriteRow, maxElements = 6): string {
  const v = w.value.length === 1 && (w.data_count === null || w.data_count <= 1) ? w.value[0] : w.value;
  return formatLastValue(v, maxElements, w.data_count);
}

/** What a duplicate verdict means, for the cell's tooltip. */
export function describeDuplicate(d: DuplicateRow): string {
  const answers = d.answers.map((a) => `${a.server} via ${a.via.join(', ') || '?'} (${a.count}×)`).join('; ');
  const what = d.verdict === 'duplicate' ? 'different servers answer this PV' : 'one server reached over several paths';
  return answers ? `${what}: ${answers}` : what;
}

/**
 * The report URL beside the page (it may be served under a path prefix), carrying the page's token:
 * `/api/report?section=search_storms&token=T`.
 */
export function reportUrl(
  loc: { origin: string; pathname: string; search: string },
  sections: readonly string[],
): string {
  const base = loc.pathname.replace(/[^/]*$/, '');
  const q = new URLSearchParams({ section: sections.join(',') });
  const token = new URLSearchParams(loc.search).get('token');
  if (token) q.set('token', token);
  return `${loc.origin}${base}api/report?${q.toString()}`;
}

/** The `search_storms` rows of a `/api/report` answer (well-formed ones only). */
export function parseStorms(body: unknown): SearchStormRow[] {
  if (!isRecord(body)) return [];
  return listOf<SearchStormRow>(
    body.search_storms,
    (x) => hasPv(x) && typeof x.count === 'number' && typeof x.rate === 'number',
  ).map((s) => ({ ...s, clients: strings(s.clients), reasons: strings(s.reasons), flagged: s.flagged === true }));
}

/** What one poll of the report gave. */
export interface StormPoll {
  storms: SearchStormRow[];
  /** Why the last fetch failed, or null. */
  error: string | null;
  /** Wall-clock ms of the last answer. */
  at: number;
}

/** The part of `fetch` the poller uses (injected by the tests). */
export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/**
 * Fetches the report's search storms every `intervalMs` while started. A fetch still under way is never
 * doubled (a slow daemon gets one request at a time), and a failure is reported, not thrown.
 */
export class StormPoller {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private generation = 0;

  constructor(
    private readonly url: string,
    private readonly onResult: (r: StormPoll) => void,
    private readonly fetchImpl: FetchLike,
    private readonly intervalMs = 5000,
  ) {}

  /** Fetches now, then every interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const gen = ++this.generation;
    void this.poll(gen);
  }

  /** Stops; an answer still in flight is dropped. */
  stop(): void {
    this.running = false;
    this.generation++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(gen: number): Promise<void> {
    let result: StormPoll;
    try {
      const res = await this.fetchImpl(this.url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      result = { storms: parseStorms(await res.json()), error: null, at: Date.now() };
    } catch (e) {
      result = { storms: [], error: e instanceof Error ? e.message : String(e), at: Date.now() };
    }
    if (gen !== this.generation) return;
    this.onResult(result);
    this.timer = setTimeout(() => void this.poll(gen), this.intervalMs);
  }
}
