import { type Bounded, BoundedMap, compareText, firstRows, RecentLookup, RecentRows } from './bounded.js';
import { type AnalysisRecord, numberField, sender } from './record.js';
import { type Steps, mapSteps, runSteps, topSteps } from './steps.js';

export interface MonitorLoadEntry {
  scope: 'pv' | 'subscription' | 'circuit';
  pv: string | null;
  server: string | null;
  circuit: number | null;
  subscriptionid: number | null;
  updates: number;
  bytes: number;
  /** Updates and bytes per second over the span from first to last update (1 s minimum). */
  rate: number;
  byte_rate: number;
  first_seen: number;
  last_seen: number;
}

export interface RedundantSubscriptionEntry {
  pv: string;
  circuit: number;
  client: string | null;
  server: string | null;
  /** Most subscriptions to this PV live at once on the circuit. */
  count: number;
  subscriptionids: number[];
  first_seen: number;
}

export interface FlowControlEntry {
  circuit: number;
  client: string | null;
  server: string | null;
  start: number;
  /** null while updates are still off at the end of the capture. */
  end: number | null;
  duration: number | null;
}

interface Load {
  updates: number;
  bytes: number;
  first: number;
  last: number;
  pv: string | null;
  server: string | null;
  circuit: number | null;
  subscriptionid: number | null;
  /**
   * Position of a circuit's or subscription's load in the table before it is sorted (circuits in the order
   * of their first update, each with its subscriptions in theirs): ties in rate keep this order.
   */
  order: number;
}

/** Subscriptions tracked per circuit for the load table (libca uses far fewer in practice). */
const MAX_SUBSCRIPTIONS_PER_CIRCUIT = 100_000;

function newLoad(
  t: number,
  pv: string | null,
  server: string | null,
  circuit: number | null,
  subscriptionid: number | null,
  order = 0,
): Load {
  return { updates: 0, bytes: 0, first: t, last: t, pv, server, circuit, subscriptionid, order };
}

/** Room for a circuit's subscriptions in {@link Load.order}: circuit number * this + subscription number. */
const ORDER_STRIDE = 2 ** 20;

/** Seconds from a load's first to its last update, 1 at the least: what its rates are per. */
function spanOf(l: Load): number {
  return Math.max(l.last - l.first, 1);
}

/** Updates per second, as the table shows it ({@link row}'s `rate`). */
function rateOf(l: Load): number {
  return l.updates / spanOf(l);
}

/** The table's order: busiest first, ties in their first-update order. */
function busierFirst(a: Load, b: Load): number {
  return rateOf(b) - rateOf(a) || a.order - b.order;
}

/**
 * The loads of closed circuits and their subscriptions for one scope of the monitor-load table: they no
 * longer change, so only the busiest {@link FinishedLoads.kept} can still be shown, and the others are
 * counted. Memory stays flat however many circuits come and go.
 */
class FinishedLoads {
  private loads: Load[] = [];
  /** Loads dropped for being less busy than `kept` others. */
  dropped = 0;

  constructor(readonly kept: number) {}

  add(load: Load): void {
    this.loads.push(load);
    if (this.loads.length >= 2 * this.kept) {
      this.loads.sort(busierFirst);
      this.dropped += this.loads.length - this.kept;
      this.loads.length = this.kept;
    }
  }

  /** The kept loads in table order (by {@link Load.order}). */
  list(): Load[] {
    return this.loads.slice().sort((a, b) => a.order - b.order);
  }
}

function count(load: Load, t: number, size: number): void {
  load.updates++;
  load.bytes += size;
  load.last = t;
}

function row(scope: MonitorLoadEntry['scope'], l: Load): MonitorLoadEntry {
  const span = spanOf(l);
  return {
    scope,
    pv: l.pv,
    server: l.server,
    circuit: l.circuit,
    subscriptionid: l.subscriptionid,
    updates: l.updates,
    bytes: l.bytes,
    rate: rateOf(l),
    byte_rate: l.bytes / span,
    first_seen: l.first,
    last_seen: l.last,
  };
}

interface CircuitSubscriptions {
  client: string | null;
  server: string | null;
  /** pv → live subscription ids */
  live: Map<string, Set<number>>;
  offSince?: number;
}

interface CircuitLoad {
  load: Load;
  /** The circuit's number in first-update order (see {@link Load.order}). */
  number: number;
  /** subscription id (-1 when absent) → load */
  subs: Map<number, Load>;
}

