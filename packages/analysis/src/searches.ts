import { type Bounded, BoundedMap, compareText, firstRows, RecentLookup } from './bounded.js';
import { type Steps, filterSteps, mapSteps, runSteps, topSteps } from './steps.js';
import { quantileSorted } from './describe.js';
import { type AnalysisRecord, numberField, receiver, respondingServer, sender, stringField } from './record.js';

/** A robust outlier must also be this many times the median ("far more than the others"). */
const OUTLIER_FACTOR = 5;
/** Fewer entries than this make no population to stand out from. */
const MIN_POPULATION = 4;
/** Scales the median absolute deviation to a standard deviation for normally distributed counts. */
const MAD_TO_SIGMA = 1.4826;

/**
 * The count above which an entry stands out from its population. Two tests, either suffices:
 * - the classic search snooper's: over the mean plus `sigma` standard deviations;
 * - a robust one: over the median plus `sigma` scaled median absolute deviations and at least
 *   OUTLIER_FACTOR times the median. The mean and σ include the outliers themselves, so a few PVs storming
 *   together hide each other from the classic test; the median does not move for them.
 */
export function outlierLimit(counts: readonly number[], sigma: number): number {
  const n = counts.length;
  if (n < MIN_POPULATION) return Number.POSITIVE_INFINITY;
  let sum = 0;
  let squares = 0;
  for (const c of counts) {
    sum += c;
    squares += c * c;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, (squares - n * mean * mean) / (n - 1)));
  // Typed arrays sort numerically without a comparator call per comparison: 100,000 PVs in a few ms.
  const sorted = Float64Array.from(counts).sort();
  const median = quantileSorted(sorted, 0.5);
  const deviations = sorted.map((c) => Math.abs(c - median)).sort();
  const mad = quantileSorted(deviations, 0.5) * MAD_TO_SIGMA;
  const robust = Math.max(median + sigma * mad, OUTLIER_FACTOR * median);
  return Math.min(mean + sigma * std, robust);
}

/** Replies from one server to one search arriving closer than this are copies over several paths. */
const COPY_WINDOW_SECONDS = 0.05;
/** Client processes, and their hosts, listed per PV (the first ones to search it). */
const LISTED_CLIENTS = 32;
/** (client, cid) pairs whose retries are counted per PV; the oldest are forgotten beyond this. */
const MAX_RETRY_KEYS_PER_PV = 4096;
/**
 * Requests remembered per answer for spotting copies of one reply (see {@link COPY_WINDOW_SECONDS}) before
 * the older than the window are dropped; it doubles while all of them are recent.
 */
const REQUESTS_PRUNED_AT = 64;
/** Answering servers tracked per PV. */
const MAX_ANSWERS_PER_PV = 64;
/** The client kinds in a reason's words. */
const PLURAL = { host: 'hosts', process: 'processes' } as const;
/** Servers remembered as having answered a search (for the beacon analysis). */
const MAX_ANSWERING_SERVERS = 10_000;

export interface SearchOptions {
  /** Flag a PV searched at or above this many searches per second over its searched span. */
  pvRateThreshold: number;
  /** Flag PVs / clients whose search count is this many standard deviations above the mean. */
  sigma: number;
  /** Flag a client searching at or above this many searches per second. */
  clientRateThreshold: number;
  /** Fewer searches than this are never flagged: a rate over a handful of searches means nothing. */
  minCount: number;
  /** Rows kept in the top tables (search storms; twice as many client rows). */
  topLimit: number;
  /** Rows kept in the other tables (never found, duplicates). */
  maxRows: number;
  /** Cap on tracked PVs and clients. */
  maxEntries: number;
}

export const defaultSearchOptions: SearchOptions = {
  pvRateThreshold: 1,
  sigma: 3,
  clientRateThreshold: 20,
  minCount: 10,
  topLimit: 50,
  maxRows: 1000,
  maxEntries: 100_000,
};

interface Answer {
  server: string;
  /** Datagram source and capture interface of each copy: more than one means several paths. */
  paths: Set<string>;
  first: number;
  last: number;
  count: number;
  /** Set when the same request was answered twice by this server within the copy window. */
  copies: boolean;
  /**
   * Time of the latest reply to each recent request ("client/cid"): only those within the copy window
   * can be copied, so the older ones are dropped once there are `pruneAt` of them.
   */
  lastByRequest: Map<string, number>;
  pruneAt: number;
}

