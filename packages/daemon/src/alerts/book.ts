/**
 * The daemon's alerts, deduplicated: one group per kind and subject (a PV, a server, a client) with when it
 * was first and last seen and how often it was raised. Groups are kept per severity, so however many
 * warnings repeat they never push an error out. An acknowledged group stays acknowledged while its problem
 * goes on, and comes back when the problem returns after a quiet spell.
 */
import {
  type AlertKind,
  type AlertsConfig,
  SEVERITY_ORDER,
  type Severity,
  severityOf,
  severityRank,
} from './config.js';

/** One alert group as the snapshot and `/api/alerts` serve it. */
export interface AlertGroup {
  /** `kind` and `subject`, the group's identity (what an acknowledgement names). */
  key: string;
  kind: AlertKind;
  /** What it is about: a PV, a server or client endpoint; empty for the daemon itself. */
  subject: string;
  severity: Severity;
  /** The latest description. */
  message: string;
  /** When the problem began (a storm: its first search), Unix seconds. */
  firstSeen: number;
  /** When it was last seen. */
  lastSeen: number;
  /** How many times it was raised (a storm: searches during it; drops: the polls that found new ones). */
  count: number;
  /** Set once acknowledged: when, and the count then (the rows show how many came since). */
  acknowledged: { at: number; count: number } | null;
  /** The sensor it came from or is about, on a central (absent on a single host). */
  sensor?: string;
}

/** Alert groups per severity and how many were forgotten. */
export interface AlertTotals {
  /** Groups held per severity. */
  groups: Record<Severity, number>;
  /** Groups not acknowledged, per severity (what the page's badge counts). */
  open: Record<Severity, number>;
  /** Groups forgotten because their severity held `maxGroups` more recent ones. */
  forgotten: number;
}

/** One raising of an alert. */
export interface AlertInput {
  kind: AlertKind;
  subject: string;
  /** When it happened (Unix seconds). */
  time: number;
  message: string;
  /** Occurrences this raising adds (default 1; 0 only refreshes the message and last seen). */
  count?: number;
  /** When the problem began, when earlier than `time` (a storm's first search). */
  since?: number;
  /** The sensor it is about, on a central. */
  sensor?: string;
}

/** Why a group is notified: it is new, or came back after {@link AlertsConfig.reopenAfter} of quiet. */
export type AlertEvent = 'opened' | 'reopened';

/** The groups of one severity in least recently seen first order. */
type Bucket = Map<string, AlertGroup>;

/** Deduplicated, bounded, acknowledgeable alert groups. */
export class AlertBook {
  private readonly buckets = new Map<Severity, Bucket>(SEVERITY_ORDER.map((s) => [s, new Map()]));
  private forgotten = 0;
  /** Moves with every change (part of the engine's generation). */
  changes = 0;

  constructor(
    private readonly config: AlertsConfig,
    private readonly onEvent: (group: Readonly<AlertGroup>, event: AlertEvent) => void = () => {},
  ) {}

  /** Raises an alert: opens its group or adds to it. Kinds turned off in the configuration are ignored. */
  raise(input: AlertInput): void {
    const severity = severityOf(this.config, input.kind);
    if (severity === null) return;
    const key = `${input.kind} ${input.subject}`;
    const bucket = this.buckets.get(severity) as Bucket;
    const count = input.count ?? 1;
    let group = bucket.get(key);
    this.changes += 1;
    if (group === undefined) {
      group = {
        key,
        kind: input.kind,
        subject: input.subject,
        severity,
        message: input.message,
        firstSeen: Math.min(input.since ?? input.time, input.time),
        lastSeen: input.time,
        count: Math.max(count, 1),
        acknowledged: null,
        ...(input.sensor !== undefined ? { sensor: input.sensor } : {}),
      };
      bucket.set(key, group);
      this.bound(bucket);
      this.onEvent(group, 'opened');
      return;
    }
    if (count === 0 && input.message === group.message && input.time <= group.lastSeen) {
      // Nothing new (a finding read again): no change, so no view is recomputed for it.
      this.changes -= 1;
      return;
    }
    const quiet = input.time - group.lastSeen;
    group.message = input.message;
    group.count += count;
    if (input.time > group.lastSeen) group.lastSeen = input.time;
    // Re-inserted: the map's order is the order of last sighting, oldest first.
    bucket.delete(key);
    bucket.set(key, group);
    if (count > 0 && group.acknowledged !== null && quiet > this.config.reopenAfter) {
      group.acknowledged = null;
      this.onEvent(group, 'reopened');
    }
  }

  /** Acknowledges group `key` at `at`; false when there is no such group. */
  acknowledge(key: string, at: number): boolean {
    const group = this.lookup(key);
    if (group === undefined) return false;
    group.acknowledged = { at, count: group.count };
    this.changes += 1;
    return true;
  }

  /** The group `key`, if held. */
  find(key: string): Readonly<AlertGroup> | undefined {
    return this.lookup(key);
  }

  private lookup(key: string): AlertGroup | undefined {
    for (const bucket of this.buckets.values()) {
      const group = bucket.get(key);
      if (group !== undefined) return group;
    }
    return undefined;
  }

  /** Every group, most serious first, then unacknowledged first, then most recently seen first. */
  list(): AlertGroup[] {
    const out: AlertGroup[] = [];
    for (const bucket of this.buckets.values()) for (const g of bucket.values()) out.push({ ...g });
    out.sort(
      (a, b) =>
        severityRank(a.severity) - severityRank(b.severity) ||
        Number(a.acknowledged !== null) - Number(b.acknowledged !== null) ||
        b.lastSeen - a.lastSeen,
    );
    return out;
  }

  totals(): AlertTotals {
    const groups = { error: 0, warn: 0, info: 0 };
    const open = { error: 0, warn: 0, info: 0 };
    for (const [severity, bucket] of this.buckets) {
      groups[severity] = bucket.size;
      for (const g of bucket.values()) if (g.acknowledged === null) open[severity] += 1;
    }
    return { groups, open, forgotten: this.forgotten };
  }

  /** Forgets the least recently seen group of a full severity, acknowledged ones first. */
  private bound(bucket: Bucket): void {
    if (bucket.size <= this.config.maxGroups) return;
    let victim: string | undefined;
    for (const [key, g] of bucket) {
      if (g.acknowledged !== null) {
        victim = key;
        break;
      }
    }
    bucket.delete(victim ?? (bucket.keys().next().value as string));
    this.forgotten += 1;
  }
}
