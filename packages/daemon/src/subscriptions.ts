/**
 * WebSocket subscriptions, both halves: the main thread validates a client's filter and reduces it to a
 * canonical form ({@link canonicalSubscription}), so clients with equal filters share one subscription; the
 * decoding worker compiles each subscription once and matches every decoded record against all of them
 * ({@link BatchMatcher}). Only the worker ever runs a compiled filter on a record.
 */
import { type FilterableRecord, type RecordPredicate, compileFilter } from '@ca-shark/analysis/filter';
import type { SubscriptionFilter } from './plugins/ws.js';

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

/** One compiled subscription and the indexes of the current batch it keeps. */
interface Compiled {
  readonly id: number;
  readonly test: RecordPredicate;
  indexes: Uint32Array;
  count: number;
}

/** Indexes kept per subscription before the first batch grows them (the worker's flush size). */
const INITIAL_INDEXES = 2048;

/**
 * The worker's side of subscriptions: compiles each filter it is given and, record by record, notes which
 * subscriptions keep which record of the batch being built. Allocates per batch only the result arrays.
 */
export class BatchMatcher {
  private list: Compiled[] = [];

  /** Compiles and adds a subscription; throws FilterError (the main thread checked it, so only on a bug). */
  add(id: number, filter: SubscriptionFilter): void {
    const test = compileFilter(filter);
    this.remove(id);
    this.list.push({ id, test, indexes: new Uint32Array(INITIAL_INDEXES), count: 0 });
  }

  /** Forgets a subscription, with what it matched in the batch being built. */
  remove(id: number): void {
    this.list = this.list.filter((c) => c.id !== id);
  }

  /** Subscriptions in use. */
  get size(): number {
    return this.list.length;
  }

  /**
   * Tests the record at position `index` of the batch being built against every subscription; true when at
   * least one keeps it. Indexes must be given in ascending order within a batch.
   */
  match(record: FilterableRecord, index: number): boolean {
    let any = false;
    for (const c of this.list) {
      if (!c.test(record)) continue;
      if (c.count === c.indexes.length) {
        const grown = new Uint32Array(c.indexes.length * 2);
        grown.set(c.indexes);
        c.indexes = grown;
      }
      c.indexes[c.count++] = index;
      any = true;
    }
    return any;
  }

  /**
   * Ends the batch: for each subscription that kept something, the indexes it kept (each in a buffer of its
   * own, so it can be transferred); subscriptions that kept nothing are left out.
   */
  take(): Map<number, Uint32Array> {
    const out = new Map<number, Uint32Array>();
    for (const c of this.list) {
      if (c.count === 0) continue;
      out.set(c.id, c.indexes.slice(0, c.count));
      c.count = 0;
    }
    return out;
  }

  /** Drops what the batch being built matched. */
  clear(): void {
    for (const c of this.list) c.count = 0;
  }
}
