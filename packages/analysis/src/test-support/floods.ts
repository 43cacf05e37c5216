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
