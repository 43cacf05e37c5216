/**
 * The held records behind `{type:'subscribe', since}`: every decoded record of the last minutes in a compact,
 * column-wise form (numbers in typed arrays, shared strings by reference, what the one-line summary is made
 * of), enough to rebuild its {@link LiveRecord} (byte for byte what the live stream sends) and to run the
 * shared filter of `@ca-shark/analysis/filter` on it, and nothing more: no large value, no packet bytes.
 *
 * The summary line is made only for the records a history request returns: a million held records are
 * rarely read, and making every line was a tenth of the decoding worker's time. A record keeps its decoded
 * command for that (see {@link deferredSummary}), or its line when the command would hold much memory.
 *
 * Bounded by count and by capture-time span (`--history RECORDS,DURATION`); the oldest go first. Measured
 * memory per held record: see {@link HELD_RECORD_BYTES}.
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
import { isFailure } from '@ca-shark/analysis';
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
 * Heap one held record takes, measured with history-ring.bench.ts (heap after full collections, divided by
 * the records held, chart aggregates included): 325 bytes on real100.pcap (small scalar monitors), 338 on
 * realistic.pcap, with Node 20; 356 on the bench's 100 MB realistic capture (mostly waveform monitors),
 * where a waveform's preview (see {@link summaryStandIn}) takes about 15 bytes a record more than its line
 * did. A record whose line is deferred keeps its command (about 80 bytes more than the line on scalar
 * monitors). Documented in docs/daemon.md.
 */
export const HELD_RECORD_BYTES = 350;

/** Transport protocol names by code (the LiveRecord `proto` field). */
const PROTOCOLS = ['tcp', 'udp'] as const;
/**
 * Records per chunk of the columns, as a power of two (16,384): columns grow a chunk at a time and are never
 * copied, so a filling history touches each page of memory once (fresh memory costs about 3.5 ms of CPU per
 * MiB in page faults here, and doubling columns wrote every record two more times into fresh memory).
 */
const CHUNK_SHIFT = 14;

/** Flags of a held record. */
const FLAG_ERROR = 1;

/**
 * Longest value (elements of a plain array) a held record keeps for its summary; a longer one, or a typed
 * array (a waveform: kilobytes), has its line made at once instead.
 */
export const DEFERRED_VALUE_ELEMENTS = 8;

/**
 * Whether the summary of `command` can wait until it is read: true when keeping the command costs about what
 * its line would (numbers, short strings, a scalar or short plain array, DBR metadata). The decoder makes a
 * new command object for every record and never changes it afterwards, so the line made later is the line
 * it would have made now. A longer array value is kept as a {@link summaryStandIn} instead.
 */
export function deferredSummary(command: CaRecord['command']): boolean {
  if (command.name === 'Malformed') return false;
  const data = (command as { data?: unknown }).data;
  return data === undefined || data === null || (Array.isArray(data) && data.length <= DEFERRED_VALUE_ELEMENTS);
}

/**
 * Elements a summary line shows of an array value (`formatValue` of @ca-shark/analysis/summary with the
 * line's `maxElements`): all of an array of up to {@link SHOWN_ELEMENTS}, else the first
 * {@link PREVIEW_HEAD} and the last.
 */
const SHOWN_ELEMENTS = 5;
const PREVIEW_HEAD = 3;
/** Where a preview keeps the array's length and its last element; its first elements follow. */
const PREVIEW_LENGTH = 0;
const PREVIEW_LAST = 1;
const PREVIEW_FIRST = 2;

/**
 * Reads a preview as the long array it stands for, as far as a summary line reads one (`formatValue`:
 * `Array.isArray`, `length`, the first elements and the last, `instanceof Float32Array`). One handler per
 * prototype of array (the typed array classes and Array), so a preview is a proxy and a short array of
 * numbers: nothing per record besides.
 */
const previewHandlers = new Map<object | null, ProxyHandler<unknown[]>>();

