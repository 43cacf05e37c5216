/**
 * The held records behind `{type:'subscribe', since}`: every decoded record of the last minutes in a compact,
 * column-wise form, enough to rebuild its {@link LiveRecord} (byte for byte what the live stream sends) and to
 * run the shared filter of `@ca-shark/analysis/filter` on it, and nothing more: no large value, no packet
 * bytes, and no object per record for the garbage collector to trace.
 *
 * A chunk of records keeps numbers in typed columns, strings (endpoints, PV, command name) as numbers into
 * the chunk's table of references, and the rest as bytes (history-codec.ts): the ECA status the filter reads,
 * the latency, the channel's display, and the decoded command the summary line is made of (a waveform as a
 * preview: its length, first three elements and last). The line is made only for the records a history
 * request returns: a million held records are rarely read, and making every line was a tenth of the decoding
 * worker's time. A command that cannot be written so (a fault, a value of another kind) has its line made at
 * once instead.
 *
 * Bounded by count and by capture-time span (`--history RECORDS,DURATION`); the oldest go first. Measured
 * memory per held record: see {@link HELD_RECORD_BYTES}. Full chunks can be written to a spool file and their
 * memory let go (history-spool.ts): nothing per record stays in memory (a chunk's ids are its first one and
 * a count, its capture times go with its other columns), and what a request or the time bound needs is read
 * back.
 */
import type { FilterableRecord, RecordPredicate } from '@ca-shark/analysis/filter';
import {
  type LiveRecord,
  type SummaryCommand,
  type ValueFormat,
  failureStatus,
  summarizeFields,
} from '@ca-shark/analysis/summary';
import type { CaRecord } from '@ca-shark/decoder';
import type { CommandFields } from '@ca-shark/protocol';
import { recordFailed } from './aggregates.js';
import { BLOCK_BYTES, HeldBytes, type HeldReader, RecentRefs, recentSlot } from './history-codec.js';
import type { ChunkSpool, HistorySpoolStatus } from './history-spool.js';
import { chartValueOf } from './series.js';

/** Bounds of the held records. */
export interface HistoryBounds {
  /** Records held at most (0: hold none). */
  maxRecords: number;
  /** Capture seconds held at most, newest record's time minus oldest's (Infinity: no time bound). */
  maxSeconds: number;
}

/** The last 10 minutes or 1,000,000 records, whichever is smaller. */
export const DEFAULT_HISTORY: HistoryBounds = { maxRecords: 1_000_000, maxSeconds: 600 };

/**
 * What the daemon asks of its history: the bounds, and the directory its full chunks are spooled to
 * (history-spool.ts; `--spool-dir`, default the system's temporary directory; null: kept in memory).
 */
export interface HistoryOptions extends Partial<HistoryBounds> {
  spoolDir?: string | null;
}

/** Chunks read back from the spool kept in memory at once (a scan reads one; a request's page a few). */
const LOADED_CHUNKS = 2;
/** Blocks of let-go chunks kept for reuse (4 MiB), beyond which they are left to the collector. */
const POOLED_BLOCKS = 64;

/**
 * Heap one held record takes, measured with history-ring.bench.ts (heap and array buffers after full
 * collections, divided by the records held, chart aggregates included) on the bench's 100 MB realistic
 * capture with Node 20 (mostly scalar and waveform monitors): 89 bytes after a warm pass, 110 in the first
 * pass as sessions before measured it (the code it compiles counted too); of them 45 are its columns and
 * most of the rest its command's bytes. 315-356 when each record kept its command as an object (session
 * 11). With a spool (history-spool.ts) these bytes are on disk but for the chunk being filled and two read
 * back: what stays in memory is its chunk's table of references and a few numbers a chunk (its ids are its
 * first one and a count while they run on by one, as the daemon's do). Documented in docs/daemon.md.
 */
export const HELD_RECORD_BYTES = 110;

/**
 * Whether the summary line of `command` may wait until a history request returns it: any command but a
 * fault (whose fields, its bytes in hex, are shown whole: its line is as small as they are), as long as
 * history-codec.ts can write it. The decoder makes a new command object for every record and never changes
 * it afterwards, so the line made later from its bytes is the line it would have made now.
 */
export function deferredSummary(command: CaRecord['command']): boolean {
  return command.name !== 'Malformed';
}

