/**
 * The raw packet ring: the latest frames that carried CA messages, bounded by bytes, with an index of the
 * messages they carried, so that `GET /api/pcap?<filter>&since=&until=` can write exactly the packets of the
 * matching messages (pcap-export.ts). It lives in the decoding worker and watches the decoder through the
 * engine's {@link PacketTap}: a frame is held from the moment it is decoded until a message claims its bytes
 * (then it enters the ring) or it turns out to carry none (then it is let go).
 *
 * What a frame costs: its captured bytes plus {@link FRAME_OVERHEAD_BYTES}; what a message costs:
 * {@link MESSAGE_OVERHEAD_BYTES}. Both count against the byte bound; the oldest frames go first, and with
 * them the messages whose first frame is gone (their packets could no longer be written whole).
 *
 * Frames are copied, while they are decoded, into the ring's own store: fixed-size blocks written in turn
 * and reused once the ring has gone round (the oldest block's frames are evicted first), with each frame's
 * fields in typed columns, so the ring keeps no object per frame for the garbage collector to trace, and
 * nothing in it points into the frame batch a frame arrived in: every batch buffer goes back to the capture
 * thread as soon as it is decoded. Before, the ring kept each frame as a view into its batch, so a batch
 * stayed pinned while any of its frames was held, and until a 256 MiB ring filled every batch was packed
 * into fresh memory (page faults cost about 3.5 ms of CPU per MiB here) and about a third of the daemon's CPU
 * per message went to the ring (issue 12). A frame is copied when the TCP layer queues its bytes or a
 * datagram's message claims it; the bytes of TCP flows that turn out not to be CA pass through the store too
 * (up to 64 KiB a direction, see MessageFrames), taking its room until they are overwritten.
 *
 * A replayed file's ring ({@link PacketRingOptions.file}) keeps no bytes: each frame's place in the file
 * (the offset of its captured bytes, which the capture thread found as it read the file) and a check word,
 * and the export reads the frames back from the file (frame-file.ts). Its store is then only counted: the
 * frames' positions in the stream of bytes the store would hold advance as they would, and the same frames
 * are let go when the block that would have held them would be reused, so the ring holds the same frames
 * and messages as a copying ring of the same bound, with no block asked for, allocated or written (on the
 * bench's 100 MB capture the blocks were 115 MB of peak RSS and their page faults a fifth of the capture
 * thread's CPU). A frame that comes without a place is copied into the store as a copying ring would.
 *
 * `ca-sharkd --stdin` writes what it reads to a spool file (sources/spool.ts) and its ring keeps places in
 * that stream the same way (frame-file.ts's SpoolFile reads them back). The spool is reused from its start
 * once full, so its oldest bytes are overwritten: the frames placed there leave the ring (see
 * {@link FrameReader.floor}) besides those the counted store lets go of. When the spool stops (a full disk),
 * the frames after come without places and are copied, the blocks then allocated here.
 */
import type { CaRecord } from '@ca-shark/decoder';
import type { CommandFields } from '@ca-shark/protocol';
import { MessageFrames, type PacketEvent } from '@ca-shark/packet';
import type { PacketTap } from './engine.js';
import { MessageIndex } from './message-index.js';
import { SLAB_MASK, SLAB_SLOTS, Slabs } from './ring-columns.js';
import { type FrameReader, type PlacedFrame, frameCheck } from './frame-file.js';

/** Default bound of the ring: 256 MiB. */
export const DEFAULT_PACKET_RING_BYTES = 256 * 1024 * 1024;
/** Per frame besides its bytes: the entry object, its map slot and the typed-array view. */
export const FRAME_OVERHEAD_BYTES = 200;
/** Per message: its columns in the index (message-index.ts), with their growth slack. */
export const MESSAGE_OVERHEAD_BYTES = 80;
/**
 * Bytes of frames held while no message has claimed them yet (the start of a large message, or a flow not
 * yet recognised as CA); beyond it the oldest are let go.
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/**
 * Size of a block of the store (a frame never straddles two; smaller for a smaller ring). 1 MiB: a 64 KiB
 * loopback segment wastes little at a block's end, and pre-faulting one (see {@link PacketRingOptions})
 * holds the capture thread for a few ms only.
 */
const MAX_BLOCK_BYTES = 1024 * 1024;
const MIN_BLOCK_BYTES = 64 * 1024;
/** A frame's place when it has none (see {@link PacketRing.placeNext}). */
const NO_PLACE = -1;

