/**
 * The packet ring's index of messages, in columns: per message its capture time, endpoints, PV, command name,
 * ECA status and frames, in typed arrays (strings interned: an address, PV or command name is stored once
 * however many messages carry it) rather than one object each. Held messages then cost the garbage collector
 * nothing to trace, however many there are.
 *
 * Messages are numbered in order (`seq`, from 0); the oldest go first.
 */
import type { FilterableRecord } from '@ca-shark/analysis/filter';
import { regrowColumn } from './ring-columns.js';

const INITIAL_CAPACITY = 4096;

/** A compiled shared filter. */
export type RecordTest = (record: FilterableRecord) => boolean;

/** Ring of message columns (see the module comment). */
export class MessageIndex {
  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY - 1;
  private times = new Float64Array(INITIAL_CAPACITY);
  private statuses = new Int32Array(INITIAL_CAPACITY);
  private firsts = new Float64Array(INITIAL_CAPACITY);
  private lasts = new Float64Array(INITIAL_CAPACITY);
  private srcs = new Int32Array(INITIAL_CAPACITY);
  private dsts = new Int32Array(INITIAL_CAPACITY);
  /** Interned PV, or -1 for none. */
  private pvs = new Int32Array(INITIAL_CAPACITY);
  private names = new Int32Array(INITIAL_CAPACITY);
  /** Interned strings: number → string and back. Grows with distinct addresses, PVs and names only. */
  private readonly strings: string[] = [];
  private readonly numbers = new Map<string, number>();
  /**
   * The strings of the previous message and their numbers (interned strings are never forgotten, so they
   * stay valid): four map lookups per message were most of the cost of indexing it.
   */
  private readonly last: {
    src: string | undefined;
    srcN: number;
    dst: string | undefined;
    dstN: number;
    pv: string | null | undefined;
    pvN: number;
    name: string | undefined;
    nameN: number;
  } = { src: undefined, srcN: -1, dst: undefined, dstN: -1, pv: undefined, pvN: -1, name: undefined, nameN: -1 };
  /** Every frame of the messages that took more than one, by seq. */
  private readonly multi = new Map<number, number[]>();
  /** Seq of the oldest message held, and of the next one. */
  private head = 0;
  private next = 0;
  /** The filter's view of a message, reused (testing allocates nothing). */
  private readonly command: { name: string; status?: number } = { name: '' };
  private readonly view = { src: '', dst: '', pv: null as string | null, command: this.command };

  /** Messages held. */
  get size(): number {
    return this.next - this.head;
  }

  /** Seq of the oldest message held. */
  get oldest(): number {
    return this.head;
  }

  /** Seq the next message will get (one past the newest). */
  get end(): number {
    return this.next;
  }

  /**
   * Adds a message; `status` is its ECA status or -1, `frames` the frame that carried it or all of them,
   * oldest first. Returns its seq.
   */
  push(
    time: number,
    src: string,
    dst: string,
    pv: string | null,
    name: string,
    status: number,
    frames: number | number[],
  ): number {
    if (this.size === this.capacity) this.grow();
    const seq = this.next++;
    const at = seq & this.mask;
    this.times[at] = time;
    // Messages come in runs of one flow, PV and command: the previous message's numbers are reused.
    const last = this.last;
    if (src !== last.src) {
      last.src = src;
      last.srcN = this.intern(src);
    }
    if (dst !== last.dst) {
      last.dst = dst;
      last.dstN = this.intern(dst);
    }
    if (pv !== last.pv) {
      last.pv = pv;
      last.pvN = pv === null ? -1 : this.intern(pv);
    }
    if (name !== last.name) {
      last.name = name;
      last.nameN = this.intern(name);
    }
    this.srcs[at] = last.srcN;
    this.dsts[at] = last.dstN;
    this.pvs[at] = last.pvN;
    this.names[at] = last.nameN;
    this.statuses[at] = status;
    if (typeof frames === 'number') {
      this.firsts[at] = frames;
      this.lasts[at] = frames;
    } else {
      this.firsts[at] = frames[0];
      this.lasts[at] = frames[frames.length - 1];
      this.multi.set(seq, frames);
    }
    return seq;
  }

  /** Drops the oldest message. */
  shift(): void {
    if (this.size === 0) return;
    this.multi.delete(this.head);
    this.head++;
  }

  /** Frame numbers of message `seq` (held), oldest first, to `out`. */
  framesOf(seq: number, out: (frame: number) => void): void {
    const many = this.multi.get(seq);
    if (many !== undefined) for (const f of many) out(f);
    else out(this.firsts[seq & this.mask]);
  }

  /** The first frame of message `seq` (held). */
  firstFrame(seq: number): number {
    return this.firsts[seq & this.mask];
  }

  /** The last frame of message `seq` (held). */
  lastFrame(seq: number): number {
    return this.lasts[seq & this.mask];
  }

  /** Capture time of message `seq` (held). */
  time(seq: number): number {
    return this.times[seq & this.mask];
  }

  /** Adds `frame` (a later one) to message `seq`. */
  addFrame(seq: number, frame: number): void {
    const at = seq & this.mask;
    const many = this.multi.get(seq) ?? [this.firsts[at]];
    many.push(frame);
    this.multi.set(seq, many);
    this.lasts[at] = frame;
  }

  /** Whether the shared filter `test` keeps message `seq` (held). */
  matches(seq: number, test: RecordTest): boolean {
    const at = seq & this.mask;
    const view = this.view;
    const strings = this.strings;
    view.src = strings[this.srcs[at]];
    view.dst = strings[this.dsts[at]];
    const pv = this.pvs[at];
    view.pv = pv < 0 ? null : strings[pv];
    this.command.name = strings[this.names[at]];
    const status = this.statuses[at];
    if (status >= 0) this.command.status = status;
    else delete this.command.status;
    return test(view);
  }

  private intern(text: string): number {
    let n = this.numbers.get(text);
    if (n === undefined) {
      n = this.strings.length;
      this.strings.push(text);
      this.numbers.set(text, n);
    }
    return n;
  }

  private grow(): void {
    const size = this.capacity * 2;
    const copy = <A extends Float64Array | Int32Array>(old: A, fresh: A): A =>
      regrowColumn(old, fresh, this.head, this.next);
    this.times = copy(this.times, new Float64Array(size));
    this.statuses = copy(this.statuses, new Int32Array(size));
    this.firsts = copy(this.firsts, new Float64Array(size));
    this.lasts = copy(this.lasts, new Float64Array(size));
    this.srcs = copy(this.srcs, new Int32Array(size));
    this.dsts = copy(this.dsts, new Int32Array(size));
    this.pvs = copy(this.pvs, new Int32Array(size));
    this.names = copy(this.names, new Int32Array(size));
    this.capacity = size;
    this.mask = size - 1;
  }
}