/** Transport protocol names by code (the LiveRecord `proto` field). */
const PROTOCOLS = ['tcp', 'udp'] as const;
/**
 * Records per chunk of the columns, as a power of two (16,384): columns grow a chunk at a time and are never
 * copied, so a filling history touches each page of memory once (fresh memory costs about 3.5 ms of CPU per
 * MiB in page faults here, and doubling columns wrote every record two more times into fresh memory).
 */
const CHUNK_SHIFT = 14;

/** Bits of a held record's `bits` column. */
const BIT_UDP = 1;
const BIT_ERROR = 2;

// Flags of a held record's bytes (their first byte), saying what follows it, in this order.
/** The ECA status the filter's failure rule reads (a number). */
const F_STATUS = 1;
/** The reply's latency (a number). */
const F_LATENCY = 2;
/** The channel's display the line is made with (a reference). */
const F_FORMAT = 4;
/**
 * The line was made at once: its reference, the failure status name's reference and the chart value
 * follow instead of the command.
 */
const F_LINE = 8;
/** Bytes a record's flags and numbers take at most, before its command (see {@link HeldBytes.begin}). */
const HEADER_ROOM = 48;

/**
 * A column of numbers that are mostly integers near the first one written (ids, frame numbers): 4 bytes a
 * record as the difference from that first one, or 8 once one is not (then the whole column widens).
 */
class DeltaColumn {
  private base = Number.NaN;
  private wide: Float64Array | undefined;

  /** `deltas`: `size` slots, its own or a view into a chunk's cold columns (see {@link Chunk.bind}). */
  constructor(
    private readonly size: number,
    private deltas = new Int32Array(size),
  ) {}

  /** Reads and writes `deltas` from now on (the same bytes, read back, or a fresh chunk's). */
  bind(deltas: Int32Array<ArrayBuffer>): void {
    this.deltas = deltas;
  }

  set(at: number, v: number): void {
    if (this.wide !== undefined) {
      this.wide[at] = v;
      return;
    }
    // Never -0 (`+ 0`): base + d is then never -0 either, and a -0 value widens.
    if (Number.isNaN(this.base)) this.base = Number.isSafeInteger(v) ? v + 0 : 0;
    const d = v - this.base;
    // Exact only when base + d is v again: a difference can round to an integer (5e-20 - 7 is -7), and
    // -0 - 0 is an integer too.
    if ((d | 0) === d && this.base + d === v && (v !== 0 || 1 / v > 0)) this.deltas[at] = d;
    else this.widen(at, v);
  }

  get(at: number): number {
    return this.wide !== undefined ? this.wide[at] : this.base + this.deltas[at];
  }

  /** Empties the column for a chunk's next use. */
  reset(): void {
    this.base = Number.NaN;
    this.wide = undefined;
  }

  private widen(at: number, v: number): void {
    const wide = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) wide[i] = this.base + this.deltas[i];
    wide[at] = v;
    this.wide = wide;
  }
}

/**
 * A chunk's ids: nothing per record while each is the one before plus one (the daemon numbers every record it
 * holds so, engine-worker.ts), only the first; a {@link DeltaColumn} from the first id that breaks the run.
 * Slots are written in order from 0, as a chunk fills.
 */
class IdColumn {
  private first = Number.NaN;
  private column: DeltaColumn | undefined;

  constructor(private readonly size: number) {}

  set(at: number, v: number): void {
    if (this.column !== undefined) this.column.set(at, v);
    else if (at === 0 ? Number.isSafeInteger(v) && !Object.is(v, -0) : v === this.first + at) {
      if (at === 0) this.first = v;
    } else {
      // The run breaks here: its ids so far, then this one, in a column from now on.
      const column = new DeltaColumn(this.size);
      for (let i = 0; i < at; i++) column.set(i, this.first + i);
      column.set(at, v);
      this.column = column;
    }
  }

  get(at: number): number {
    return this.column !== undefined ? this.column.get(at) : this.first + at;
  }

  /** Empties the column for a chunk's next use. */
  reset(): void {
    this.first = Number.NaN;
    this.column = undefined;
  }
}

/** Entries of a {@link ChannelRefs}, as a power of two (1,024; the bench's realistic capture has 411 PVs). */
const CHANNEL_BITS = 10;
const CHANNEL_SLOTS = 1 << CHANNEL_BITS;

/** Displays a {@link ChannelRefs} keeps beside each PV (a power of two): one per client's channel of it. */
const DISPLAY_WAYS = 4;

/**
 * PV references and, beside each, the references of its channels' displays: a display is one object per
 * channel (per client of the PV; it changes when a GR or CTRL reply teaches something new), so the PV's
 * slot finds it among a few. A direct-mapped cache (see {@link RecentRefs}).
 */