/** Monitor updates per PV, subscription and circuit; redundant subscriptions; EVENTS_OFF/ON periods. */
export class MonitorAnalysis {
  /** pv → server → load */
  private readonly byPv = new RecentLookup(new BoundedMap<string, Map<string, Load>>(100_000));
  private readonly byCircuit = new RecentLookup(new BoundedMap<number, CircuitLoad>(20_000));
  private readonly circuits = new RecentLookup(new BoundedMap<number, CircuitSubscriptions>(20_000));
  private readonly redundant = new BoundedMap<string, RedundantSubscriptionEntry>(50_000);
  /** Closed EVENTS_OFF periods, the latest `maxRows`. */
  private readonly flow: RecentRows<FlowControlEntry>;
  /** Loads of closed circuits and of their subscriptions. */
  private readonly finishedCircuits: FinishedLoads;
  private readonly finishedSubscriptions: FinishedLoads;
  private circuitsLoaded = 0;

  /**
   * @param maxRows rows kept in the redundant-subscription and flow-control tables, and the most rows
   *   the monitor-load table can be asked for per scope
   */
  constructor(private readonly maxRows = 1000) {
    this.flow = new RecentRows(maxRows);
    this.finishedCircuits = new FinishedLoads(maxRows);
    this.finishedSubscriptions = new FinishedLoads(maxRows);
  }

  /** A record whose command is `name`. */
  add(record: AnalysisRecord, name: string): void {
    const circuit = record.circuit;
    if (name === 'EventAddResponse' && record.role === 'response') {
      this.update(record, circuit);
      return;
    }
    if (circuit === undefined) return;
    const state =
      this.circuits.get(circuit) ??
      this.circuits.add(circuit, { client: record.client ?? null, server: record.server ?? null, live: new Map() });
    if (name === 'EventAddRequest' && record.pv) {
      const sub = numberField(record, 'subscriptionid');
      if (sub === undefined) return;
      let live = state.live.get(record.pv);
      if (!live) {
        if (state.live.size >= MAX_SUBSCRIPTIONS_PER_CIRCUIT) return;
        state.live.set(record.pv, (live = new Set()));
      }
      if (live.size < 1024) live.add(sub);
      if (live.size > 1) {
        const key = `${circuit}|${record.pv}`;
        const entry = this.redundant.get(key);
        if (!entry) {
          this.redundant.set(key, {
            pv: record.pv,
            circuit,
            client: state.client,
            server: state.server,
            count: live.size,
            subscriptionids: [...live],
            first_seen: record.timestamp,
          });
        } else if (live.size > entry.count) {
          entry.count = live.size;
          entry.subscriptionids = [...live];
        }
      }
    } else if (name === 'EventCancelRequest' && record.pv) {
      const sub = numberField(record, 'subscriptionid');
      if (sub !== undefined) state.live.get(record.pv)?.delete(sub);
    } else if (name === 'EventsOffRequest') {
      state.offSince ??= record.timestamp;
    } else if (name === 'EventsOnRequest' && state.offSince !== undefined) {
      this.flowPeriod(circuit, state, record.timestamp);
    }
  }

  /** A monitor update: counted for its PV and server, its circuit and its subscription. */
  private update(record: AnalysisRecord, circuit: number | undefined): void {
    const size = record.size ?? 0;
    const server = record.server ?? sender(record);
    const t = record.timestamp;
    const pv = record.pv ?? '';
    const byServer = this.byPv.get(pv) ?? this.byPv.add(pv, new Map());
    let pvLoad = byServer.get(server);
    if (!pvLoad) byServer.set(server, (pvLoad = newLoad(t, record.pv, server, null, null)));
    count(pvLoad, t, size);
    if (circuit === undefined) return;
    let c = this.byCircuit.get(circuit);
    if (c === undefined) {
      const number = this.circuitsLoaded++;
      c = this.byCircuit.add(circuit, {
        load: newLoad(t, null, server, circuit, null, number),
        number,
        subs: new Map(),
      });
    }
    count(c.load, t, size);
    // Read here, not through numberField: this site sees EVENT_ADD replies only, not every command's shape.
    const subscriptionid = record.command.subscriptionid;
    const sub = typeof subscriptionid === 'number' ? subscriptionid : -1;
    let subLoad = c.subs.get(sub);
    if (!subLoad && c.subs.size < MAX_SUBSCRIPTIONS_PER_CIRCUIT) {
      const order = c.number * ORDER_STRIDE + c.subs.size;
      c.subs.set(sub, (subLoad = newLoad(t, record.pv, server, circuit, sub < 0 ? null : sub, order)));
    }
    if (subLoad) count(subLoad, t, size);
  }

