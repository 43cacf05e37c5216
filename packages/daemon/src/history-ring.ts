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
import type { FilterableRecord } from '@ca-shark/analysis/filter';
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
 * the records held, chart aggregates included, with the chart value column): 258 bytes on real100.pcap
 * (small scalar monitors), 252 on realistic.pcap, with Node 20. Documented in docs/daemon.md.
 */
export const HELD_RECORD_BYTES = 260;

/** Transport protocol names by code (the LiveRecord `proto` field). */
const PROTOCOLS = ['tcp', 'udp'] as const;
/** First capacity of the columns; they double up to the record bound. */
const INITIAL_CAPACITY = 1024;

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
 * it would have made now.
 */
export function deferredSummary(command: CaRecord['command']): boolean {
  if (command.name === 'Malformed') return false;
  const data = (command as { data?: unknown }).data;
  return data === undefined || data === null || (Array.isArray(data) && data.length <= DEFERRED_VALUE_ELEMENTS);
}

/** A held record as the shared filter sees it (one reused object, see {@link HeldRecords.filterable}). */
interface HeldView extends FilterableRecord {
  src: string;
  dst: string;
  pv: string | null;
  command: { name: string; status?: number };
}

/**
 * Column-wise FIFO of held records under ascending ids. Adding is O(1) amortised (columns grow by doubling
 * up to the record bound, then wrap), reading one is O(1) by position.
 */
export class HeldRecords {
  readonly bounds: HistoryBounds;
  private capacity = 0;
  private head = 0;
  private count = 0;
  /** Greatest capture time held (records may arrive slightly out of order). */
  private newestTime = -Infinity;
  private ids = new Float64Array(0);
  private frames = new Float64Array(0);
  private times = new Float64Array(0);
  private latencies = new Float64Array(0);
  /** The scalar a PV chart plots ({@link chartValueOf}; NaN: none). */
  private values = new Float64Array(0);
  /** The ECA status the filter's failure rule reads (NaN: none). */
  private statusCodes = new Float64Array(0);
  private sizes = new Uint32Array(0);
  private sports = new Uint16Array(0);
  private dports = new Uint16Array(0);
  private protos = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private srcs: string[] = [];
  private dsts: string[] = [];
  private pvs: (string | null)[] = [];
  private cmds: string[] = [];
  /** The summary line, or the command to make it from (see {@link deferredSummary}). */
  private lines: (string | SummaryCommand)[] = [];
  /** The channel's display format a deferred line is made with (undefined: none known, or a line made). */
  private formats: (ValueFormat | undefined)[] = [];
  private statusNames: (string | null)[] = [];
  private readonly view: HeldView = { src: '', dst: '', pv: null, command: { name: '' } };

  constructor(bounds: Partial<HistoryBounds> = {}) {
    this.bounds = {
      maxRecords: Math.max(0, Math.floor(bounds.maxRecords ?? DEFAULT_HISTORY.maxRecords)),
      maxSeconds: bounds.maxSeconds ?? DEFAULT_HISTORY.maxSeconds,
    };
  }

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** Id of the oldest record held, or 0 when empty. */
  get oldestId(): number {
    return this.count === 0 ? 0 : this.ids[this.head];
  }

  /** Id of the newest record held, or 0 when empty. */
  get newestId(): number {
    return this.count === 0 ? 0 : this.ids[this.slot(this.count - 1)];
  }