class ChannelRefs {
  private readonly pvs = new Array<string | null | undefined>(CHANNEL_SLOTS).fill(undefined);
  private readonly pvRefs = new Int32Array(CHANNEL_SLOTS);
  /** The table generation each slot's PV was given in (stamps, not a fill of every slot, void old ones). */
  private readonly pvGenerations = new Int32Array(CHANNEL_SLOTS);
  private readonly displays = new Array<ValueFormat | undefined>(CHANNEL_SLOTS * DISPLAY_WAYS).fill(undefined);
  private readonly displayRefs = new Int32Array(CHANNEL_SLOTS * DISPLAY_WAYS);
  /** The way each slot's next new display takes. */
  private readonly nextWay = new Uint8Array(CHANNEL_SLOTS);
  /** The slot of the PV given last. */
  private slot = 0;

  /** {@link HeldBytes.ref} of `pv` in `bytes`. */
  pv(bytes: HeldBytes, pv: string | null): number {
    const at = recentSlot(pv, CHANNEL_BITS);
    this.slot = at;
    if (this.pvs[at] === pv && this.pvGenerations[at] === bytes.generation) return this.pvRefs[at];
    const r = bytes.ref(pv);
    this.pvs[at] = pv;
    this.pvRefs[at] = r;
    this.pvGenerations[at] = bytes.generation;
    // Its displays were another PV's, or the references of another table.
    this.displays.fill(undefined, at * DISPLAY_WAYS, (at + 1) * DISPLAY_WAYS);
    return r;
  }

  /** {@link HeldBytes.ref} of `display` in `bytes`: a display of the PV given last to {@link pv}. */
  display(bytes: HeldBytes, display: ValueFormat): number {
    const first = this.slot * DISPLAY_WAYS;
    for (let i = first; i < first + DISPLAY_WAYS; i++) if (this.displays[i] === display) return this.displayRefs[i];
    const r = bytes.ref(display);
    const way = this.nextWay[this.slot];
    this.nextWay[this.slot] = (way + 1) & (DISPLAY_WAYS - 1);
    this.displays[first + way] = display;
    this.displayRefs[first + way] = r;
    return r;
  }
}

/** A held record as the shared filter sees it (one reused object, see {@link HeldRecords.filterable}). */
interface HeldView extends FilterableRecord {
  src: string;
  dst: string;
  pv: string | null;
  command: { name: string; status?: number };
}

/** Bytes a slot takes in a chunk's cold columns (see {@link Chunk.bind}). */
const COLD_SLOT_BYTES = 41;
const NO_F64 = new Float64Array(0);
const NO_U32 = new Uint32Array(0);
const NO_U16 = new Uint16Array(0);
const NO_U8 = new Uint8Array(0);

/**
 * The columns of {@link CHUNK_SHIFT}-sized runs of slots: numbers in typed arrays, strings as references
 * into its {@link HeldBytes} table, the rest in its bytes (`at`: where a record's start).
 *
 * Ids (what a search by id reads) are always in memory, as a first id and nothing per record (see
 * {@link IdColumn}); the other columns, capture times included (cold: one ArrayBuffer, the times first), and
 * the bytes can be spooled to disk once the chunk is full (history-spool.ts), and read back into memory when
 * a request needs them; the time bound reads only the times of the oldest chunk ({@link HeldRecords.timeAt}).
 */
class Chunk {
  readonly ids: IdColumn;
  times = NO_F64;
  readonly frames: DeltaColumn;
  sizes = NO_U32;
  sports = NO_U16;
  dports = NO_U16;
  bits = NO_U8;
  srcs = NO_U32;
  dsts = NO_U32;
  pvs = NO_U32;
  cmds = NO_U32;
  at = NO_U32;
  readonly bytes = new HeldBytes();
  /** Its place in the ring's chunks (the spool's key). */
  index = 0;
  /** The cold columns' buffer, while they are in memory. */
  cold: ArrayBuffer | undefined;
  /** The cold columns and bytes are in the spool (then {@link cold} is undefined unless read back). */
  spooled = false;
  /** Its spooled bytes could not be read back: its records read as gone. */
  lost = false;
  /** Blocks of bytes it had when spooled. */
  spooledBlocks = 0;
  /**
   * Greatest capture time of its records: what the time bound reads of them all when its times cannot be read
   * back (a lost chunk's records then leave together, with the newest of them; they count as let go already).
   */
  newestTime = -Infinity;

