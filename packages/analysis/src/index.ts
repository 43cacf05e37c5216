// --- Analyses (issue 8): one pass over decoder records, verdicts with their evidence.
export type { AnalysisRecord } from './record.js';
export {
  Analyzer,
  DEFAULT_REPORT_ROWS,
  REPORT_SECTIONS,
  resolveSections,
  SectionError,
  type AnalyzerOptions,
  type Report,
  type ReportTable,
} from './report.js';
export { formatReport, formatSeconds, formatTime } from './report-text.js';
export {
  describeSample,
  quantileSorted,
  BoundedSample,
  latencyPercentiles,
  type Description,
  type LatencyPercentiles,
} from './describe.js';
export type {
  SearchStormEntry,
  SearchClientEntry,
  NeverFoundEntry,
  DuplicateEntry,
  SearchOptions,
} from './searches.js';
export type { BeaconEntry, BeaconAnomaly, BeaconCause, BeaconOptions } from './beacons.js';
export { LATENCY_BUCKETS, type LatencyEntry, type LatencyKind, type PvLatencyEntry } from './latency.js';
export type { MonitorLoadEntry, RedundantSubscriptionEntry, FlowControlEntry } from './monitors.js';
export type {
  WriteEntry,
  CircuitLogEntry,
  ChannelLogEntry,
  CircuitEndReason,
  ChannelEndReason,
} from './conversations.js';
export { circuitEndReason } from './conversations.js';
export type { ErrorEntry, ErrorKind } from './errors.js';

// --- ca-shark CLI helpers (issue 4), shared with the daemon: record filter, `stats`, JSON form.
export {
  compileFilter,
  isFailure,
  resolveCommandNames,
  compileGlob,
  compilePvMatcher,
  compileHostMatcher,
  ipv4ToInt,
  FilterError,
  GlobMatcher,
  MAX_FILTER_VALUES,
  MAX_GLOB_LENGTH,
  MAX_GLOB_ALTERNATIVES,
  MAX_PV_PATTERN_SIZE,
  COMMAND_NAMES,
  COMMAND_FAMILIES,
  type FilterSpec,
  type FilterableRecord,
  type RecordPredicate,
} from './filter.js';
export {
  StatsCollector,
  computeStats,
  latencySummary,
  type StatsRecord,
  type StatsReport,
  type StatsOptions,
  type LatencySummary,
  type ConnectionSample,
  type UnansweredCreation,
  type CircuitSummary,
} from './stats.js';
export { recordToJSON, recordToPlain, bytesToHex, writeRecordJSON, type JsonSink } from './json.js';
export { JsonBuffer, writeNumbers } from './json-number.js';
export { RecentTexts } from './recent-texts.js';
export { type Steps, STEP_ITEMS, eachSteps, filterSteps, mapSteps, runSteps, topSteps } from './steps.js';
/** The JSON form `recordToJSON` writes (the record contract, docs/json.md). */
export type { CaRecordJSON } from '@ca-shark/decoder';
export type { CaCommandJSON } from '@ca-shark/protocol';
// --- end of issue 4 block
