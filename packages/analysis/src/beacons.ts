import { type Bounded, BoundedMap, compareText, firstRows } from './bounded.js';
import { type AnalysisRecord, numberField, stringField } from './record.js';

/** Thresholds of the EPICS client library's beacon handler (libca bhe::updatePeriod). */
const LONG_PERIOD_FACTOR = 1.25;
const NETWORK_INTERRUPTION_FACTOR = 3.25;
const SHORT_PERIOD_FACTOR = 0.8;
/** Weight of the newest period in libca's running average. */
const AVERAGE_WEIGHT = 0.125;
/** Sequence steps libca discards as duplicate route / overrun (advance 2..3) or as "just before" (wrap − 256). */
const SMALL_JUMP_MAX = 3;
const BACKWARD_TOLERANCE = 256;
const UINT32_MAX = 0xffffffff;
/** A server's start-up ramp doubles the beacon period; ratios in this band are the ramp, not an anomaly. */
const RAMP_RATIO_MIN = 1.6;
const RAMP_RATIO_MAX = 2.4;
/**
 * The ramp from 0.02 s to the 15 s default period takes about ten doublings: consecutive ids this low are
 * a (re)started server still ramping, whose early periods jitter too much for the ratio test.
 */
const RAMP_BEACON_IDS = 12;
const HISTORY_LENGTH = 32;
const DEFAULT_SERVER_PORT = 5064;
const DEFAULT_REPEATER_PORT = 5065;
/** Beacon counters exist from minor 10 (§3.4); older servers send 0 every time. */
const MINOR_WITH_BEACON_COUNTER = 10;

export type BeaconCause =
  | 'restart'
  | 'network-interruption'
  | 'missed-beacon'
  | 'duplicate-route'
  | 'lost-beacons'
  | 'address-mismatch'
  | 'no-beacons';

export interface BeaconAnomaly {
  server: string;
  time: number;
  cause: BeaconCause;
  detail: string;
  beacon_id?: number;
  period?: number;
  average_period?: number;
}

export interface BeaconEntry {
  server: string;
  count: number;
  /** Copies forwarded by a CA repeater (sent from the repeater port), not counted in `count`. */
  forwarded: number;
  first_seen: number | null;
  last_seen: number | null;
  /** libca-style running average period in seconds (null before two beacons). */
  average_period: number | null;
  last_period: number | null;
  first_beacon_id: number | null;
  last_beacon_id: number | null;
  history: { time: number; period: number; beacon_id: number }[];
  anomalies: BeaconAnomaly[];
}

interface ServerBeacons {
  entry: BeaconEntry;
  lastTime: number;
  lastId: number;
  average: number;
  lastPeriod: number;
}

export interface BeaconOptions {
  repeaterPort: number;
  maxServers: number;
  maxAnomaliesPerServer: number;
}

export const defaultBeaconOptions: BeaconOptions = {
  repeaterPort: DEFAULT_REPEATER_PORT,
  maxServers: 10_000,
  maxAnomaliesPerServer: 256,
};

/**
 * Beacon analysis with the rules of the EPICS client library's beacon handler: per server the running
 * average period, and anomalies with their likely cause.
 */
export class BeaconAnalysis {
  private readonly servers: BoundedMap<string, ServerBeacons>;

  constructor(private readonly options: BeaconOptions = defaultBeaconOptions) {
    this.servers = new BoundedMap(options.maxServers);
  }

