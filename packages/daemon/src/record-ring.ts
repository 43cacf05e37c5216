/**
 * The latest records the daemon streamed, kept so that a page can fetch one in full (`GET /api/record/:id`)
 * when a row is opened. The stream itself carries only the compact {@link LiveRecord}; the ring keeps the
 * decoded records as they are and serialises one only when it is asked for, so streaming costs no full
 * serialisation, and a record nobody opens is never turned into JSON.
 *
 * Bounded by count and by an estimate of the bytes each record holds (its message bytes, its decoded
 * value and a fixed overhead for the objects around them); the oldest go first.
 */
import { type CaRecord, lentBytes } from '@ca-shark/decoder';

/** Bounds of a {@link RecordRing}. */
export interface RecordRingOptions {
  /** Records kept at most. */
  maxRecords: number;
  /** Estimated bytes kept at most (see {@link estimateRecordBytes}). */
  maxBytes: number;
}

/** The latest 100,000 records or 64 MiB, whichever comes first. */
export const DEFAULT_RECORD_RING: RecordRingOptions = { maxRecords: 100_000, maxBytes: 64 * 1024 * 1024 };

/**
 * What one record keeps alive besides its bytes and value: the record, command, metadata and request
 * objects and its share of the packet's header objects. Measured with wire-size.bench.ts (heap held by
 * 100,000 records after full collections, minus their bytes and values): about 740 on real100.pcap and
 * 770 on realistic.pcap with Node 20.
 */
const RECORD_OVERHEAD_BYTES = 760;
/** Bytes per element of a plain array value (a double, or a pointer to a string). */
const ARRAY_ELEMENT_BYTES = 8;
/** Bytes a DBR string element takes on the wire (and about what it takes as a short string). */
const STRING_ELEMENT_BYTES = 40;

/**
 * Gives `record` a copy of its message bytes (`raw`): the engine's decoder lends them only while a record is
 * published (`keepBytes: 'lend'`). Called on the records kept past that (those a stream matched, which a
 * page may open in full), so the bytes of every other record are never copied.
 */
export function keepRecordBytes(record: CaRecord): void {
  if (record.raw !== undefined) return;
  const lent = lentBytes(record);
  if (lent !== undefined) record.raw = lent.slice();
}

/** Estimated bytes a decoded record keeps alive while it is held (for the ring's byte bound). */
export function estimateRecordBytes(record: CaRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + (record.raw?.byteLength ?? 0);
  const data: unknown = 'data' in record.command ? record.command.data : undefined;
  if (ArrayBuffer.isView(data)) bytes += data.byteLength;
  else if (Array.isArray(data))
    bytes += data.length * (typeof data[0] === 'string' ? STRING_ELEMENT_BYTES : ARRAY_ELEMENT_BYTES);
  return bytes;
}

/** The slots of a ring nothing was added to yet. */
const EMPTY_SLOTS = new Float64Array(0);

/**
 * A FIFO of items under ascending ids (not necessarily contiguous: only records someone was sent are
 * kept), looked up by binary search. Ids and sizes live in typed arrays so that the ring adds no object
 * per entry besides the item itself.
 */
export class RecordRing<T> {
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (item: T) => number;
  /**
   * Ids, sizes and items by slot: allocated by the first {@link add}, since a daemon with no page open never
   * keeps a record (the default ring's 100,000 slots were 2.4 MB allocated and 0.8 MB written at start-up,
   * and the worker made one at import and another at `init`).
   */
  private ids: Float64Array = EMPTY_SLOTS;
  private sizes: Float64Array = EMPTY_SLOTS;
  private items: (T | undefined)[] = [];
  private head = 0;
  private count = 0;
  private total = 0;

  constructor(sizeOf: (item: T) => number, options: Partial<RecordRingOptions> = {}) {
    this.maxRecords = Math.max(1, options.maxRecords ?? DEFAULT_RECORD_RING.maxRecords);
    this.maxBytes = options.maxBytes ?? DEFAULT_RECORD_RING.maxBytes;
    this.sizeOf = sizeOf;
  }

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.total;
  }

  /** The greatest id held, or 0 when empty. */
  get newestId(): number {
    return this.count === 0 ? 0 : this.ids[(this.head + this.count - 1) % this.maxRecords];
  }

  /**
   * Keeps `item` under `id` (greater than every id added before), dropping the oldest entries beyond the
   * bounds. An item larger than the whole byte bound is not kept (asking for it gives undefined).
   */
  add(id: number, item: T): void {
    const size = this.sizeOf(item);
    if (size > this.maxBytes) return;
    if (this.ids.length === 0) {
      this.ids = new Float64Array(this.maxRecords);
      this.sizes = new Float64Array(this.maxRecords);
      this.items = new Array<T | undefined>(this.maxRecords);
    }
    while (this.count > 0 && (this.count === this.maxRecords || this.total + size > this.maxBytes)) this.dropOldest();
    const at = (this.head + this.count) % this.maxRecords;
    this.ids[at] = id;
    this.sizes[at] = size;
    this.items[at] = item;
    this.count += 1;
    this.total += size;
  }

  /** The item kept under `id`, or undefined when it was never kept or is gone. */
  get(id: number): T | undefined {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = (this.head + mid) % this.maxRecords;
      const value = this.ids[at];
      if (value === id) return this.items[at];
      if (value < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private dropOldest(): void {
    this.items[this.head] = undefined;
    this.total -= this.sizes[this.head];
    this.head = (this.head + 1) % this.maxRecords;
    this.count -= 1;
  }
}

/**
 * Streamed records awaiting the hub's verdict: enough for the few hundred milliseconds between the worker
 * handing a record over and the main thread saying whether it was sent (at 85,000 records/s, 0.35 s).
 */
const RECENT_RECORDS = 30_000;
const RECENT_BYTES = 16 * 1024 * 1024;

/**
 * The records a page may open, in two bounded rings: every streamed record for a short while, and those
 * actually sent to some client for as long as the main bounds allow. When a client is sent a sample of a
 * fast stream, its rows stay fetchable for minutes rather than for the second the stream needs to push
 * 100,000 records through. A record sent late (to a client whose socket was stuck), after the ring of
 * sent records moved past its id, is not kept.
 */
export class StreamedRecords<T> {
  private readonly recent: RecordRing<T>;
  private readonly sent: RecordRing<T>;

  constructor(sizeOf: (item: T) => number, options: Partial<RecordRingOptions> = {}) {
    this.sent = new RecordRing(sizeOf, options);
    this.recent = new RecordRing(sizeOf, { maxRecords: RECENT_RECORDS, maxBytes: RECENT_BYTES });
  }

  /** A record handed to the main thread under `id` (ascending). */
  streamed(id: number, item: T): void {
    this.recent.add(id, item);
  }

  /** Records the hub sent to clients, by id in any order; those still recent are kept for longer. */
  markSent(ids: ArrayLike<number>): void {
    const sorted = Float64Array.from(ids).sort();
    for (const id of sorted) {
      if (id <= this.sent.newestId) continue;
      const item = this.recent.get(id);
      if (item !== undefined) this.sent.add(id, item);
    }
  }

  /** The record streamed under `id`, or undefined when neither ring holds it any more. */
  get(id: number): T | undefined {
    return this.sent.get(id) ?? this.recent.get(id);
  }
}