  /**
   * A circuit ended: its subscriptions are gone (an EVENTS_OFF still in effect ends with it) and its loads
   * and its subscriptions' are final.
   */
  closeCircuit(circuit: number, time: number): void {
    const state = this.circuits.map.get(circuit);
    if (state !== undefined) {
      if (state.offSince !== undefined) this.flowPeriod(circuit, state, time);
      this.circuits.delete(circuit);
    }
    const loads = this.byCircuit.map.get(circuit);
    if (loads !== undefined) {
      this.finishedCircuits.add(loads.load);
      for (const l of loads.subs.values()) this.finishedSubscriptions.add(l);
      this.byCircuit.delete(circuit);
    }
  }

  private flowPeriod(circuit: number, state: CircuitSubscriptions, end: number): void {
    const start = state.offSince as number;
    this.flow.push({ circuit, client: state.client, server: state.server, start, end, duration: end - start });
    state.offSince = undefined;
  }

  /** Busiest PVs, subscriptions and circuits by updates per second. */
  monitorLoad(limit = 50): Bounded<MonitorLoadEntry> {
    return runSteps(this.monitorLoadSteps(limit));
  }

  /** {@link MonitorAnalysis.monitorLoad} in steps. */
  *monitorLoadSteps(limit = 50): Steps<Bounded<MonitorLoadEntry>> {
    const pvLoads: Load[] = [];
    const subLoads: Load[] = [];
    const circuitLoads: Load[] = [];
    for (const byServer of this.byPv.map.values()) for (const l of byServer.values()) pvLoads.push(l);
    // Closed circuits' loads in their places among the open ones (first-update order), as if still there.
    const closed = this.finishedCircuits.list();
    const closedSubs = this.finishedSubscriptions.list();
    let nextClosed = 0;
    let nextClosedSub = 0;
    for (const c of this.byCircuit.map.values()) {
      while (nextClosed < closed.length && closed[nextClosed].order < c.load.order)
        circuitLoads.push(closed[nextClosed++]);
      const before = c.load.order * ORDER_STRIDE;
      while (nextClosedSub < closedSubs.length && closedSubs[nextClosedSub].order < before) {
        subLoads.push(closedSubs[nextClosedSub++]);
      }
      circuitLoads.push(c.load);
      for (const l of c.subs.values()) subLoads.push(l);
    }
    while (nextClosed < closed.length) circuitLoads.push(closed[nextClosed++]);
    while (nextClosedSub < closedSubs.length) subLoads.push(closedSubs[nextClosedSub++]);
    const dropped = { pv: 0, subscription: this.finishedSubscriptions.dropped, circuit: this.finishedCircuits.dropped };
    const byRate = (a: MonitorLoadEntry, b: MonitorLoadEntry): number => b.rate - a.rate;
    const parts: Bounded<MonitorLoadEntry>[] = [];
    for (const [kind, loads] of [
      ['pv', pvLoads],
      ['subscription', subLoads],
      ['circuit', circuitLoads],
    ] as const) {
      const rows = yield* mapSteps(loads, (l) => row(kind, l));
      parts.push(yield* topSteps(rows, limit, byRate, dropped[kind]));
    }
    return { rows: parts.flatMap((p) => p.rows), omitted: parts.reduce((n, p) => n + p.omitted, 0) };
  }

  redundantSubscriptions(): Bounded<RedundantSubscriptionEntry> {
    const byCount = (a: RedundantSubscriptionEntry, b: RedundantSubscriptionEntry): number =>
      b.count - a.count || compareText(a.pv, b.pv);
    return firstRows([...this.redundant.values()], this.maxRows, byCount, this.redundant.evicted);
  }

  /** EVENTS_OFF → EVENTS_ON periods, including ones still open at the end. */
  flowControl(): Bounded<FlowControlEntry> {
    const rows = this.flow.list();
    for (const [circuit, s] of this.circuits.map.entries()) {
      if (s.offSince !== undefined)
        rows.push({ circuit, client: s.client, server: s.server, start: s.offSince, end: null, duration: null });
    }
    return firstRows(rows, this.maxRows, undefined, this.flow.dropped);
  }
}