interface PvSearches {
  pv: string;
  count: number;
  first: number;
  last: number;
  /** The first {@link LISTED_CLIENTS} client processes (ip:port) to search it, and hosts (ip). */
  clients: string[];
  hosts: string[];
  /** Requests per (client process, cid): the retries of one channel's search. */
  retries: BoundedMap<string, number>;
  /** Largest value ever in `retries` (kept as it goes: a count may later be evicted). */
  maxRetries: number;
  answers: Map<string, Answer>;
  firstUnanswered?: number;
}

interface ClientSearches {
  client: string;
  count: number;
  first: number;
  last: number;
  pvs: Set<string>;
}

/** One PV row of the search-storm table. */
export interface SearchStormEntry {
  pv: string;
  count: number;
  /** Searches per second over the span from first to last search (1 s minimum). */
  rate: number;
  first_seen: number;
  last_seen: number;
  answered: boolean;
  answers: number;
  /** Share of searches that went unanswered by any server (0..1). */
  unanswered_ratio: number;
  /** Largest number of searches one client made for one channel (cid). */
  retries: number;
  /** Seconds between the first still-unanswered search and the end of the capture, or null. */
  oldest_unanswered_age: number | null;
  clients: string[];
  flagged: boolean;
  reasons: string[];
}

/** One client row (a host or one process) of the search-storm table. */
export interface SearchClientEntry {
  client: string;
  kind: 'host' | 'process';
  count: number;
  rate: number;
  pvs: number;
  flagged: boolean;
  reasons: string[];
}

export interface NeverFoundEntry {
  pv: string;
  count: number;
  first_seen: number;
  last_seen: number;
  clients: string[];
  hosts: string[];
}

export interface DuplicateEntry {
  pv: string;
  servers: string[];
  verdict: 'duplicate' | 'multi-path';
  answers: { server: string; via: string[]; first_seen: number; count: number }[];
}

/**
 * Search traffic analysis: rates per PV, client host and client process, unanswered searches,
 * PVs never found and PVs answered by several servers.
 */
export class SearchAnalysis {
  private readonly pvs: RecentLookup<string, PvSearches>;
  private readonly processes: RecentLookup<string, ClientSearches>;
  private readonly hosts: RecentLookup<string, ClientSearches>;
  /** Servers that answered any search, for the beacon analysis. */
  readonly answeringServers = new Set<string>();

  constructor(private readonly options: SearchOptions = defaultSearchOptions) {
    this.pvs = new RecentLookup(new BoundedMap(options.maxEntries));
    this.processes = new RecentLookup(new BoundedMap(options.maxEntries));
    this.hosts = new RecentLookup(new BoundedMap(options.maxEntries));
  }

  /** A record whose command is `name`: searches and their replies count, the others are passed by. */
  add(record: AnalysisRecord, name: string): void {
    if (name === 'SearchRequest') this.addRequest(record);
    else if (name === 'SearchResponse') this.addResponse(record);
  }

  private addRequest(record: AnalysisRecord): void {
    const pv = record.pv ?? stringField(record, 'pv');
    if (!pv) return;
    const t = record.timestamp;
    const process = sender(record);
    const entry =
      this.pvs.get(pv) ??
      this.pvs.add(pv, {
        pv,
        count: 0,
        first: t,
        last: t,
        clients: [],
        hosts: [],
        retries: new BoundedMap(MAX_RETRY_KEYS_PER_PV),
        maxRetries: 0,
        answers: new Map(),
      });
    entry.count++;
    entry.last = t;
    const clients = entry.clients;
    if (clients.length < LISTED_CLIENTS && !clients.includes(process)) clients.push(process);
    const hosts = entry.hosts;
    if (hosts.length < LISTED_CLIENTS && !hosts.includes(record.src)) hosts.push(record.src);
    const cid = numberField(record, 'cid') ?? '';
    const retryKey = `${process}/${cid}`;
    const previous = entry.retries.get(retryKey);
    // A new key is kept flat (join: one string; the template literal's is a chain of three).
    if (previous === undefined) entry.retries.set([process, cid].join('/'), 1);
    else entry.retries.set(retryKey, previous + 1);
    const retries = (previous ?? 0) + 1;
    if (retries > entry.maxRetries) entry.maxRetries = retries;
    if (entry.answers.size === 0 && entry.firstUnanswered === undefined) entry.firstUnanswered = t;
    // Two calls, not a loop over [[table, key], ...]: that allocated three arrays per search.
    // The entry's name: the record's is a copy decoded from this datagram.
    countClient(this.processes, process, entry.pv, t);
    countClient(this.hosts, record.src, entry.pv, t);
  }