function previewHandler(prototype: object | null): ProxyHandler<unknown[]> {
  let handler = previewHandlers.get(prototype);
  if (handler === undefined) {
    handler = {
      get(target, key) {
        if (typeof key === 'string' && key !== '') {
          if (key === 'length') return target[PREVIEW_LENGTH];
          const i = Number(key);
          if (Number.isInteger(i) && i >= 0) {
            const n = target[PREVIEW_LENGTH] as number;
            if (i === n - 1) return target[PREVIEW_LAST];
            return i < PREVIEW_HEAD ? target[PREVIEW_FIRST + i] : undefined;
          }
        }
        return Reflect.get(target, key) as unknown;
      },
      getPrototypeOf: () => prototype,
    };
    previewHandlers.set(prototype, handler);
  }
  return handler;
}

/**
 * A copy of `command` to make its summary line from later, or undefined when its line must be made now
 * (a fault, or a value of another kind). A waveform (a typed array, or a plain array longer than
 * {@link DEFERRED_VALUE_ELEMENTS}) would hold kilobytes: the copy holds instead a preview of it, its length,
 * its first {@link PREVIEW_HEAD} elements and its last (or a copy of an array short enough to be shown
 * whole), that reads as the waveform for the summary (see
 * {@link previewHandler}), so the line made later is byte for byte the line made now (history-ring.test.ts
 * checks it against `summarizeFields` of the decoded command). Making every waveform's line at once was a
 * twentieth of the decoding worker's CPU and a tenth of what it allocated in `-r --speed max` of the bench's
 * realistic capture, which is mostly waveform monitors.
 */
export function summaryStandIn(command: CaRecord['command']): SummaryCommand | undefined {
  if (command.name === 'Malformed') return undefined;
  const data = (command as { data?: unknown }).data;
  const typed = ArrayBuffer.isView(data) && !(data instanceof DataView);
  if (!typed && !Array.isArray(data)) return undefined;
  const array = data as ArrayLike<unknown>;
  const n = array.length;
  // A short one is shown whole: a copy of it (of the same type) is as small as a preview.
  if (n <= SHOWN_ELEMENTS) return { ...(command as SummaryCommand), data: (data as Float64Array | unknown[]).slice() };
  // Sized once: a pushed array keeps growth slack.
  const preview = new Array<unknown>(PREVIEW_FIRST + PREVIEW_HEAD);
  preview[PREVIEW_LENGTH] = n;
  preview[PREVIEW_LAST] = array[n - 1];
  for (let i = 0; i < PREVIEW_HEAD; i++) preview[PREVIEW_FIRST + i] = array[i];
  const prototype = Object.getPrototypeOf(array) as object | null;
  return { ...(command as SummaryCommand), data: new Proxy(preview, previewHandler(prototype)) };
}

/** A held record as the shared filter sees it (one reused object, see {@link HeldRecords.filterable}). */
interface HeldView extends FilterableRecord {
  src: string;
  dst: string;
  pv: string | null;
  command: { name: string; status?: number };
}

/** The columns of {@link CHUNK_SHIFT}-sized runs of slots: numbers in typed arrays, shared strings by reference. */
class Chunk {
  readonly ids: Float64Array;
  readonly frames: Float64Array;
  readonly times: Float64Array;
  readonly latencies: Float64Array;
  /** The scalar a PV chart plots ({@link chartValueOf}; NaN: none). */
  readonly values: Float64Array;
  /** The ECA status the filter's failure rule reads (NaN: none). */
  readonly statusCodes: Float64Array;
  readonly sizes: Uint32Array;
  readonly sports: Uint16Array;
  readonly dports: Uint16Array;
  readonly protos: Uint8Array;
  readonly flags: Uint8Array;
  readonly srcs: string[];
  readonly dsts: string[];
  readonly pvs: (string | null)[];
  readonly cmds: string[];
  /** The summary line, or the command to make it from (see {@link deferredSummary}). */
  readonly lines: (string | SummaryCommand)[];
  /** The channel's display format a deferred line is made with (undefined: none known, or a line made). */
  readonly formats: (ValueFormat | undefined)[];
  readonly statusNames: (string | null)[];

