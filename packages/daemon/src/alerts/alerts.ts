/**
 * Where the engine's alerts come from and go: search storms from the records, duplicate PVs and beacon
 * anomalies from the live analyses, drops from the capture counters; all into one {@link AlertBook}.
 */
import type { Report } from '@ca-shark/analysis';
import { type AlertEvent, type AlertGroup, AlertBook, type AlertTotals } from './book.js';
import {
  type AlertKind,
  type AlertsConfig,
  DEFAULT_ALERTS_CONFIG,
  DEFAULT_SEVERITIES,
  SEVERITY_ORDER,
} from './config.js';
import { StormDetector } from './storms.js';

/** Alert groups in a snapshot, most serious first (errors are never cut for warnings). */
const SNAPSHOT_GROUPS = 300;

/** The report sections the alerts read. */
export const ALERT_SECTIONS = ['duplicates', 'beacons'] as const;

/** The alerts part of a snapshot. */
export interface AlertsView {
  groups: AlertGroup[];
  totals: AlertTotals;
}

/** A new or returning alert group, as notified (webhook). */
export interface AlertNotice {
  event: AlertEvent;
  alert: AlertGroup;
}

function beaconKind(cause: string, firstBeacon: boolean): AlertKind | undefined {
  // A server seen starting (beacon id 0 as its first beacon) is news, not trouble.
  if (cause === 'restart' && firstBeacon) return 'server-start';
  const kind = `beacon-${cause}`;
  return kind in DEFAULT_SEVERITIES ? (kind as AlertKind) : undefined;
}

/** The engine's alerts: fed by it, read by its snapshot. */
export class EngineAlerts {
  readonly book: AlertBook;
  private readonly storms: StormDetector;
  /** Per beacon group: the time of the latest anomaly counted (the analyses keep a list that only grows). */
  private readonly beaconSeen = new Map<string, number>();
  private readonly duplicates = new Set<string>();

  constructor(config: AlertsConfig = DEFAULT_ALERTS_CONFIG, notify?: (notice: AlertNotice) => void) {
    this.book = new AlertBook(
      config,
      notify === undefined ? undefined : (g, event) => notify({ event, alert: { ...g } }),
    );
    this.storms = new StormDetector(config.searchStorm);
  }

  /** A search request; `repeat` when its client searched that channel before. */
  search(pv: string, client: string, time: number, repeat: boolean): void {
    if (repeat) this.storms.repeat(pv, client, time);
  }

  /** The daemon's own: dropped packets or frames. */
  drops(kind: 'capture-drops' | 'decoder-drops', time: number, message: string): void {
    this.book.raise({ kind, subject: '', time, message });
  }

  /** Takes in the analyses' latest findings and the storms' progress (at capture time `now`). */
  update(report: Partial<Report>, now: number): void {
    this.storms.flush(this.book, now);
    for (const dup of report.duplicates ?? []) {
      const kind = dup.verdict === 'duplicate' ? 'duplicate-pv' : 'multi-path';
      const key = `${kind} ${dup.pv}`;
      const last = Math.max(...dup.answers.map((a) => a.first_seen));
      const seen = this.duplicates.has(key);
      if (!seen) this.duplicates.add(key);
      this.book.raise({
        kind,
        subject: dup.pv,
        time: last,
        since: Math.min(...dup.answers.map((a) => a.first_seen)),
        count: seen ? 0 : 1,
        message:
          kind === 'duplicate-pv'
            ? `${dup.pv} is answered by ${dup.servers.length} servers: ${dup.servers.join(', ')}`
            : `${dup.pv} is answered by ${dup.servers.join(', ')} over several paths`,
      });
    }
    for (const beacon of report.beacons ?? []) {
      for (const a of beacon.anomalies) {
        const kind = beaconKind(a.cause, beacon.first_seen === a.time);
        if (kind === undefined) continue;
        const key = `${kind} ${a.server}`;
        const seen = this.beaconSeen.get(key);
        // 'no-beacons' is dated at the end of what was captured so far: one finding, however often read.
        if (seen !== undefined && (a.time <= seen || kind === 'beacon-no-beacons')) continue;
        this.beaconSeen.set(key, a.time);
        this.book.raise({ kind, subject: a.server, time: a.time, message: `${a.server}: ${a.detail}` });
      }
    }
  }

  view(): AlertsView {
    const groups = this.book.list();
    return {
      groups: groups.length > SNAPSHOT_GROUPS ? groups.slice(0, SNAPSHOT_GROUPS) : groups,
      totals: this.book.totals(),
    };
  }
}

/**
 * The alert groups held, per severity and state, in the Prometheus text format: a Prometheus alerting
 * rule on `ca_sharkd_alert_groups{state="open",severity="error"} > 0` pages whoever is on call.
 */
export function alertMetrics(totals: AlertTotals): string {
  const name = 'ca_sharkd_alert_groups';
  const lines = [
    `# HELP ${name} Alert groups held, by severity and state (open or acknowledged).`,
    `# TYPE ${name} gauge`,
  ];
  for (const severity of SEVERITY_ORDER) {
    const open = totals.open[severity];
    lines.push(`${name}{severity="${severity}",state="open"} ${open}`);
    lines.push(`${name}{severity="${severity}",state="acknowledged"} ${totals.groups[severity] - open}`);
  }
  lines.push(
    '# HELP ca_sharkd_alert_groups_forgotten_total Alert groups forgotten because their severity held maxGroups more recent ones.',
    '# TYPE ca_sharkd_alert_groups_forgotten_total counter',
    `ca_sharkd_alert_groups_forgotten_total ${totals.forgotten}`,
  );
  return lines.join('\n') + '\n';
}