  private addResponse(record: AnalysisRecord): void {
    const pv = record.pv;
    if (!pv) return;
    const entry = this.pvs.map.get(pv);
    if (!entry) return;
    const server = respondingServer(record, 'SearchResponse');
    if (this.answeringServers.size < MAX_ANSWERING_SERVERS) this.answeringServers.add(server);
    const t = record.timestamp;
    let answer = entry.answers.get(server);
    if (!answer) {
      if (entry.answers.size >= MAX_ANSWERS_PER_PV) return;
      answer = {
        server,
        paths: new Set(),
        first: t,
        last: t,
        count: 0,
        copies: false,
        lastByRequest: new Map(),
        pruneAt: REQUESTS_PRUNED_AT,
      };
      entry.answers.set(server, answer);
    }
    answer.count++;
    answer.last = t;
    if (answer.paths.size < 16) answer.paths.add(`${sender(record)}#${record.interfaceId ?? 0}`);
    const requestKey = `${receiver(record)}/${numberField(record, 'cid') ?? ''}`;
    const requests = answer.lastByRequest;
    const previous = requests.get(requestKey);
    if (previous !== undefined && t - previous < COPY_WINDOW_SECONDS) answer.copies = true;
    requests.set(requestKey, t);
    if (requests.size >= answer.pruneAt) {
      // Replies come in capture order: one before t - window cannot be copied by a later one.
      requests.forEach((last, key) => {
        if (t - last >= COPY_WINDOW_SECONDS) requests.delete(key);
      });
      answer.pruneAt = Math.max(REQUESTS_PRUNED_AT, 2 * requests.size);
    }
    entry.firstUnanswered = undefined;
  }

  /**
   * Per-PV search table, busiest first, with storm flags.
   *
   * @param captureEnd the latest record time of the capture (what unanswered searches are aged against)
   */
  storms(captureEnd: number): Bounded<SearchStormEntry> {
    return runSteps(this.stormsSteps(captureEnd));
  }

  /** {@link SearchAnalysis.storms} in steps: rows are built only for the PVs shown. */
  *stormsSteps(captureEnd: number): Steps<Bounded<SearchStormEntry>> {
    const all = [...this.pvs.map.values()];
    const counts = yield* mapSteps(all, (e) => e.count);
    const sigmaLimit = outlierLimit(counts, this.options.sigma);
    const top = yield* topSteps(all, this.options.topLimit, (a, b) => b.count - a.count);
    const rows = top.rows.map((e): SearchStormEntry => {
      const rate = e.count / Math.max(e.last - e.first, 1);
      let answers = 0;
      for (const a of e.answers.values()) answers += a.count;
      const reasons: string[] = [];
      if (e.count >= this.options.minCount && rate >= this.options.pvRateThreshold) {
        reasons.push(`searched ${rate.toFixed(2)}/s (threshold ${this.options.pvRateThreshold}/s)`);
      }
      if (e.count >= this.options.minCount && e.count > sigmaLimit) {
        reasons.push(`${e.count} searches, far above the other PVs (limit ${sigmaLimit.toFixed(1)})`);
      }
      return {
        pv: e.pv,
        count: e.count,
        rate,
        first_seen: e.first,
        last_seen: e.last,
        answered: e.answers.size > 0,
        answers,
        unanswered_ratio: Math.max(0, (e.count - answers) / e.count),
        retries: e.maxRetries,
        oldest_unanswered_age: e.firstUnanswered === undefined ? null : captureEnd - e.firstUnanswered,
        clients: e.clients.slice(),
        flagged: reasons.length > 0,
        reasons,
      };
    });
    return { rows, omitted: top.omitted };
  }

