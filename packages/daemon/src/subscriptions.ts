/**
 * WebSocket subscriptions, both halves: the main thread validates a client's filter and reduces it to a
 * canonical form ({@link canonicalSubscription}), so clients with equal filters share one subscription; the
 * decoding worker compiles each subscription once, matches every decoded record against all of them and
 * samples each to the rate its clients read ({@link BatchSampler}). Only the worker ever runs a compiled
 * filter on a record.
 */
import { type FilterableRecord, type RecordPredicate, compileFilter } from '@ca-shark/analysis/filter';
import type { SubscriptionFilter } from './plugins/ws.js';
import { EvenSample } from './sampler.js';

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * Checks a client's filter and returns its canonical form, or undefined when it keeps every record.
 * Throws the shared compiler's FilterError (the message the dashboard shows for the same filter) when it is
 * invalid. Checking is bounded by the filter caps; the compiled filter is thrown away (the worker compiles
 * its own), so nothing here ever looks at a record.
 *
 * Canonical: globs and hosts sorted without duplicates, command values split at commas, trimmed,
 * lower-cased, sorted and deduplicated (the compiler ignores case and order), empty criteria left out.
 */
export function canonicalSubscription(filter: SubscriptionFilter): SubscriptionFilter | undefined {
  compileFilter(filter);
  const out: SubscriptionFilter = {};
  const pv = sortedUnique(filter.pv ?? []);
  const host = sortedUnique(filter.host ?? []);
  const command = sortedUnique(
    (filter.command ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== ''),
  );
  if (pv.length > 0) out.pv = pv;
  if (host.length > 0) out.host = host;
  if (command.length > 0) out.command = command;
  if (filter.errors === true) out.errors = true;
  const sensor = sortedUnique(filter.sensor ?? []);
  if (sensor.length > 0) out.sensor = sensor;
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The subscription id that stands for "every record" (clients subscribed to nothing in particular, record
 * listeners). The hub numbers real subscriptions from 1.
 */
export const EVERYTHING = 0;

/** Records per second a stream is sent at most; Infinity keeps every record it matches. */
export type StreamRate = number;

/**
 * A batch's outcome: `picked` are the ascending positions (in the batch) of the records to serialise and
 * send; per stream, `matches` lists the positions in `picked` of those it keeps and `matched` how many of
 * the batch's records it matched (kept or not). Streams that matched nothing are left out of both.
 */
export interface BatchPick {
  picked: Uint32Array;
  matches: Map<number, Uint32Array>;
  matched: Map<number, number>;
  /**
   * What the batch's matches would fill of the sampled streams' full rates, in seconds of that rate: the
   * most over the streams of what one matched over its full rate (0 when no sampled stream matched). Over
   * an interval, divided by its length, it is the share the streams would need to keep every match (the
   * stream governor's measure of use, see stream-governor.ts).
   */
  fill: number;
}

/** One stream (a subscription, or {@link EVERYTHING}) and what it matched in the batch being built. */
interface Stream {
  readonly id: number;
  /** Null: every record. */
  readonly test: RecordPredicate | null;
  rate: StreamRate;
  matched: number;
  /** The positions kept while every match is kept (rate Infinity). */
  exact: Uint32Array;
  exactCount: number;
  /** An evenly spaced sample of the positions matched (finite rate). */
  sample: EvenSample<number> | null;
  /** Records the next batch may keep (a token bucket, like each client's in the hub). */
  tokens: number;
}

/** Positions kept per exact stream before the first batch grows them (the worker's flush size). */
const INITIAL_INDEXES = 2048;
/**
 * A stream is handed this many times its rate: the hub samples again per client (its own budget, slow
 * sockets), and needs some slack to spread its choice evenly.
 */
const RATE_MARGIN = 1.5;
/**
 * Seconds of a stream's share one batch may carry after a pause (its token bucket's depth): the hub lets
 * a client take a second's worth at once, so a short burst reaches it whole.
 */
const BURST_SECONDS = 1;

/**
 * Records per second a stream keeps however hard the decoder's backlog thins the streams (its own rate
 * permitting): a filter matching a few records a second is not thinned for a cost it hardly adds.
 */
export const MIN_GOVERNED_RATE = 50;

const ZERO_SIZE = (): number => 0;

/**
 * The decoding worker's side of the record stream. Every decoded record is matched against the
 * subscriptions in use (and the {@link EVERYTHING} stream when some client takes every record); each
 * stream keeps, at its rate ({@link BatchSampler.setRates}, the most its clients read), an evenly spaced
 * sample of what it matched, the newest always included, and counts every match exactly. Only the
 * records some stream keeps are ever serialised ({@link BatchSampler.take}): at 85k msgs/s and a page
 * that reads 2,000 a second, the worker no longer builds 83k compact records a second nobody receives.
 * Matching allocates nothing per record; a sample holds positions, not records.
 */
export class BatchSampler {
  private list: Stream[] = [];
  /** Rates given before their subscription arrived, or kept for one re-added. */
  private readonly rates = new Map<number, StreamRate>();

  /** Compiles and adds a subscription; throws FilterError (the main thread checked it, so only on a bug). */
  add(id: number, filter: SubscriptionFilter): void {
    this.addStream(id, compileFilter(filter));
  }

  /** Forgets a subscription (or the {@link EVERYTHING} stream), with what it matched in the batch being built. */
  remove(id: number): void {
    this.list = this.list.filter((c) => c.id !== id);
  }

  /**
   * Sets the record rates: `everything` for the {@link EVERYTHING} stream (0 removes it) and each
   * subscription's; a subscription not named keeps every record it matches. Applies from the next batch.
   */
  setRates(everything: StreamRate, subscriptions: ReadonlyMap<number, StreamRate>): void {
    this.rates.clear();
    for (const [id, rate] of subscriptions) this.rates.set(id, rate);
    const all = this.list.find((c) => c.id === EVERYTHING);
    if (everything > 0 && all === undefined) this.addStream(EVERYTHING, null);
    if (everything <= 0 && all !== undefined) this.remove(EVERYTHING);
    if (everything > 0) this.rates.set(EVERYTHING, everything);
    for (const c of this.list) this.setRate(c, this.rates.get(c.id) ?? Infinity);
  }

  /** Streams in use (subscriptions, and {@link EVERYTHING} when someone takes every record). */
  get size(): number {
    return this.list.length;
  }

  /**
   * Matches the record at position `position` of the batch being built against every stream; true when at
   * least one matched it (the caller then keeps the record until {@link BatchSampler.take}). Positions
   * must ascend within a batch.
   */
  offer(record: FilterableRecord, position: number): boolean {
    let any = false;
    for (const c of this.list) {
      if (c.test !== null && !c.test(record)) continue;
      any = true;
      c.matched += 1;
      if (c.sample !== null) {
        c.sample.offer(position);
        continue;
      }
      if (c.rate === 0) continue;
      if (c.exactCount === c.exact.length) {
        const grown = new Uint32Array(c.exact.length * 2);
        grown.set(c.exact);
        c.exact = grown;
      }
      c.exact[c.exactCount++] = position;
    }
    return any;
  }

  /**
   * Ends the batch, which covered `seconds` of wall time: each sampled stream keeps about its rate's share
   * of it (at least its newest record), times `share` (0..1], the part of their rates the streams get while
   * the decoder catches up (see stream-governor.ts; streams that keep every match are not thinned), but
   * `floor` records/s at least, within its rate. Returns which positions to send and, per stream, which of
   * those it keeps and how many it matched.
   */
  take(seconds: number, share = 1, floor = MIN_GOVERNED_RATE): BatchPick {
    const kept = new Map<number, number[] | Uint32Array>();
    const matched = new Map<number, number>();
    let union: number[] = [];
    let fill = 0;
    for (const c of this.list) {
      if (c.matched === 0) continue;
      matched.set(c.id, c.matched);
      let positions: number[] | Uint32Array;
      if (c.sample !== null) {
        // A thinned stream keeps a floor: a narrow filter's few records cost next to nothing to serialise.
        const full = RATE_MARGIN * c.rate;
        fill = Math.max(fill, c.matched / full);
        const rate = Math.min(full, Math.max(full * share, floor));
        c.tokens = Math.min(rate * BURST_SECONDS, c.tokens + rate * seconds);
        positions = c.sample.take(c.tokens);
        c.tokens = Math.max(0, c.tokens - positions.length);
      } else {
        positions = c.exact.slice(0, c.exactCount);
        c.exactCount = 0;
      }
      c.matched = 0;
      if (positions.length === 0) continue;
      kept.set(c.id, positions);
      union = union.length === 0 ? Array.from(positions) : mergeAscending(union, positions);
    }
    const picked = Uint32Array.from(union);
    const matches = new Map<number, Uint32Array>();
    for (const [id, positions] of kept) {
      const out = new Uint32Array(positions.length);
      // Both ascend: one walk finds each position's place in the union.
      let j = 0;
      for (let i = 0; i < positions.length; i++) {
        while (picked[j] !== positions[i]) j++;
        out[i] = j;
      }
      matches.set(id, out);
    }
    return { picked, matches, matched, fill };
  }

  /** Drops what the batch being built matched. */
  clear(): void {
    for (const c of this.list) {
      c.matched = 0;
      c.exactCount = 0;
      c.sample?.clear();
    }
  }

  private addStream(id: number, test: RecordPredicate | null): void {
    this.remove(id);
    const stream: Stream = {
      id,
      test,
      rate: Infinity,
      matched: 0,
      exact: new Uint32Array(INITIAL_INDEXES),
      exactCount: 0,
      sample: null,
      tokens: 0,
    };
    this.setRate(stream, this.rates.get(id) ?? Infinity);
    this.list.push(stream);
  }

  private setRate(c: Stream, rate: StreamRate): void {
    if (rate === c.rate) return;
    c.rate = rate;
    c.exactCount = 0;
    const sampled = Number.isFinite(rate) && rate > 0;
    const depth = RATE_MARGIN * rate * BURST_SECONDS;
    // Thinning halves what a sample holds: twice the depth keeps at least a full bucket's worth.
    c.sample = sampled ? new EvenSample<number>(Math.ceil(2 * depth), Infinity, ZERO_SIZE) : null;
    c.tokens = sampled ? depth : 0;
  }
}

/** The ascending union (without duplicates) of two ascending lists. */
function mergeAscending(a: readonly number[], b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else if (i >= a.length || b[j] < a[i]) out.push(b[j++]);
    else {
      out.push(a[i++]);
      j++;
    }
  }
  return out;
}
