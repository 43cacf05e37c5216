import { BeaconAnalysis, type BeaconEntry, defaultBeaconOptions, type BeaconOptions } from './beacons.js';
import {
  type ChannelLogEntry,
  type CircuitEndReason,
  type CircuitLogEntry,
  ConversationAnalysis,
  type WriteEntry,
} from './conversations.js';
import { type ErrorEntry, ErrorAnalysis } from './errors.js';
import { LatencyAnalysis, type LatencyEntry, type PvLatencyEntry } from './latency.js';
import {
  type FlowControlEntry,
  MonitorAnalysis,
  type MonitorLoadEntry,
  type RedundantSubscriptionEntry,
} from './monitors.js';
import type { Bounded } from './bounded.js';
import { type Steps, runSteps } from './steps.js';
import type { AnalysisRecord } from './record.js';
import {
  defaultSearchOptions,
  type DuplicateEntry,
  type NeverFoundEntry,
  SearchAnalysis,
  type SearchClientEntry,
  type SearchOptions,
  type SearchStormEntry,
} from './searches.js';

/** The report as `ca-shark report --json` prints it; documented in docs/report.md. */
export interface Report {
  /** Capture span and volume the report covers. */
  summary: { first_seen: number | null; last_seen: number | null; records: number };
  never_found: NeverFoundEntry[];
  search_storms: SearchStormEntry[];
  search_clients: SearchClientEntry[];
  duplicates: DuplicateEntry[];
  beacons: BeaconEntry[];
  latency: LatencyEntry[];
  slowest_pvs: PvLatencyEntry[];
  monitor_load: MonitorLoadEntry[];
  redundant_subscriptions: RedundantSubscriptionEntry[];
  flow_control: FlowControlEntry[];
  writes: WriteEntry[];
  errors: ErrorEntry[];
  circuits: CircuitLogEntry[];
  channels: ChannelLogEntry[];
  /**
   * Rows left out of each bounded table (beyond its row limit, or not kept to bound memory); present
   * only when some table lost rows, and only those tables are listed.
   */
  omitted?: Partial<Record<ReportTable, number>>;
}

/** The keys of the report that are tables (everything but the summary and the omitted counts). */
export type ReportTable = Exclude<keyof Report, 'summary' | 'omitted'>;

/** Names accepted by `--section`: each selects the report keys listed. */
export const REPORT_SECTIONS: Record<string, (keyof Report)[]> = {
  searches: ['never_found', 'search_storms', 'search_clients'],
  never_found: ['never_found'],
  search_storms: ['search_storms', 'search_clients'],
  duplicates: ['duplicates'],
  beacons: ['beacons'],
  latency: ['latency', 'slowest_pvs'],
  monitor_load: ['monitor_load', 'flow_control'],
  monitors: ['monitor_load', 'redundant_subscriptions', 'flow_control'],
  redundant_subscriptions: ['redundant_subscriptions'],
  writes: ['writes'],
  errors: ['errors'],
  circuits: ['circuits'],
  channels: ['channels'],
  logs: ['circuits', 'channels'],
};

export interface AnalyzerOptions {
  search?: Partial<SearchOptions>;
  beacon?: Partial<BeaconOptions>;
  /**
   * Rows kept in each table without a smaller top-N of its own (default 1000): never found, duplicates,
   * beacons, latency, redundant subscriptions, flow control, writes, errors, circuits and channels. Logs keep
   * their latest rows; the others their first in the table's order.
   */
  maxRows?: number;
  /**
   * The report keys wanted (as {@link resolveSections} gives them); by default all. Only the analyses
   * these keys are made from see the records, and {@link Analyzer.report} gives no other keys.
   */
  sections?: readonly (keyof Report)[];
}

/** The analyses of an {@link Analyzer}, each made from some records and giving some tables. */
type AnalysisName = 'searches' | 'beacons' | 'latency' | 'monitors' | 'conversations' | 'errors';

/**
 * The analyses each table is made from: the beacon table names the servers that answered searches, so it
 * needs the search analysis too.
 */