  constructor(size: number) {
    this.ids = new Float64Array(size);
    this.frames = new Float64Array(size);
    this.times = new Float64Array(size);
    this.latencies = new Float64Array(size);
    this.values = new Float64Array(size);
    this.statusCodes = new Float64Array(size);
    this.sizes = new Uint32Array(size);
    this.sports = new Uint16Array(size);
    this.dports = new Uint16Array(size);
    this.protos = new Uint8Array(size);
    this.flags = new Uint8Array(size);
    // Filled, not sized: arrays of one element kind from the start.
    this.srcs = new Array<string>(size).fill('');
    this.dsts = new Array<string>(size).fill('');
    this.pvs = new Array<string | null>(size).fill(null);
    this.cmds = new Array<string>(size).fill('');
    this.lines = new Array<string | SummaryCommand>(size).fill('');
    this.formats = new Array<ValueFormat | undefined>(size).fill(undefined);
    this.statusNames = new Array<string | null>(size).fill(null);
  }
}

/**
 * Column-wise FIFO of held records under ascending ids: a ring of slots ({@link HistoryBounds.maxRecords}
 * rounded up to whole chunks) whose chunks are allocated when the newest record first reaches them and let go
 * when the oldest leaves them (one is kept for reuse), so memory follows the records held. Adding is O(1),
 * reading one is O(1) by position.
 */
export class HeldRecords {
  readonly bounds: HistoryBounds;
  /** Slots per chunk and its mask. */
  private readonly chunkSize: number;
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  /** Slots in the ring: whole chunks, at least maxRecords. */
  private readonly capacity: number;
  private readonly chunks: (Chunk | undefined)[];
  /** A chunk let go, kept for the next one needed (a full ring lets one go and needs one at once). */
  private spare: Chunk | undefined;
  private head = 0;
  private count = 0;
  /** Greatest capture time held (records may arrive slightly out of order). */
  private newestTime = -Infinity;
  private readonly view: HeldView = { src: '', dst: '', pv: null, command: { name: '' } };

  constructor(bounds: Partial<HistoryBounds> = {}) {
    this.bounds = {
      maxRecords: Math.max(0, Math.floor(bounds.maxRecords ?? DEFAULT_HISTORY.maxRecords)),
      maxSeconds: bounds.maxSeconds ?? DEFAULT_HISTORY.maxSeconds,
    };
    const max = this.bounds.maxRecords;
    // A small bound takes one chunk of the next power of two.
    this.chunkShift = Math.min(CHUNK_SHIFT, Math.max(0, Math.ceil(Math.log2(Math.max(1, max)))));
    this.chunkSize = 1 << this.chunkShift;
    this.chunkMask = this.chunkSize - 1;
    const chunks = Math.ceil(max / this.chunkSize);
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

  /** Id of the oldest record held, or 0 when empty. */
  get oldestId(): number {
    return this.count === 0 ? 0 : this.idAt(0);
  }

  /** Id of the newest record held, or 0 when empty. */
  get newestId(): number {
    return this.count === 0 ? 0 : this.idAt(this.count - 1);
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
    while (this.count > 0 && this.newestTime - this.timeAt(0) > this.bounds.maxSeconds) this.dropOldest();
    if (this.count === this.bounds.maxRecords) this.dropOldest();
    const slot = this.slot(this.count);
    const c = this.chunks[slot >>> this.chunkShift] ?? this.allocate(slot >>> this.chunkShift);
    const at = slot & this.chunkMask;
    this.count += 1;
    const cmd = record.command;
    const fields: CommandFields = cmd;
    const transport = record.transport;
    c.ids[at] = id;
    c.frames[at] = record.frame;
    c.times[at] = t;
    c.latencies[at] = record.latency ?? Number.NaN;
    c.values[at] = record.pv === null ? Number.NaN : chartValueOf(cmd);
    const code = typeof fields.status === 'number' ? fields.status : fields.status_code;
    c.statusCodes[at] = typeof code === 'number' ? code : Number.NaN;
    c.sizes[at] = record.size;
    c.sports[at] = transport.sport;
    c.dports[at] = transport.dport;
    c.protos[at] = transport.protocol === 'udp' ? 1 : 0;
    c.flags[at] = isFailure(record) ? FLAG_ERROR : 0;
    c.srcs[at] = record.src;
    c.dsts[at] = record.dst;
    c.pvs[at] = record.pv;
    c.cmds[at] = cmd.name;
    const later = deferredSummary(cmd) ? cmd : summaryStandIn(cmd);
    if (later !== undefined) {
      c.lines[at] = later;
      c.formats[at] = channel;
    } else {
      c.lines[at] = summarizeFields(cmd, undefined, channel);
      c.formats[at] = undefined;
    }
    c.statusNames[at] = failureStatus(cmd);
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
    return this.chunkOf(slot).ids[slot & this.chunkMask];
  }

  /** Capture time of the record at `position`. */
  timeAt(position: number): number {
    const slot = this.slot(position);
    return this.chunkOf(slot).times[slot & this.chunkMask];
  }

  /**
   * The record at `position` as the shared filter reads it. One object is reused for every call: test it
   * at once, keep nothing of it.
   */
  filterable(position: number): FilterableRecord {
    const slot = this.slot(position);
    return this.viewOf(this.chunkOf(slot), slot & this.chunkMask);
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
      for (let at = first; at < end; at++) {
        if (c.times[at] >= since && test(this.viewOf(c, at))) found(c.ids[at]);
      }
      position += end - first;
    }
  }