  /** Client hosts and processes by search count, with flags for outliers. */
  clients(): Bounded<SearchClientEntry> {
    const rows: SearchClientEntry[] = [];
    for (const [kind, table] of [
      ['host', this.hosts.map],
      ['process', this.processes.map],
    ] as const) {
      const all = [...table.values()];
      const sigmaLimit = outlierLimit(
        all.map((c) => c.count),
        this.options.sigma,
      );
      for (const c of all) {
        const rate = c.count / Math.max(c.last - c.first, 1);
        const reasons: string[] = [];
        if (c.count >= this.options.minCount) {
          if (rate >= this.options.clientRateThreshold) {
            reasons.push(`searches ${rate.toFixed(2)}/s (threshold ${this.options.clientRateThreshold}/s)`);
          }
          if (c.count > sigmaLimit)
            reasons.push(`${c.count} searches, far above the other ${PLURAL[kind]} (limit ${sigmaLimit.toFixed(1)})`);
        }
        rows.push({
          client: c.client,
          kind,
          count: c.count,
          rate,
          pvs: c.pvs.size,
          flagged: reasons.length > 0,
          reasons,
        });
      }
    }
    return firstRows(rows, this.options.topLimit * 2, (a, b) => b.count - a.count);
  }

  /** PVs searched and never answered during the capture. */
  neverFound(): Bounded<NeverFoundEntry> {
    return runSteps(this.neverFoundSteps());
  }

  /** {@link SearchAnalysis.neverFound} in steps: rows are built only for the PVs shown. */
  *neverFoundSteps(): Steps<Bounded<NeverFoundEntry>> {
    const unanswered = yield* filterSteps([...this.pvs.map.values()], (e) => e.answers.size === 0);
    const top = yield* topSteps(
      unanswered,
      this.options.maxRows,
      (a, b) => b.count - a.count || compareText(a.pv, b.pv),
    );
    const rows = top.rows.map((e): NeverFoundEntry => ({
      pv: e.pv,
      count: e.count,
      first_seen: e.first,
      last_seen: e.last,
      clients: e.clients.slice(),
      hosts: e.hosts.slice(),
    }));
    return { rows, omitted: top.omitted };
  }

  /** PVs answered by more than one server, or by one server over several paths. */
  duplicates(): Bounded<DuplicateEntry> {
    return runSteps(this.duplicatesSteps());
  }

  /** {@link SearchAnalysis.duplicates} in steps. */
  *duplicatesSteps(): Steps<Bounded<DuplicateEntry>> {
    const answered = yield* filterSteps(
      [...this.pvs.map.values()],
      (e) => e.answers.size > 1 || (e.answers.size === 1 && isMultiPath(e.answers.values())),
    );
    const rows = answered.map((e): DuplicateEntry => {
      const answers = [...e.answers.values()];
      return {
        pv: e.pv,
        servers: answers.map((a) => a.server),
        verdict: answers.length > 1 ? 'duplicate' : 'multi-path',
        answers: answers.map((a) => ({
          server: a.server,
          via: [...a.paths].map((p) => p.replace(/#0$/, '')),
          first_seen: a.first,
          count: a.count,
        })),
      };
    });
    return firstRows(rows, this.options.maxRows, (a, b) => compareText(a.pv, b.pv));
  }
}

/** Counts a search for `pv` at time `t` by a client process or host. */
function countClient(table: RecentLookup<string, ClientSearches>, key: string, pv: string, t: number): void {
  const client = table.get(key) ?? table.add(key, { client: key, count: 0, first: t, last: t, pvs: new Set<string>() });
  client.count++;
  client.last = t;
  if (client.pvs.size < 10_000) client.pvs.add(pv);
}

/** Whether an answer came over several paths, or as copies of one reply. */
function isMultiPath(answers: Iterable<{ paths: Set<string>; copies: boolean }>): boolean {
  for (const a of answers) if (a.paths.size > 1 || a.copies) return true;
  return false;
}