const TABLE_SOURCES: Record<ReportTable, readonly AnalysisName[]> = {
  never_found: ['searches'],
  search_storms: ['searches'],
  search_clients: ['searches'],
  duplicates: ['searches'],
  beacons: ['beacons', 'searches'],
  latency: ['latency'],
  slowest_pvs: ['latency'],
  monitor_load: ['monitors'],
  redundant_subscriptions: ['monitors'],
  flow_control: ['monitors'],
  writes: ['conversations'],
  errors: ['errors'],
  circuits: ['conversations'],
  channels: ['conversations'],
};

/** The analyses that make `sections` (every analysis for all sections). */
function analysesFor(sections: readonly (keyof Report)[] | undefined): Set<AnalysisName> {
  const names = new Set<AnalysisName>();
  for (const [table, sources] of Object.entries(TABLE_SOURCES) as [ReportTable, readonly AnalysisName[]][]) {
    if (sections === undefined || sections.includes(table)) for (const name of sources) names.add(name);
  }
  return names;
}

/** Default {@link AnalyzerOptions.maxRows}. */
export const DEFAULT_REPORT_ROWS = 1000;

/**
 * Runs every analysis over a record stream in one pass. Feed it records in capture order with `add`,
 * tell it when circuits close (`closeCircuit`), and read the verdicts with `report()` at any time
 * (the daemon does so live).
 *
 * @example
 * const analyzer = new Analyzer();
 * for await (const record of shark('capture.pcapng')) analyzer.add(record);
 * console.log(analyzer.report().never_found);
 */
export class Analyzer {
  private readonly searches: SearchAnalysis;
  private readonly beacons: BeaconAnalysis;
  private readonly latency = new LatencyAnalysis();
  private readonly monitors: MonitorAnalysis;
  private readonly conversations: ConversationAnalysis;
  private readonly errors = new ErrorAnalysis();
  private readonly maxRows: number;
  /** {@link AnalyzerOptions.sections}, or undefined for all. */
  private readonly sections: readonly (keyof Report)[] | undefined;
  // Which analyses see the records: booleans read per record, not a set.
  private readonly runSearches: boolean;
  private readonly runBeacons: boolean;
  private readonly runLatency: boolean;
  private readonly runMonitors: boolean;
  private readonly runConversations: boolean;
  private readonly runErrors: boolean;
  /**
   * Whether the report reads DBR values (the write audit shows the written ones): when not, the decoder
   * need not decode any (`decodeValues`).
   */
  readonly readsValues: boolean;
  private first: number | null = null;
  private last: number | null = null;
  private records = 0;

  constructor(options: AnalyzerOptions = {}) {
    this.maxRows = options.maxRows ?? DEFAULT_REPORT_ROWS;
    this.searches = new SearchAnalysis({ ...defaultSearchOptions, maxRows: this.maxRows, ...options.search });
    this.beacons = new BeaconAnalysis({ ...defaultBeaconOptions, ...options.beacon });
    this.monitors = new MonitorAnalysis(this.maxRows);
    this.readsValues = options.sections === undefined || options.sections.includes('writes');
    this.conversations = new ConversationAnalysis(this.maxRows, this.readsValues);
    this.sections = options.sections;
    const run = analysesFor(options.sections);
    this.runSearches = run.has('searches');
    this.runBeacons = run.has('beacons');
    this.runLatency = run.has('latency');
    this.runMonitors = run.has('monitors');
    this.runConversations = run.has('conversations');
    this.runErrors = run.has('errors');
  }

  add(record: AnalysisRecord): void {
    this.records++;
    this.first ??= record.timestamp;
    if (this.last === null || record.timestamp > this.last) this.last = record.timestamp;
    // Each analysis is given only the records it reads: most records are monitor updates and reads,
    // which the search, beacon and (without a latency) latency analyses would only look at and pass by.
    // The command's name is read once for all (every command class has its own shape: a megamorphic read).
    const name = record.command.name;
    if (name === 'SearchRequest' || name === 'SearchResponse') {
      if (this.runSearches) this.searches.add(record, name);
    } else if (name === 'Beacon') {
      if (this.runBeacons) this.beacons.add(record, name);
    }
    if (this.runLatency && record.latency !== undefined) this.latency.add(record, name);
    if (this.runMonitors) this.monitors.add(record, name);
    if (this.runConversations) this.conversations.add(record, name);
    if (this.runErrors) this.errors.add(record, name);
  }