  /** {@link filterable} of slot `at` of chunk `c`. */
  private viewOf(c: Chunk, at: number): FilterableRecord {
    const v = this.view;
    v.src = c.srcs[at];
    v.dst = c.dsts[at];
    v.pv = c.pvs[at];
    v.command.name = c.cmds[at];
    const code = c.statusCodes[at];
    if (Number.isNaN(code)) delete v.command.status;
    else v.command.status = code;
    return v;
  }

  /** The {@link LiveRecord} of the record at `position`, as the live stream sends it. */
  live(position: number): LiveRecord {
    const slot = this.slot(position);
    const c = this.chunkOf(slot);
    const at = slot & this.chunkMask;
    const latency = c.latencies[at];
    const line = c.lines[at];
    return {
      id: c.ids[at],
      frame: c.frames[at],
      t: c.times[at],
      src: `${c.srcs[at]}:${c.sports[at]}`,
      dst: `${c.dsts[at]}:${c.dports[at]}`,
      proto: PROTOCOLS[c.protos[at]],
      cmd: c.cmds[at],
      pv: c.pvs[at],
      // A deferred line is made now.
      summary: typeof line === 'string' ? line : summarizeFields(line, undefined, c.formats[at]),
      latency: Number.isNaN(latency) ? null : latency,
      status: c.statusNames[at],
      error: (c.flags[at] & FLAG_ERROR) !== 0,
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
      if (c.pvs[at] === pv) visit(c.times[at], c.sizes[at], c.cmds[at], c.values[at]);
    }
  }

  /** JSON text of {@link live}: the same text `toWire` gives for the decoded record. */
  wire(position: number): string {
    return JSON.stringify(this.live(position));
  }

  private slot(position: number): number {
    const i = this.head + position;
    return i >= this.capacity ? i - this.capacity : i;
  }

  /** The chunk of a slot that holds a record. */
  private chunkOf(slot: number): Chunk {
    return this.chunks[slot >>> this.chunkShift] as Chunk;
  }

  /** Chunk `index`, now needed for the newest record. */
  private allocate(index: number): Chunk {
    const chunk = this.spare ?? new Chunk(this.chunkSize);
    this.spare = undefined;
    this.chunks[index] = chunk;
    return chunk;
  }

  private dropOldest(): void {
    const slot = this.head;
    const chunk = this.chunkOf(slot);
    const at = slot & this.chunkMask;
    // Strings and commands are released with the slot; numbers are simply overwritten later.
    chunk.pvs[at] = null;
    chunk.lines[at] = '';
    chunk.formats[at] = undefined;
    chunk.statusNames[at] = null;
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count -= 1;
    // The oldest record left its chunk: the chunk goes unless the newest ones reach into it again.
    if (at === this.chunkMask && this.count < this.capacity - this.chunkSize) {
      this.chunks[slot >>> this.chunkShift] = undefined;
      this.spare = chunk;
    }
  }
}