/** What a frame's slot holds. */
const enum SlotState {
  /** Let go (released unclaimed, or evicted): its bytes may be overwritten. */
  Dead = 0,
  /** Queued by the TCP layer, not claimed by a message yet. */
  Pending = 1,
  /** Claimed by a message: in the ring. */
  Held = 2,
}

/** A frame held by the ring. */
export interface RingFrame {
  /** Frame number, as the decoder counts them (1-based). */
  readonly frame: number;
  readonly linktype: number;
  /** Interface of the source the frame came from (0: the only one). */
  readonly interfaceId: number;
  /** Capture time, Unix seconds. */
  readonly timestamp: number;
  readonly origlen: number;
  readonly data: Uint8Array;
}

/** Responses whose `status` is an ECA code, the ones the shared `errors` filter looks into. */
const STATUS_RESPONSES = new Set(['ReadNotifyResponse', 'WriteNotifyResponse', 'EventAddResponse']);

/** Counters of the ring (for tests, logs and metrics). */
export interface PacketRingStats {
  frames: number;
  messages: number;
  /** Bytes counted against the bound. */
  bytes: number;
  maxBytes: number;
  /** Frames evicted by the bound since start. */
  evictedFrames: number;
  /** Messages let go since start (their first frame evicted, or the bound reached): their seqs start at 0. */
  droppedMessages: number;
}

/** The per-frame columns of {@link SLAB_SLOTS} slots (see {@link FrameColumns}). */
class FrameSlab {
  readonly frame = new Float64Array(SLAB_SLOTS);
  readonly timestamp = new Float64Array(SLAB_SLOTS);
  /** Position in the store's byte stream (see {@link PacketRing}'s blocks). */
  readonly pos = new Float64Array(SLAB_SLOTS);
  /**
   * A replayed file's ring: the offset of the frame's captured bytes in the file, or NO_PLACE. Empty in a
   * copying ring (live capture, stdin): 8 bytes a slot it would never read.
   */
  readonly place: Float64Array;
  /** A replayed file's ring: the frame's check word (frame-file.ts); empty in a copying ring. */
  readonly check: Uint32Array;
  readonly caplen = new Uint32Array(SLAB_SLOTS);
  readonly origlen = new Uint32Array(SLAB_SLOTS);
  readonly linktype = new Uint16Array(SLAB_SLOTS);
  readonly interfaceId = new Uint16Array(SLAB_SLOTS);
  readonly state = new Uint8Array(SLAB_SLOTS);

  constructor(placed: boolean) {
    this.place = new Float64Array(placed ? SLAB_SLOTS : 0);
    this.check = new Uint32Array(placed ? SLAB_SLOTS : 0);
  }
}

/**
 * Per-frame columns of the ring, by slot: a sequence number from `head` (oldest) to `tail`, in frame order
 * (frames are stored as they are decoded), at index `slot & SLAB_MASK` of the slab {@link at} gives (slabs
 * made and let go as the ring grows and moves: ring-columns.ts).
 */
class FrameColumns {
  head = 0;
  tail = 0;
  private readonly slabs: Slabs<FrameSlab>;

  constructor(placed: boolean) {
    this.slabs = new Slabs(() => new FrameSlab(placed));
  }

  /** A new slot at the tail. */
  push(): number {
    this.slabs.reserve(this.head, this.tail);
    return this.tail++;
  }

  /** The columns of slot `slot` (held), at `slot & SLAB_MASK`. */
  at(slot: number): FrameSlab {
    return this.slabs.of(slot);
  }