  constructor(private readonly size: number) {
    this.ids = new IdColumn(size);
    this.frames = new DeltaColumn(size, new Int32Array(0));
  }

  /** Bytes of the cold columns' buffer. */
  get coldBytes(): number {
    return this.size * COLD_SLOT_BYTES;
  }

  /** Reads and writes the cold columns in `cold` ({@link coldBytes} bytes), as laid out here. */
  bind(cold: ArrayBuffer): void {
    const n = this.size;
    this.cold = cold;
    // The times first: the time bound reads them alone back from a spooled chunk (the start of its bytes).
    this.times = new Float64Array(cold, 0, n);
    this.frames.bind(new Int32Array(cold, 8 * n, n));
    this.sizes = new Uint32Array(cold, 12 * n, n);
    this.srcs = new Uint32Array(cold, 16 * n, n);
    this.dsts = new Uint32Array(cold, 20 * n, n);
    this.pvs = new Uint32Array(cold, 24 * n, n);
    this.cmds = new Uint32Array(cold, 28 * n, n);
    this.at = new Uint32Array(cold, 32 * n, n);
    this.sports = new Uint16Array(cold, 36 * n, n);
    this.dports = new Uint16Array(cold, 38 * n, n);
    this.bits = new Uint8Array(cold, 40 * n, n);
  }

  /** Lets go of the cold columns (returned, for reuse); nothing of them may be read until {@link bind}. */
  unbind(): ArrayBuffer | undefined {
    const cold = this.cold;
    this.cold = undefined;
    this.times = NO_F64;
    this.frames.bind(new Int32Array(0));
    this.sizes = this.srcs = this.dsts = this.pvs = this.cmds = this.at = NO_U32;
    this.sports = this.dports = NO_U16;
    this.bits = NO_U8;
    return cold;
  }

  /** Empties the chunk for its next use (its typed columns are simply overwritten). */
  reset(): void {
    this.ids.reset();
    this.frames.reset();
    this.bytes.reset();
    this.spooled = false;
    this.lost = false;
    this.spooledBlocks = 0;
    this.newestTime = -Infinity;
  }

  /** A reader at the flags of slot `at`'s bytes. */
  reader(at: number): HeldReader {
    return this.bytes.reader(this.at[at]);
  }

  /** The string (or null) of reference `r`. */
  ref<T>(r: number): T {
    return this.bytes.refs[r] as T;
  }
}

/**
 * Column-wise FIFO of held records under ascending ids: a ring of slots ({@link HistoryBounds.maxRecords}
 * rounded up to whole chunks, and one chunk more) whose chunks are allocated when the newest record first
 * reaches them and let go when the oldest leaves them (one is kept for reuse), so memory follows the records
 * held. With the chunk more, a chunk the newest record reaches again was emptied and let go first, so its
 * bytes and references are written from its start again. Adding is O(1), reading one is O(1) by position.
 */
export class HeldRecords {
  readonly bounds: HistoryBounds;
  /** Slots per chunk and its mask. */
  private readonly chunkSize: number;
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  /** Slots in the ring: whole chunks, at least maxRecords and a chunk. */
  private readonly capacity: number;
  private readonly chunks: (Chunk | undefined)[];
  /** A chunk let go, kept for the next one needed (a full ring lets one go and needs one at once). */
  private spare: Chunk | undefined;
  /** The chunk the newest record went into. */
  private filling: Chunk | undefined;
  private head = 0;
  private count = 0;
  /** Records let go since start (by either bound). */
  private droppedCount = 0;
  /** Greatest capture time held (records may arrive slightly out of order). */
  private newestTime = -Infinity;
  private readonly view: HeldView = { src: '', dst: '', pv: null, command: { name: '' } };
  /** The last references given per column (see {@link RecentRefs}). */
  private readonly recentSrcs = new RecentRefs();
  private readonly recentDsts = new RecentRefs();
  private readonly recentCmds = new RecentRefs();
  private readonly recentChannels = new ChannelRefs();
  /** Where full chunks go (history-spool.ts), or undefined: all in memory. */
  private readonly spool: ChunkSpool | undefined;
  /** Chunks still held whose spooled bytes could not be read back (their records count as let go). */
  private readonly lostChunks: Chunk[] = [];
  /** Spooled chunks read back, least recently first (at most {@link LOADED_CHUNKS}). */
  private readonly loaded: Chunk[] = [];
  /** Cold column buffers and byte blocks let go by spooled chunks, for the next chunk filled or read. */
  private readonly coldPool: ArrayBuffer[] = [];
  private readonly blockPool: Uint8Array[] = [];
  private readonly freshBlock = (): Uint8Array | undefined => this.blockPool.pop();
  /** The capture times of {@link timesOf}, a spooled chunk not read back, as the time bound reads them. */
  private spooledTimes = NO_F64;
  private timesOf: Chunk | undefined;