  /** Capture time of the oldest record held, or null when empty. */
  get oldestTime(): number | null {
    return this.count === 0 ? null : this.times[this.head];
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
    while (this.count > 0 && this.newestTime - this.times[this.head] > this.bounds.maxSeconds) this.dropOldest();
    if (this.count === this.bounds.maxRecords) this.dropOldest();
    if (this.count === this.capacity) this.grow();
    const at = this.slot(this.count);
    this.count += 1;
    const cmd = record.command;
    const fields: CommandFields = cmd;
    const transport = record.transport;
    this.ids[at] = id;
    this.frames[at] = record.frame;
    this.times[at] = t;
    this.latencies[at] = record.latency ?? Number.NaN;
    this.values[at] = record.pv === null ? Number.NaN : chartValueOf(cmd);
    const code = typeof fields.status === 'number' ? fields.status : fields.status_code;
    this.statusCodes[at] = typeof code === 'number' ? code : Number.NaN;
    this.sizes[at] = record.size;
    this.sports[at] = transport.sport;
    this.dports[at] = transport.dport;
    this.protos[at] = transport.protocol === 'udp' ? 1 : 0;
    this.flags[at] = isFailure(record) ? FLAG_ERROR : 0;
    this.srcs[at] = record.src;
    this.dsts[at] = record.dst;
    this.pvs[at] = record.pv;
    this.cmds[at] = cmd.name;
    if (deferredSummary(cmd)) {
      this.lines[at] = cmd;
      this.formats[at] = channel;
    } else {
      this.lines[at] = summarizeFields(cmd, undefined, channel);
      this.formats[at] = undefined;
    }
    this.statusNames[at] = failureStatus(cmd);
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
      if (this.ids[this.slot(mid)] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Id of the record at `position`. */
  idAt(position: number): number {
    return this.ids[this.slot(position)];
  }

  /** Capture time of the record at `position`. */
  timeAt(position: number): number {
    return this.times[this.slot(position)];
  }

  /**
   * The record at `position` as the shared filter reads it. One object is reused for every call: test it
   * at once, keep nothing of it.
   */
  filterable(position: number): FilterableRecord {
    const at = this.slot(position);
    const v = this.view;
    v.src = this.srcs[at];
    v.dst = this.dsts[at];
    v.pv = this.pvs[at];
    v.command.name = this.cmds[at];
    const code = this.statusCodes[at];
    if (Number.isNaN(code)) delete v.command.status;
    else v.command.status = code;
    return v;
  }

  /** The {@link LiveRecord} of the record at `position`, as the live stream sends it. */
  live(position: number): LiveRecord {
    const at = this.slot(position);
    const latency = this.latencies[at];
    return {
      id: this.ids[at],
      frame: this.frames[at],
      t: this.times[at],
      src: `${this.srcs[at]}:${this.sports[at]}`,
      dst: `${this.dsts[at]}:${this.dports[at]}`,
      proto: PROTOCOLS[this.protos[at]],
      cmd: this.cmds[at],
      pv: this.pvs[at],
      summary: this.summaryAt(at),
      latency: Number.isNaN(latency) ? null : latency,
      status: this.statusNames[at],
      error: (this.flags[at] & FLAG_ERROR) !== 0,
      size: this.sizes[at],
    };
  }

  /**
   * Calls `visit` with the capture time, size, command name and chart value of every held record of `pv`, oldest first
   * (a chart opened late fills its past from them, see series.ts). PV names are shared strings, so the
   * scan compares references first.
   */
  eachOfPv(pv: string, visit: (time: number, size: number, command: string, value: number) => void): void {
    for (let position = 0; position < this.count; position++) {
      const at = this.slot(position);
      if (this.pvs[at] === pv) visit(this.times[at], this.sizes[at], this.cmds[at], this.values[at]);
    }
  }

  /** JSON text of {@link live}: the same text `toWire` gives for the decoded record. */
  wire(position: number): string {
    return JSON.stringify(this.live(position));
  }

  /** The summary line of the record in slot `at`, made now when it was deferred. */
  private summaryAt(at: number): string {
    const line = this.lines[at];
    return typeof line === 'string' ? line : summarizeFields(line, undefined, this.formats[at]);
  }

  private slot(position: number): number {
    const i = this.head + position;
    return i >= this.capacity ? i - this.capacity : i;
  }

  private dropOldest(): void {
    const at = this.head;
    // Strings are released with the slot; numbers are simply overwritten later.
    this.pvs[at] = null;
    this.lines[at] = '';
    this.formats[at] = undefined;
    this.statusNames[at] = null;
    this.head = at + 1 === this.capacity ? 0 : at + 1;
    this.count -= 1;
  }

  /** Doubles the columns (up to the record bound), unwrapping the ring so the oldest is first. */
  private grow(): void {
    const capacity = Math.min(this.bounds.maxRecords, Math.max(INITIAL_CAPACITY, this.capacity * 2));
    // The held records in two runs at most (before and after the wrap), copied a run at a time: the columns
    // double up to a million records while decoding waits.
    const first = Math.min(this.count, this.capacity - this.head);
    const second = this.count - first;
    const typed = <A extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(old: A, out: A): A => {
      out.set(old.subarray(this.head, this.head + first));
      out.set(old.subarray(0, second), first);
      return out;
    };
    const refs = <T>(old: T[]): T[] => {
      const out = new Array<T>(capacity);
      const head = this.head;
      for (let i = 0; i < first; i++) out[i] = old[head + i];
      for (let i = 0; i < second; i++) out[first + i] = old[i];
      return out;
    };
    this.ids = typed(this.ids, new Float64Array(capacity));
    this.frames = typed(this.frames, new Float64Array(capacity));
    this.times = typed(this.times, new Float64Array(capacity));
    this.latencies = typed(this.latencies, new Float64Array(capacity));
    this.values = typed(this.values, new Float64Array(capacity));
    this.statusCodes = typed(this.statusCodes, new Float64Array(capacity));
    this.sizes = typed(this.sizes, new Uint32Array(capacity));
    this.sports = typed(this.sports, new Uint16Array(capacity));
    this.dports = typed(this.dports, new Uint16Array(capacity));
    this.protos = typed(this.protos, new Uint8Array(capacity));
    this.flags = typed(this.flags, new Uint8Array(capacity));
    this.srcs = refs(this.srcs);
    this.dsts = refs(this.dsts);
    this.pvs = refs(this.pvs);
    this.cmds = refs(this.cmds);
    this.lines = refs(this.lines);
    this.formats = refs(this.formats);
    this.statusNames = refs(this.statusNames);
    this.head = 0;
    this.capacity = capacity;
  }
}