  /** A record whose command is `name`: Beacons count, the others are passed by. */
  add(record: AnalysisRecord, name: string): void {
    if (name !== 'Beacon') return;
    const announced = stringField(record, 'address');
    const address = announced && announced !== '0.0.0.0' ? announced : record.src;
    const port = numberField(record, 'server_port') || DEFAULT_SERVER_PORT;
    const server = `${address}:${port}`;
    const t = record.timestamp;
    const id = numberField(record, 'beacon_id') ?? 0;
    const counted = (numberField(record, 'version') ?? 0) >= MINOR_WITH_BEACON_COUNTER;
    const state = this.servers.upsert(server, () => ({
      entry: {
        server,
        count: 0,
        forwarded: 0,
        first_seen: null,
        last_seen: null,
        average_period: null,
        last_period: null,
        first_beacon_id: null,
        last_beacon_id: null,
        history: [],
        anomalies: [],
      },
      lastTime: Number.NaN,
      lastId: Number.NaN,
      average: Number.NaN,
      lastPeriod: Number.NaN,
    }));
    const entry = state.entry;
    if (record.transport.sport === this.options.repeaterPort) {
      entry.forwarded++;
      return;
    }
    if (announced && announced !== '0.0.0.0' && announced !== record.src && entry.count === 0) {
      this.anomaly(state, {
        server,
        time: t,
        cause: 'address-mismatch',
        beacon_id: id,
        detail: `beacon announces ${announced} but was sent from ${record.src}`,
      });
    }
    entry.count++;
    entry.first_seen ??= t;
    entry.last_seen = t;
    entry.first_beacon_id ??= id;
    entry.last_beacon_id = id;
    if (Number.isNaN(state.lastTime)) {
      if (counted && id === 0) {
        this.anomaly(state, {
          server,
          time: t,
          cause: 'restart',
          beacon_id: id,
          detail: 'beacon id 0: the server started during the capture',
        });
      }
      state.lastTime = t;
      state.lastId = id;
      return;
    }
    const advance = !counted ? 1 : id >= state.lastId ? id - state.lastId : UINT32_MAX - state.lastId + id;
    const previousId = state.lastId;
    state.lastId = id;
    // A counter that falls back to a small id is a server that started again. libca discards that one
    // beacon as "just before the last" and detects the restart from the next, short, period; we say so at once.
    const reset = counted && id < previousId && id <= RAMP_BEACON_IDS && previousId - id > 1;
    if (!counted) {
      // no counter: only the period can tell
    } else if (!reset && (advance === 0 || advance > UINT32_MAX - BACKWARD_TOLERANCE)) {
      this.anomaly(state, {
        server,
        time: t,
        cause: 'duplicate-route',
        beacon_id: id,
        detail: `beacon id ${id} repeats or precedes ${previousId}: the same beacon arrived twice`,
      });
      return;
    } else if (id < previousId) {
      this.anomaly(state, {
        server,
        time: t,
        cause: 'restart',
        beacon_id: id,
        detail: `beacon id reset from ${previousId} to ${id}`,
      });
    } else if (advance > 1 && advance <= SMALL_JUMP_MAX) {
      this.anomaly(state, {
        server,
        time: t,
        cause: 'lost-beacons',
        beacon_id: id,
        detail: `beacon id jumped by ${advance} (${previousId} → ${id}): beacons lost or a second route`,
      });
      return;
    }
    const period = t - state.lastTime;
    state.lastTime = t;
    entry.last_period = period;
    entry.history.push({ time: t, period, beacon_id: id });
    if (entry.history.length > HISTORY_LENGTH) entry.history.shift();
    if (Number.isNaN(state.average)) {
      state.average = period;
      state.lastPeriod = period;
      entry.average_period = period;
      return;
    }
    const ratio = period / state.lastPeriod;
    const ramping =
      advance === 1 && ((counted && id <= RAMP_BEACON_IDS) || (ratio >= RAMP_RATIO_MIN && ratio <= RAMP_RATIO_MAX));
    if (!ramping && (!counted || id >= previousId)) {
      if (period >= state.average * LONG_PERIOD_FACTOR) {
        const severe = period >= state.average * NETWORK_INTERRUPTION_FACTOR;
        this.anomaly(state, {
          server,
          time: t,
          beacon_id: id,
          period,
          average_period: state.average,
          cause: severe ? 'network-interruption' : 'missed-beacon',
          detail: `period ${period.toFixed(3)} s against an average of ${state.average.toFixed(3)} s`,
        });
      } else if (period <= state.average * SHORT_PERIOD_FACTOR) {
        this.anomaly(state, {
          server,
          time: t,
          beacon_id: id,
          period,
          average_period: state.average,
          cause: 'restart',
          detail: `period ${period.toFixed(3)} s, shorter than the average ${state.average.toFixed(3)} s: beacons restarted`,
        });
      }
    }
    state.lastPeriod = period;
    state.average = ramping ? period : period * AVERAGE_WEIGHT + state.average * (1 - AVERAGE_WEIGHT);
    entry.average_period = state.average;
  }

  private anomaly(state: ServerBeacons, anomaly: BeaconAnomaly): void {
    if (state.entry.anomalies.length < this.options.maxAnomaliesPerServer) state.entry.anomalies.push(anomaly);
  }

  /** Per-server beacon table; servers that answered searches but sent no beacon get a 'no-beacons' anomaly. */
  report(answeringServers: Iterable<string> = [], captureEnd = 0, limit = 1000): Bounded<BeaconEntry> {
    const rows = [...this.servers.values()].map((s) => s.entry);
    const seen = new Set(rows.map((r) => r.server));
    for (const server of answeringServers) {
      if (seen.has(server)) continue;
      rows.push({
        server,
        count: 0,
        forwarded: 0,
        first_seen: null,
        last_seen: null,
        average_period: null,
        last_period: null,
        first_beacon_id: null,
        last_beacon_id: null,
        history: [],
        anomalies: [
          {
            server,
            time: captureEnd,
            cause: 'no-beacons',
            detail: 'answered searches but sent no beacon during the capture',
          },
        ],
      });
    }
    return firstRows(rows, limit, (a, b) => compareText(a.server, b.server), this.servers.evicted);
  }
}