  /** `spool`: where full chunks go to free their memory (see history-spool.ts); none keeps them all here. */
  constructor(bounds: Partial<HistoryBounds> = {}, spool?: ChunkSpool) {
    this.spool = spool;
    this.bounds = {
      maxRecords: Math.max(0, Math.floor(bounds.maxRecords ?? DEFAULT_HISTORY.maxRecords)),
      maxSeconds: bounds.maxSeconds ?? DEFAULT_HISTORY.maxSeconds,
    };
    const max = this.bounds.maxRecords;
    // A small bound takes chunks of the next power of two.
    this.chunkShift = Math.min(CHUNK_SHIFT, Math.max(0, Math.ceil(Math.log2(Math.max(1, max)))));
    this.chunkSize = 1 << this.chunkShift;
    this.chunkMask = this.chunkSize - 1;
    const chunks = max === 0 ? 0 : Math.ceil(max / this.chunkSize) + 1;
    this.capacity = chunks * this.chunkSize;
    this.chunks = new Array<Chunk | undefined>(chunks).fill(undefined);
  }

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** Chunks of columns allocated now (memory follows the records held; see {@link CHUNK_SHIFT}). */
  get chunksHeld(): number {
    let n = 0;
    for (const chunk of this.chunks) if (chunk !== undefined) n += 1;
    return n;
  }

  /** What the spool wrote and holds (`stats.history.spool`); undefined without one. */
  get spoolStatus(): HistorySpoolStatus | undefined {
    return this.spool?.status;
  }

  /** Chunks whose columns and bytes are in the spool, not in memory (read back or not). */
  get chunksSpooled(): number {
    let n = 0;
    for (const chunk of this.chunks) if (chunk?.spooled === true) n += 1;
    return n;
  }

  /** Whether the record at `position` can be read (false: its chunk could not be read back from the spool). */
  readable(position: number): boolean {
    return !this.chunkOf(this.slot(position)).lost;
  }

  /** Id of the oldest record held, or 0 when empty. */
  get oldestId(): number {
    return this.count === 0 ? 0 : this.idAt(0);
  }

  /** Id of the newest record held, or 0 when empty. */
  get newestId(): number {
    return this.count === 0 ? 0 : this.idAt(this.count - 1);
  }

  /**
   * Records let go since start, by the count or the time bound, and those of a chunk the spool could not give
   * back (let go when its read failed): a counter, for the stats.
   */
  get dropped(): number {
    // A lost chunk's records still in the ring count as let go already; the bounds count them one by one as
    // they drop them, as any record (no test on the path every record takes for a rare failure).
    let lost = 0;
    for (const c of this.lostChunks) {
      const first = c.index << this.chunkShift;
      const head = this.head;
      // A spooled chunk is full; the oldest one may have lost some records to the bounds already.
      lost += head >= first && head < first + this.chunkSize ? first + this.chunkSize - head : this.chunkSize;
    }
    return this.droppedCount + lost;
  }

  /** Capture time of the oldest record held, or null when empty. */
  get oldestTime(): number | null {
    return this.count === 0 ? null : this.timeAt(0);
  }

