/**
 * Crafted floods for the analyses' bounds: record streams far larger than any table should grow, generated
 * lazily so a test holds one record at a time.
 */
import type { AnalysisRecord } from '../record.js';
import { rec } from './records.js';

export const FLOOD_CLIENT = '10.0.0.5:45000';
export const FLOOD_SERVER = '10.0.0.9:5064';
const onCircuit = (pv: string | null) => ({ circuit: 1, pv, client: FLOOD_CLIENT, server: FLOOD_SERVER });

/** `n` SearchRequests for one PV from one client, each with its own CID (a client that never retries). */
export function* searchFlood(n: number, pv = 'flood:pv'): Generator<AnalysisRecord> {
  for (let i = 0; i < n; i++) {
    yield rec(i * 1e-4, '10.0.0.5:40000', '10.0.0.255:5064', { name: 'SearchRequest', id: 6, pv, cid: i }, { pv });
  }
}

/** `n` EVENTS_OFF / EVENTS_ON pairs on one circuit: `n` flow-control periods. */
export function* flowControlFlood(n: number): Generator<AnalysisRecord> {
  for (let i = 0; i < n; i++) {
    yield rec(i * 1e-3, FLOOD_CLIENT, FLOOD_SERVER, { name: 'EventsOffRequest', id: 8 }, onCircuit(null));
    yield rec(i * 1e-3 + 5e-4, FLOOD_CLIENT, FLOOD_SERVER, { name: 'EventsOnRequest', id: 9 }, onCircuit(null));
  }
}

/**
 * `n` distinct channels created on one circuit (request and reply), each written once with WRITE_NOTIFY and
 * subscribed twice: rows for the channel log, the write audit and redundant subscriptions.
 */
export function* channelFlood(n: number): Generator<AnalysisRecord> {
  for (let i = 0; i < n; i++) {
    const pv = `flood:${i}`;
    const t = i * 1e-3;
    yield rec(t, FLOOD_CLIENT, FLOOD_SERVER, { name: 'CreateChanRequest', id: 18, pv, cid: i }, onCircuit(pv));
    yield rec(
      t + 1e-4,
      FLOOD_SERVER,
      FLOOD_CLIENT,
      { name: 'CreateChanResponse', id: 18, data_type: 6, data_count: 1, cid: i, sid: i },
      { ...onCircuit(pv), latency: 1e-4 },
    );
    yield rec(
      t + 2e-4,
      FLOOD_CLIENT,
      FLOOD_SERVER,
      { name: 'WriteNotifyRequest', id: 19, sid: i, ioid: i, data: [i], data_type: 6, data_count: 1 },
      onCircuit(pv),
    );
    for (const sub of [2 * i, 2 * i + 1]) {
      yield rec(
        t + 3e-4,
        FLOOD_CLIENT,
        FLOOD_SERVER,
        { name: 'EventAddRequest', id: 1, sid: i, subscriptionid: sub, mask: 5 },
        onCircuit(pv),
      );
    }
  }
}

/**
 * `n` ReadNotifyResponses from one server with latencies spread evenly over 10 µs .. 10 ms in a shuffled
 * order (`latencyOf(i)` is the i-th one): a sample far larger than any percentile needs.
 */
export function* readLatencyFlood(n: number): Generator<AnalysisRecord> {
  for (let i = 0; i < n; i++) {
    yield rec(
      i * 1e-3,
      FLOOD_SERVER,
      FLOOD_CLIENT,
      { name: 'ReadNotifyResponse', id: 15, ioid: i, data_type: 6, data_count: 1 },
      { ...onCircuit('flood:read'), latency: latencyOf(i) },
    );
  }
}

/** The latency of the i-th response of {@link readLatencyFlood}. */
export function latencyOf(i: number): number {
  return (((i * 7919) % 1000) + 1) * 1e-5;
}

/**
 * `n` client processes (`hosts` hosts, ports from 40000) searching one PV once each, host by host: the
 * first `n / hosts` processes all come from the first host.
 */
export function* searchClientFlood(n: number, hosts: number, pv = 'flood:pv'): Generator<AnalysisRecord> {
  const perHost = Math.ceil(n / hosts);
  for (let i = 0; i < n; i++) {
    const from = `10.1.${Math.floor(i / perHost)}.1:${40000 + (i % perHost)}`;
    yield rec(i * 1e-4, from, '10.1.255.255:5064', { name: 'SearchRequest', id: 6, pv, cid: i }, { pv });
  }
}

/** `n` searches for one PV (CIDs 0..n-1) from one client, each answered once by one server 1 ms later. */
export function* searchReplyFlood(n: number, pv = 'flood:pv'): Generator<AnalysisRecord> {
  for (let i = 0; i < n; i++) {
    yield rec(i * 1e-2, '10.0.0.5:40000', '10.0.0.255:5064', { name: 'SearchRequest', id: 6, pv, cid: i }, { pv });
    yield searchReply(i * 1e-2 + 1e-3, i, pv);
  }
}

/** A SEARCH reply from {@link FLOOD_SERVER} to the client of {@link searchReplyFlood}, for CID `cid`. */
export function searchReply(t: number, cid: number, pv = 'flood:pv', from = FLOOD_SERVER): AnalysisRecord {
  return rec(
    t,
    from,
    '10.0.0.5:40000',
    { name: 'SearchResponse', id: 6, port: 5064, ip: '255.255.255.255', cid },
    { pv },
  );
}

/** A circuit end in a flood: what `Analyzer.closeCircuit` is told. */
export interface FloodClose {
  close: number;
  time: number;
}

/**
 * `n` circuits one after the other (ids 1..n), each subscribing to one PV and getting 1-13 updates in half a
 * second (so many rates tie), every third one turning updates off before it closes.
 */
export function* circuitChurn(n: number): Generator<AnalysisRecord | FloodClose> {
  for (let i = 0; i < n; i++) {
    const circuit = i + 1;
    const pv = `churn:${i % 50}`;
    const on = { circuit, pv, client: FLOOD_CLIENT, server: FLOOD_SERVER };
    const t = i;
    yield rec(
      t,
      FLOOD_CLIENT,
      FLOOD_SERVER,
      { name: 'EventAddRequest', id: 1, sid: i, subscriptionid: i, mask: 5 },
      on,
    );
    const updates = 1 + ((i * 7919) % 13);
    for (let k = 0; k < updates; k++) {
      yield rec(
        t + 0.01 + k * 0.03,
        FLOOD_SERVER,
        FLOOD_CLIENT,
        { name: 'EventAddResponse', id: 1, subscriptionid: i },
        on,
      );
    }
    if (i % 3 === 0)
      yield rec(t + 0.6, FLOOD_CLIENT, FLOOD_SERVER, { name: 'EventsOffRequest', id: 8 }, { ...on, pv: null });
    yield { close: circuit, time: t + 0.7 };
  }
}