  /** A TCP circuit ended; its open channels end with it. */
  closeCircuit(circuit: number, time: number, reason: Exclude<CircuitEndReason, 'capture-end'>): void {
    if (this.runConversations) this.conversations.closeCircuit(circuit, time, reason);
    if (this.runMonitors) this.monitors.closeCircuit(circuit, time);
  }

  /**
   * The verdicts so far; `sections` limits the work and the output to some keys (of those given to the
   * constructor, if any).
   */
  report(sections?: readonly (keyof Report)[]): Partial<Report> & Pick<Report, 'summary'> {
    return runSteps(this.reportSteps(sections));
  }

  /**
   * {@link Analyzer.report} in steps (see steps.ts): it pauses between sections and inside the ones that
   * walk every PV, so a live caller can compute it a slice at a time while records keep coming.
   */
  *reportSteps(sections?: readonly (keyof Report)[]): Steps<Partial<Report> & Pick<Report, 'summary'>> {
    const made = this.sections;
    const want = (key: keyof Report) =>
      (sections === undefined || sections.includes(key)) && (made === undefined || made.includes(key));
    const out: Partial<Report> & Pick<Report, 'summary'> = {
      summary: { first_seen: this.first, last_seen: this.last, records: this.records },
    };
    const omitted: Partial<Record<ReportTable, number>> = {};
    function* put<K extends ReportTable>(key: K, table: () => Steps<Bounded<Report[K][number]>>): Steps<void> {
      if (!want(key)) return;
      const { rows, omitted: left } = yield* table();
      (out as Record<K, unknown>)[key] = rows;
      if (left > 0) omitted[key] = left;
      yield;
    }
    const now = <T>(table: () => T) =>
      // eslint-disable-next-line require-yield -- a section cheap enough to compute at once
      function* (): Steps<T> {
        return table();
      };
    yield* put('never_found', () => this.searches.neverFoundSteps());
    yield* put('search_storms', () => this.searches.stormsSteps(Math.max(this.last ?? 0, 0)));
    yield* put(
      'search_clients',
      now(() => this.searches.clients()),
    );
    yield* put('duplicates', () => this.searches.duplicatesSteps());
    yield* put(
      'beacons',
      now(() => this.beacons.report(this.searches.answeringServers, this.last ?? 0, this.maxRows)),
    );
    yield* put(
      'latency',
      now(() => this.latency.servers(this.maxRows)),
    );
    yield* put('slowest_pvs', () => this.latency.slowestPvsSteps());
    yield* put('monitor_load', () => this.monitors.monitorLoadSteps());
    yield* put(
      'redundant_subscriptions',
      now(() => this.monitors.redundantSubscriptions()),
    );
    yield* put(
      'flow_control',
      now(() => this.monitors.flowControl()),
    );
    yield* put(
      'writes',
      now(() => this.conversations.writeAudit()),
    );
    yield* put(
      'errors',
      now(() => this.errors.report(this.maxRows)),
    );
    yield* put(
      'circuits',
      now(() => this.conversations.circuitLog()),
    );
    yield* put(
      'channels',
      now(() => this.conversations.channelLog()),
    );
    if (Object.keys(omitted).length > 0) out.omitted = omitted;
    return out;
  }
}

/** An unknown `--section` name; the message lists the valid ones. */
export class SectionError extends Error {
  override readonly name = 'SectionError';
}

/** Resolves `--section` names to report keys; throws {@link SectionError} naming the valid ones. */
export function resolveSections(names: readonly string[]): (keyof Report)[] {
  const keys = new Set<keyof Report>();
  for (const name of names) {
    const found = REPORT_SECTIONS[name.toLowerCase().replace(/-/g, '_')];
    if (!found)
      throw new SectionError(`unknown report section '${name}'; valid: ${Object.keys(REPORT_SECTIONS).join(', ')}`);
    for (const key of found) keys.add(key);
  }
  return [...keys];
}