  /**
   * Holds `record` under `id` (greater than any id added before), dropping the oldest records beyond the
   * bounds. `channel`: what is known of its channel's display (precision, units, enum strings), which its
   * summary line is made with.
   */
  add(id: number, record: CaRecord, channel?: ValueFormat): void {
    if (this.bounds.maxRecords === 0) return;
    const t = record.timestamp;
    if (t > this.newestTime) this.newestTime = t;
    // Without a time bound no time is read (a spooled oldest chunk's would be read back for nothing).
    if (this.bounds.maxSeconds !== Infinity)
      while (this.count > 0 && this.newestTime - this.timeAt(0) > this.bounds.maxSeconds) this.dropOldest();
    if (this.count === this.bounds.maxRecords) this.dropOldest();
    const slot = this.slot(this.count);
    const c = this.chunks[slot >>> this.chunkShift] ?? this.allocate(slot >>> this.chunkShift);
    const at = slot & this.chunkMask;
    if (t > c.newestTime) c.newestTime = t;
    this.count += 1;
    const cmd = record.command;
    const fields: CommandFields = cmd;
    const transport = record.transport;
    const bytes = c.bytes;
    c.ids.set(at, id);
    c.frames.set(at, record.frame);
    c.times[at] = t;
    c.sizes[at] = record.size;
    c.sports[at] = transport.sport;
    c.dports[at] = transport.dport;
    c.bits[at] = (transport.protocol === 'udp' ? BIT_UDP : 0) | (recordFailed(record) ? BIT_ERROR : 0);
    c.srcs[at] = this.recentSrcs.ref(bytes, record.src);
    c.dsts[at] = this.recentDsts.ref(bytes, record.dst);
    c.pvs[at] = this.recentChannels.pv(bytes, record.pv);
    c.cmds[at] = this.recentCmds.ref(bytes, cmd.name);
    const code = typeof fields.status === 'number' ? fields.status : fields.status_code;
    const latency = record.latency;
    bytes.begin(HEADER_ROOM);
    bytes.byte(
      (typeof code === 'number' ? F_STATUS : 0) |
        (latency !== undefined && latency !== null ? F_LATENCY : 0) |
        (channel !== undefined ? F_FORMAT : 0),
    );
    if (typeof code === 'number') bytes.number(code);
    if (latency !== undefined && latency !== null) bytes.number(latency);
    if (channel !== undefined) bytes.varint(this.recentChannels.display(bytes, channel));
    if (!deferredSummary(cmd) || !bytes.command(cmd)) {
      bytes.flag(F_LINE);
      bytes.varint(bytes.append(summarizeFields(cmd, undefined, channel)));
      bytes.varint(bytes.ref(failureStatus(cmd)));
      bytes.number(record.pv === null ? Number.NaN : chartValueOf(cmd));
    }
    c.at[at] = bytes.record;
  }

