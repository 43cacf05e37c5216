/**
 * The packet ring's index of messages, in columns: per message its capture time, endpoints, PV, command name,
 * ECA status and frames, in typed arrays (strings interned: an address, PV or command name is stored once
 * however many messages carry it) rather than one object each. Held messages then cost the garbage collector
 * nothing to trace, however many there are.
 *
 * Messages are numbered in order (`seq`, from 0); the oldest go first.
 */
import type { FilterableRecord } from '@ca-shark/analysis/filter';
import { SLAB_MASK, SLAB_SLOTS, Slabs } from './ring-columns.js';

/**
 * A first frame {@link MessageSlab.firsts} cannot hold as an offset from its slab's base (more than 2^31
 * frames away): the message's frames are in {@link MessageIndex}'s `multi` instead.
 */
const FAR = -0x80000000;

/**
 * The columns of {@link SLAB_SLOTS} messages (see ring-columns.ts). A message's first frame is an offset
 * from the first frame of the slab's first message (4 bytes, not a Float64's 8: frame numbers pass 2^32 only
 * after 4 billion frames, offsets within a slab's 8,192 messages stay small), and its last frame is not kept:
 * a message of more than one frame has them all in `multi`. 32 bytes a message instead of 44: the ring's
 * index at its 256 MiB bound holds about half a million.
 */
class MessageSlab {
  readonly times = new Float64Array(SLAB_SLOTS);
  readonly statuses = new Int32Array(SLAB_SLOTS);
  /** First frame minus {@link base}, or {@link FAR}. */
  readonly firsts = new Int32Array(SLAB_SLOTS);
  /** First frame of the slab's first message (a slab let go and made again is given its new one). */
  base = 0;
  readonly srcs = new Int32Array(SLAB_SLOTS);
  readonly dsts = new Int32Array(SLAB_SLOTS);
  /** Interned PV, or -1 for none. */
  readonly pvs = new Int32Array(SLAB_SLOTS);
  readonly names = new Int32Array(SLAB_SLOTS);
}

/** A compiled shared filter. */
export type RecordTest = (record: FilterableRecord) => boolean;

/** Ring of message columns (see the module comment), in slabs made and let go as it moves. */
export class MessageIndex {
  private readonly slabs = new Slabs(() => new MessageSlab());
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
    const seq = this.next++;
    const c = this.slabs.reserve(this.head, seq);
    const at = seq & SLAB_MASK;
    c.times[at] = time;
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
    c.srcs[at] = last.srcN;
    c.dsts[at] = last.dstN;
    c.pvs[at] = last.pvN;
    c.names[at] = last.nameN;
    c.statuses[at] = status;
    const first = typeof frames === 'number' ? frames : frames[0];
    if (at === 0) c.base = first;
    const offset = first - c.base;
    if (offset > FAR && offset <= 0x7fffffff) c.firsts[at] = offset;
    else {
      c.firsts[at] = FAR;
      if (typeof frames === 'number') this.multi.set(seq, [frames]);
    }
    if (typeof frames !== 'number') this.multi.set(seq, frames);
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
    else out(this.firstFrame(seq));
  }

  /** The first frame of message `seq` (held). */
  firstFrame(seq: number): number {
    const c = this.slabs.of(seq);
    const offset = c.firsts[seq & SLAB_MASK];
    return offset !== FAR ? c.base + offset : (this.multi.get(seq) as number[])[0];
  }

  /** The last frame of message `seq` (held). */
  lastFrame(seq: number): number {
    const many = this.multi.get(seq);
    return many !== undefined ? many[many.length - 1] : this.firstFrame(seq);
  }

  /** Capture time of message `seq` (held). */
  time(seq: number): number {
    return this.slabs.of(seq).times[seq & SLAB_MASK];
  }

  /** Adds `frame` (a later one) to message `seq`. */
  addFrame(seq: number, frame: number): void {
    const many = this.multi.get(seq);
    if (many !== undefined) many.push(frame);
    else this.multi.set(seq, [this.firstFrame(seq), frame]);
  }

  /** Whether the shared filter `test` keeps message `seq` (held). */
  matches(seq: number, test: RecordTest): boolean {
    const c = this.slabs.of(seq);
    const at = seq & SLAB_MASK;
    const view = this.view;
    const strings = this.strings;
    view.src = strings[c.srcs[at]];
    view.dst = strings[c.dsts[at]];
    const pv = c.pvs[at];
    view.pv = pv < 0 ? null : strings[pv];
    this.command.name = strings[c.names[at]];
    const status = c.statuses[at];
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
}