  /** The slot of frame `n`, or -1 when none holds it. */
  find(n: number): number {
    let lo = this.head;
    let hi = this.tail - 1;
    // Most lookups are for the frame being decoded, the newest.
    if (hi >= lo && this.at(hi).frame[hi & SLAB_MASK] === n) return hi;
    while (lo <= hi) {
      const mid = lo + ((hi - lo) >> 1);
      const f = this.at(mid).frame[mid & SLAB_MASK];
      if (f === n) return mid;
      if (f < n) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** Options of a {@link PacketRing}. */
export interface PacketRingOptions {
  /**
   * Gives the store a block of `bytes` it is about to use for the first time, or undefined (it then
   * allocates one). The decoding worker hands blocks the capture thread allocated and wrote once: the
   * page faults of fresh memory (about 3.5 ms of CPU per MiB on the benchmark machine) are then paid off
   * the decoder's thread, which is the one that falls behind.
   */
  takeBlock?: (bytes: number) => Uint8Array | undefined;
  /**
   * The replayed file (or stdin's spool) the frames come from: the ring keeps each frame's place in it
   * (given by {@link PacketRing.placeNext}) instead of a copy, and takes no block (see the module comment).
   */
  file?: FrameReader;
}

/** Where a held frame is: its place in the replayed file, or (without one) its bytes. */
export interface FramePlace extends PlacedFrame {
  readonly linktype: number;
  readonly interfaceId: number;
  readonly timestamp: number;
  readonly origlen: number;
  /**
   * The frame's bytes when the ring holds them: a copying ring's view into its store, valid until the ring
   * takes more frames; a file's ring's copy of a frame without a place, an array of its own.
   */
  readonly data: Uint8Array | undefined;
}

/** The ring; its {@link PacketRing.tap} goes to the engine, {@link PacketRing.record} gets every record. */
export class PacketRing implements PacketTap {
  private readonly maxBytes: number;
  private readonly slots: FrameColumns;
  /** The store: blocks written in turn, allocated as first needed, then reused. */
  private readonly blocks: (Uint8Array | undefined)[];
  /** Bytes of each block of the store. */
  readonly blockBytes: number;
  private allocatedBlocks = 0;
  private readonly takeBlock: ((bytes: number) => Uint8Array | undefined) | undefined;
  /** The replayed file (or spool) whose places the ring keeps, or undefined for a copying ring. */
  readonly file: FrameReader | undefined;
  /** A file's ring: the place from which it next looks at the file's floor (see FrameReader.floorStep). */
  private nextFloorLook = 0;
  /** The place of the frame the engine hands over next (see {@link placeNext}). */
  private nextPlace = NO_PLACE;
  private nextPlaced: Uint8Array | undefined;
  private currentPlace = NO_PLACE;
  /** Where the next frame's bytes go, in the store's byte stream (block = pos / blockBytes mod blocks). */
  private writePos = 0;
  /** Frames larger than a block (and without a place, in a file's ring), each a copy of its own, by slot. */
  private readonly oversize = new Map<number, Uint8Array>();
  /** The messages held, with the frames that carried them. */
  readonly index = new MessageIndex();
  private total = 0;
  private heldFrames = 0;
  private evicted = 0;
  /** The greatest frame number evicted: messages with a frame at or below it are incomplete. */
  private evictedUpTo = 0;
  private pendingBytes = 0;
  /** No slot before this one is pending (where letting go of the oldest pending frames starts). */
  private pendingFrom = 0;
  private readonly tracker: MessageFrames;
  /** The frame being decoded (its bytes are valid until {@link frameDone}), and its slot once stored. */
  private current = 0;
  private currentLinktype = 0;
  private currentTimestamp = 0;
  private currentOriglen = 0;
  private currentInterface = 0;
  private currentData: Uint8Array | undefined;
  private currentSlot = -1;
  /** Frames of the message being indexed (see {@link PacketRing.collect}). */
  private collected: number | number[] = 0;
  private collectedCount = 0;
  /** Receives the frames of the message being indexed (one bound function, not a closure per message). */
  private readonly collect = (n: number): void => {
    if (this.collectedCount === 0) this.collected = n;
    else if (this.collectedCount === 1) this.collected = [this.collected as number, n];
    else (this.collected as number[]).push(n);
    this.collectedCount++;
    this.enter(n);
  };

  constructor(maxBytes = DEFAULT_PACKET_RING_BYTES, options: PacketRingOptions = {}) {
    this.maxBytes = maxBytes;
    this.takeBlock = options.takeBlock;
    this.file = options.file;
    this.slots = new FrameColumns(this.file !== undefined);
    this.blockBytes = Math.max(MIN_BLOCK_BYTES, Math.min(MAX_BLOCK_BYTES, 2 ** Math.ceil(Math.log2(maxBytes / 8))));
    // One block more than the bound needs: the one being written while the oldest still holds frames.
    this.blocks = new Array<Uint8Array | undefined>(Math.ceil(maxBytes / this.blockBytes) + 1);
    this.tracker = new MessageFrames({
      onRelease: (frame) => this.release(frame),
      onLate: (frame, messageFrame) => this.late(frame, messageFrame),
    });
  }

  get stats(): PacketRingStats {
    return {
      frames: this.heldFrames,
      messages: this.index.size,
      bytes: this.total,
      maxBytes: this.maxBytes,
      evictedFrames: this.evicted,
      droppedMessages: this.index.oldest,
    };
  }

  /**
   * Capture time of the oldest packet the export can write: the first frame of the oldest message held
   * (null when none is held). A lookup by frame number, for the stats the dashboard shows.
   */
  get oldestTime(): number | null {
    const index = this.index;
    if (index.size === 0) return null;
    const slots = this.slots;
    const slot = slots.find(index.firstFrame(index.oldest));
    return slot < 0 ? index.time(index.oldest) : slots.at(slot).timestamp[slot & SLAB_MASK];
  }

  /** Capture time of the newest message held (null when none is held). */
  get newestTime(): number | null {
    const index = this.index;
    return index.size === 0 ? null : index.time(index.end - 1);
  }

  /** Blocks the store has yet to take before it goes round (each first used block is new memory). */
  get blocksToCome(): number {
    return this.file !== undefined ? 0 : this.blocks.length - this.allocatedBlocks;
  }

  /**
   * The place in the replayed file of the frame whose bytes are `data`, which the engine hands to
   * {@link frame} next (the decoding worker calls it before each frame of a batch). The place is taken only
   * by the frame with those very bytes (the same view), so a frame the engine kept from the ring never
   * gives its place to the next; a frame without one (NO_PLACE, or none given) is copied.
   */
  placeNext(place: number, data: Uint8Array): void {
    this.nextPlace = place;
    this.nextPlaced = data;
  }

  /** Bytes of the blocks the store allocated so far (at most the bound and one block). */
  get storeBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b?.length ?? 0;
    for (const b of this.oversize.values()) n += b.length;
    return n;
  }

  // ---- PacketTap ----

  frame(frame: number, linktype: number, timestamp: number, data: Uint8Array, origlen: number, interfaceId = 0): void {
    this.current = frame;
    this.currentLinktype = linktype;
    this.currentTimestamp = timestamp;
    this.currentOriglen = origlen;
    this.currentInterface = interfaceId;
    this.currentData = data;
    this.currentSlot = -1;
    this.currentPlace = data === this.nextPlaced ? this.nextPlace : NO_PLACE;
    this.nextPlace = NO_PLACE;
    this.nextPlaced = undefined;
  }

  event(event: PacketEvent): void {
    if (
      event.type === 'tcp-data' &&
      this.currentData !== undefined &&
      event.packet.frame === this.current &&
      this.currentSlot < 0
    ) {
      this.currentSlot = this.store(SlotState.Pending);
      this.pendingBytes += this.currentData.length;
      if (this.pendingBytes > MAX_PENDING_BYTES) this.releaseOldestPending();
    }
    this.tracker.event(event);
  }

  afterEvent(): void {
    this.tracker.settle();
  }

  frameDone(): void {
    // Nothing may point into the frame batch once the frame is decoded: it goes back to the capture thread.
    this.currentData = undefined;
    this.currentSlot = -1;
  }

  // ---- records ----

  /** A record the decoder emitted (in order, right after the event that completed it). */
  record(record: CaRecord): void {
    this.collectedCount = 0;
    this.collected = record.frame;
    this.tracker.framesOf(record, this.collect);
    const command = record.command;
    const status = STATUS_RESPONSES.has(command.name) ? (command as CommandFields).status : undefined;
    this.index.push(
      record.timestamp,
      record.src,
      record.dst,
      record.pv,
      command.name,
      typeof status === 'number' ? status : -1,
      this.collected,
    );
    this.total += MESSAGE_OVERHEAD_BYTES;
    this.evict();
  }

  /**
   * The frame held under `frame`, or undefined when it left the ring (or never entered it). Its `data` is a
   * view into the ring's store: read it before the ring takes more frames. A file's ring reads it from the
   * file, synchronously (the export reads many at once instead, see {@link locate}), and throws a
   * ChangedFileError when the file changed; undefined too when a spool overwrote it.
   */
  get(frame: number): RingFrame | undefined {
    const at = this.locate(frame);
    if (at === undefined) return undefined;
    const data = at.data ?? (this.file as FrameReader).readSync(at);
    if (data === undefined) return undefined;
    return {
      frame,
      linktype: at.linktype,
      interfaceId: at.interfaceId,
      timestamp: at.timestamp,
      origlen: at.origlen,
      data,
    };
  }

  /**
   * Where the frame held under `frame` is, or undefined when it left the ring (or never entered it): its
   * bytes (`data`) when the ring holds them, else its place in the file. A place stays right after the
   * frame leaves the ring; bytes are valid as said of {@link FramePlace.data}.
   */
  locate(frame: number): FramePlace | undefined {
    const slots = this.slots;
    const slot = slots.find(frame);
    if (slot < 0) return undefined;
    const c = slots.at(slot);
    const i = slot & SLAB_MASK;
    if (c.state[i] !== SlotState.Held) return undefined;
    const copied = this.file === undefined || c.place[i] === NO_PLACE;
    return {
      frame,
      linktype: c.linktype[i],
      interfaceId: c.interfaceId[i],
      timestamp: c.timestamp[i],
      origlen: c.origlen[i],
      place: this.file !== undefined ? c.place[i] : NO_PLACE,
      caplen: c.caplen[i],
      check: this.file !== undefined ? c.check[i] : 0,
      data: copied ? this.bytesOf(slot) : undefined,
    };
  }

  private bytesOf(slot: number): Uint8Array {
    const big = this.oversize.get(slot);
    if (big !== undefined) return big;
    const c = this.slots.at(slot);
    const i = slot & SLAB_MASK;
    const pos = c.pos[i];
    const block = this.blocks[Math.floor(pos / this.blockBytes) % this.blocks.length] as Uint8Array;
    const at = pos % this.blockBytes;
    return block.subarray(at, at + c.caplen[i]);
  }

  /** Copies the current frame into the store (a file's ring: notes its place); returns its slot. */
  private store(state: SlotState): number {
    const data = this.currentData as Uint8Array;
    const length = data.length;
    const slots = this.slots;
    let pos = this.writePos;
    const size = this.blockBytes;
    const placed = this.file !== undefined && this.currentPlace >= 0;
    if (placed && this.currentPlace >= this.nextFloorLook) {
      const file = this.file as FrameReader;
      this.nextFloorLook = this.currentPlace + file.floorStep;
      this.evictBelowPlace(file.floor());
    }
    if (length <= size) {
      // A frame never straddles two blocks: one that would starts the next block.
      if ((pos % size) + length > size) pos += size - (pos % size);
      const blockNo = Math.floor(pos / size);
      // Reusing a block: its frames go first (they are the oldest: the store is written in turn). A file's
      // ring counts its store the same way, so it lets go of the same frames.
      const overwritten = (blockNo - this.blocks.length + 1) * size;
      if (overwritten > 0) this.evictBefore(overwritten);
      this.writePos = pos + length;
      if (!placed) {
        const at = blockNo % this.blocks.length;
        let block = this.blocks[at];
        if (block === undefined) {
          const given = this.takeBlock?.(size);
          block = given !== undefined && given.length === size ? given : new Uint8Array(size);
          this.blocks[at] = block;
          this.allocatedBlocks++;
        }
        block.set(data, pos % size);
      }
    }
    const slot = slots.push();
    const c = slots.at(slot);
    const i = slot & SLAB_MASK;
    c.frame[i] = this.current;
    c.timestamp[i] = this.currentTimestamp;
    c.pos[i] = pos;
    c.caplen[i] = length;
    c.origlen[i] = this.currentOriglen;
    c.linktype[i] = this.currentLinktype;
    c.interfaceId[i] = this.currentInterface;
    c.state[i] = state;
    if (this.file !== undefined) {
      c.place[i] = placed ? this.currentPlace : NO_PLACE;
      c.check[i] = placed ? frameCheck(data) : 0;
    }
    if (!placed && length > size) this.oversize.set(slot, data.slice());
    return slot;
  }

  private release(frame: number): void {
    const slot = this.currentSlot >= 0 && frame === this.current ? this.currentSlot : this.slots.find(frame);
    if (slot < 0) return;
    if (this.slots.at(slot).state[slot & SLAB_MASK] !== SlotState.Pending) return;
    this.letGo(slot);
  }

  /** A pending slot no message will claim: its room in the store is free for later frames. */
  private letGo(slot: number): void {
    const c = this.slots.at(slot);
    const i = slot & SLAB_MASK;
    c.state[i] = SlotState.Dead;
    this.pendingBytes -= c.caplen[i];
    this.oversize.delete(slot);
  }

  /** Pending frames over {@link MAX_PENDING_BYTES}: the oldest are let go. */
  private releaseOldestPending(): void {
    const slots = this.slots;
    let s = Math.max(this.pendingFrom, slots.head);
    for (; s < slots.tail && this.pendingBytes > MAX_PENDING_BYTES; s++) {
      if (slots.at(s).state[s & SLAB_MASK] === SlotState.Pending && s !== this.currentSlot) this.letGo(s);
    }
    this.pendingFrom = s;
  }

  /** Frame `n` carried a message: into the ring (once). */
  private enter(n: number): void {
    let slot: number;
    if (n === this.current && this.currentData !== undefined) {
      // A datagram (or a segment the tracker did not queue) is stored now, as it is claimed.
      slot = this.currentSlot >= 0 ? this.currentSlot : (this.currentSlot = this.store(SlotState.Dead));
    } else {
      slot = this.slots.find(n);
      if (slot < 0) return;
    }
    const c = this.slots.at(slot);
    const i = slot & SLAB_MASK;
    const state = c.state[i];
    if (state === SlotState.Held) return;
    if (state === SlotState.Pending) this.pendingBytes -= c.caplen[i];
    else if (n !== this.current) return;
    c.state[i] = SlotState.Held;
    this.heldFrames++;
    this.total += c.caplen[i] + FRAME_OVERHEAD_BYTES;
  }

  /** A frame that carries the tail of the message completed in `messageFrame`, which is already indexed. */
  private late(frame: number, messageFrame: number): void {
    // Into the ring like any claimed frame (from the pending ones when its bytes were queued).
    if (this.currentData !== undefined && this.current === frame) this.enter(frame);
    // The debtor is one of the latest messages: look back from the newest.
    const index = this.index;
    for (let seq = index.end - 1; seq >= index.oldest; seq--) {
      const last = index.lastFrame(seq);
      if (last < messageFrame) break;
      if (last === messageFrame) {
        index.addFrame(seq, frame);
        break;
      }
    }
    this.evict();
  }

  /** Evicts the oldest slot (whatever it holds). */
  private evictOldest(): void {
    const slots = this.slots;
    const slot = slots.head;
    const c = slots.at(slot);
    const i = slot & SLAB_MASK;
    const state = c.state[i];
    if (state === SlotState.Held) {
      this.total -= c.caplen[i] + FRAME_OVERHEAD_BYTES;
      this.heldFrames--;
      this.evicted++;
      const frame = c.frame[i];
      if (frame > this.evictedUpTo) this.evictedUpTo = frame;
    } else if (state === SlotState.Pending) {
      this.pendingBytes -= c.caplen[i];
    }
    c.state[i] = SlotState.Dead;
    this.oversize.delete(slot);
    if (slot === this.currentSlot) this.currentSlot = -1;
    slots.head++;
  }

  /**
   * A file's ring: evicts the oldest slots while their places are below `floor` (bytes a spool overwrote).
   * Places grow with frame numbers; a slot without one stops it (its bytes are the ring's own).
   */
  private evictBelowPlace(floor: number): void {
    const slots = this.slots;
    let any = false;
    while (slots.head < slots.tail) {
      const place = slots.at(slots.head).place[slots.head & SLAB_MASK];
      if (place === NO_PLACE || place >= floor) break;
      this.evictOldest();
      any = true;
    }
    if (any) this.dropIncompleteMessages();
  }

  /** Evicts every slot whose bytes lie before `pos` in the store's stream (a block about to be reused). */
  private evictBefore(pos: number): void {
    const slots = this.slots;
    let any = false;
    while (slots.head < slots.tail && slots.at(slots.head).pos[slots.head & SLAB_MASK] < pos) {
      this.evictOldest();
      any = true;
    }
    if (any) this.dropIncompleteMessages();
  }

  private evict(): void {
    const slots = this.slots;
    let any = false;
    while (this.total > this.maxBytes && slots.head < slots.tail) {
      this.evictOldest();
      any = true;
    }
    if (any) this.dropIncompleteMessages();
    if (this.total > this.maxBytes) this.dropIncompleteMessages(true);
  }

  /** Drops the oldest messages whose first frame was evicted (or, with `all`, any while over the bound). */
  private dropIncompleteMessages(all = false): void {
    const index = this.index;
    while (index.size > 0) {
      if (index.firstFrame(index.oldest) > this.evictedUpTo && !(all && this.total > this.maxBytes)) break;
      index.shift();
      this.total -= MESSAGE_OVERHEAD_BYTES;
    }
  }
}