  /**
   * Position (0 = oldest held) of the first record with an id of `id` or more; {@link size} when none. Ids are
   * ascending, so this is a binary search.
   */
  positionOf(id: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idAt(mid) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Id of the record at `position`. */
  idAt(position: number): number {
    const slot = this.slot(position);
    return this.chunkAt(slot).ids.get(slot & this.chunkMask);
  }

  /**
   * Capture time of the record at `position`. A spooled chunk's times are read back alone (8 bytes a record,
   * 128 KiB a chunk) and kept until another's are read: the time bound reads the oldest record's at every add,
   * so once each time the oldest record enters a spooled chunk.
   */
  timeAt(position: number): number {
    const slot = this.slot(position);
    const c = this.chunkAt(slot);
    const at = slot & this.chunkMask;
    return c.cold !== undefined ? c.times[at] : this.timesOfSpooled(c)[at];
  }

  /** The capture times of spooled chunk `c` (its columns not in memory), read back unless read last. */
  private timesOfSpooled(c: Chunk): Float64Array {
    if (this.timesOf === c) return this.spooledTimes;
    if (this.spooledTimes.length === 0) this.spooledTimes = new Float64Array(this.chunkSize);
    const times = this.spooledTimes;
    this.timesOf = c;
    // Only the start of its spooled bytes: the times lead its cold columns (see Chunk.bind).
    if (c.lost) times.fill(c.newestTime);
    else if (this.spool?.read(c.index, [new Uint8Array(times.buffer)]) !== true) this.lose(c);
    return times;
  }

  /**
   * The record at `position` as the shared filter reads it. One object is reused for every call: test it
   * at once, keep nothing of it.
   */
  filterable(position: number): FilterableRecord {
    const slot = this.slot(position);
    const c = this.chunkOf(slot);
    if (c.lost) throw new Error(`held record at ${position} is gone (history spool unreadable)`);
    return this.viewOf(c, slot & this.chunkMask);
  }

  /**
   * Calls `found` with the id of every record from position `from` up to `to` (excluded) captured at or
   * after `since` that `test` accepts, oldest first: a history scan's slice, a chunk at a time.
   */
  match(from: number, to: number, since: number, test: RecordPredicate, found: (id: number) => void): void {
    let position = from;
    while (position < to) {
      const slot = this.slot(position);
      const c = this.chunkOf(slot);
      const first = slot & this.chunkMask;
      // The run of slots in this chunk, up to its end or `to`.
      const end = Math.min(this.chunkSize, first + (to - position));
      // A chunk the spool could not give back: its records are gone.
      if (c.lost) {
        position += end - first;
        continue;
      }
      for (let at = first; at < end; at++) {
        if (c.times[at] >= since && test(this.viewOf(c, at))) found(c.ids.get(at));
      }
      position += end - first;
    }
  }

  /** {@link filterable} of slot `at` of chunk `c`. */
  private viewOf(c: Chunk, at: number): FilterableRecord {
    const v = this.view;
    v.src = c.ref(c.srcs[at]);
    v.dst = c.ref(c.dsts[at]);
    v.pv = c.ref(c.pvs[at]);
    v.command.name = c.ref(c.cmds[at]);
    const r = c.reader(at);
    if ((r.byte() & F_STATUS) === 0) delete v.command.status;
    else v.command.status = r.number();
    return v;
  }

  /** The {@link LiveRecord} of the record at `position`, as the live stream sends it. */
  live(position: number): LiveRecord {
    const slot = this.slot(position);
    const c = this.chunkOf(slot);
    if (c.lost) throw new Error(`held record at ${position} is gone (history spool unreadable)`);
    const at = slot & this.chunkMask;
    const r = c.reader(at);
    const flags = r.byte();
    if ((flags & F_STATUS) !== 0) r.number();
    const latency = (flags & F_LATENCY) !== 0 ? r.number() : null;
    const channel = (flags & F_FORMAT) !== 0 ? c.ref<ValueFormat>(r.varint()) : undefined;
    let summary: string;
    let status: string | null;
    if ((flags & F_LINE) !== 0) {
      summary = c.ref(r.varint());
      status = c.ref(r.varint());
    } else {
      // The line is made now, from the command as it was decoded.
      const command: SummaryCommand = r.command();
      summary = summarizeFields(command, undefined, channel);
      status = failureStatus(command);
    }
    const bits = c.bits[at];
    return {
      id: c.ids.get(at),
      frame: c.frames.get(at),
      t: c.times[at],
      src: `${c.ref<string>(c.srcs[at])}:${c.sports[at]}`,
      dst: `${c.ref<string>(c.dsts[at])}:${c.dports[at]}`,
      proto: PROTOCOLS[bits & BIT_UDP],
      cmd: c.ref(c.cmds[at]),
      pv: c.ref(c.pvs[at]),
      summary,
      latency: latency !== null && Number.isNaN(latency) ? null : latency,
      status,
      error: (bits & BIT_ERROR) !== 0,
      size: c.sizes[at],
    };
  }

  /**
   * Calls `visit` with the capture time, size, command name and chart value of every held record of `pv`, oldest first
   * (a chart opened late fills its past from them, see series.ts). PV names are shared strings, so the
   * scan compares references first.
   */
  eachOfPv(pv: string, visit: (time: number, size: number, command: string, value: number) => void): void {
    for (let position = 0; position < this.count; position++) {
      const slot = this.slot(position);
      const c = this.chunkOf(slot);
      const at = slot & this.chunkMask;
      if (!c.lost && c.ref(c.pvs[at]) === pv)
        visit(c.times[at], c.sizes[at], c.ref(c.cmds[at]), this.chartValue(c, at));
    }
  }

  /** {@link chartValueOf} of the command of slot `at` of chunk `c`. */
  private chartValue(c: Chunk, at: number): number {
    const name = c.ref<string>(c.cmds[at]);
    const r = c.reader(at);
    const flags = r.byte();
    if ((flags & F_STATUS) !== 0) r.number();
    if ((flags & F_LATENCY) !== 0) r.number();
    if ((flags & F_FORMAT) !== 0) r.varint();
    if ((flags & F_LINE) !== 0) {
      r.varint();
      r.varint();
      return r.number();
    }
    if (name !== 'EventAddResponse' && name !== 'ReadNotifyResponse' && name !== 'ReadResponse') return Number.NaN;
    return r.seekField('data') ? r.scalarValue() : Number.NaN;
  }

  /** JSON text of {@link live}: the same text `toWire` gives for the decoded record. */
  wire(position: number): string {
    return JSON.stringify(this.live(position));
  }

  private slot(position: number): number {
    const i = this.head + position;
    return i >= this.capacity ? i - this.capacity : i;
  }

  /** The chunk of a slot that holds a record, its columns in memory (read back from the spool if need be). */
  private chunkOf(slot: number): Chunk {
    const chunk = this.chunks[slot >>> this.chunkShift] as Chunk;
    if (chunk.cold === undefined && !chunk.lost) this.readBack(chunk);
    return chunk;
  }

  /** The chunk of a slot that holds a record, for its ids, and times if in memory (nothing read back). */
  private chunkAt(slot: number): Chunk {
    return this.chunks[slot >>> this.chunkShift] as Chunk;
  }

  /** Chunk `index`, now needed for the newest record. */
  private allocate(index: number): Chunk {
    // A spare was emptied when it was let go.
    const chunk = this.spare ?? new Chunk(this.chunkSize);
    this.spare = undefined;
    const full = this.filling;
    if (full !== undefined) {
      full.bytes.seal();
      this.spoolOut(full);
    }
    if (chunk.cold === undefined) chunk.bind(this.coldPool.pop() ?? new ArrayBuffer(chunk.coldBytes));
    chunk.bytes.fresh = this.freshBlock;
    chunk.index = index;
    this.filling = chunk;
    this.chunks[index] = chunk;
    return chunk;
  }

  /** Writes full chunk `c` to the spool and lets go of its columns and bytes; kept as is when it cannot. */
  private spoolOut(c: Chunk): void {
    const spool = this.spool;
    // A bound below a whole chunk holds little: its chunks (and their 64 KiB blocks) stay in memory.
    if (spool === undefined || !spool.writable || c.cold === undefined || this.chunkShift < CHUNK_SHIFT) return;
    const blocks = c.bytes.written;
    if (!spool.write(c.index, [new Uint8Array(c.cold), ...blocks])) return;
    c.spooled = true;
    c.spooledBlocks = blocks.length;
    this.reclaim(c);
  }

  /** Reads spooled chunk `c`'s columns and bytes back into memory, letting go of the least recent one read. */
  private readBack(c: Chunk): void {
    if (this.loaded.length >= LOADED_CHUNKS) this.reclaim(this.loaded.shift() as Chunk);
    const cold = this.coldPool.pop() ?? new ArrayBuffer(c.coldBytes);
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < c.spooledBlocks; i++) blocks.push(this.freshBlock() ?? new Uint8Array(BLOCK_BYTES));
    if (this.spool?.read(c.index, [new Uint8Array(cold), ...blocks]) !== true) {
      this.lose(c);
      this.coldPool.push(cold);
      this.pool(blocks);
      return;
    }
    c.bind(cold);
    c.bytes.restore(blocks);
    this.loaded.push(c);
  }

  /** Spooled chunk `c` could not be read back: its records count as let go from now on (see dropped). */
  private lose(c: Chunk): void {
    c.lost = true;
    this.lostChunks.push(c);
    // Its times are unknown too: each of its records reads as its newest (they leave by the time bound together).
    if (this.timesOf === c) this.spooledTimes.fill(c.newestTime);
  }

  /** Takes back the memory of spooled chunk `c`'s columns and bytes (its spool copy stays). */
  private reclaim(c: Chunk): void {
    const i = this.loaded.indexOf(c);
    if (i >= 0) this.loaded.splice(i, 1);
    const cold = c.unbind();
    if (cold !== undefined && this.coldPool.length < LOADED_CHUNKS + 1) this.coldPool.push(cold);
    this.pool(c.bytes.release());
  }

  private pool(blocks: readonly Uint8Array[]): void {
    for (const block of blocks) if (this.blockPool.length < POOLED_BLOCKS) this.blockPool.push(block);
  }

  private dropOldest(): void {
    this.droppedCount += 1;
    const slot = this.head;
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count -= 1;
    // The oldest record left its chunk: the chunk goes (the newest ones are never in it, see the class).
    if ((slot & this.chunkMask) === this.chunkMask) {
      const chunk = this.chunkAt(slot);
      this.chunks[slot >>> this.chunkShift] = undefined;
      if (chunk === this.filling) this.filling = undefined;
      // A spooled chunk's memory goes back to the pools; it is bound again when next filled.
      if (chunk.spooled) {
        this.reclaim(chunk);
        this.spool?.forget?.(chunk.index);
      }
      // Its records are all in droppedCount now.
      if (chunk.lost) this.lostChunks.splice(this.lostChunks.indexOf(chunk), 1);
      if (this.timesOf === chunk) this.timesOf = undefined;
      // Emptied now, not when reused: its references (strings, displays, lines) go with its records, as
      // they would go one by one if each record had its own, even while no new chunk is needed for long
      // (records that stop coming, a time bound that drops more than it adds).
      chunk.reset();
      this.spare = chunk;
    }
  }
}
