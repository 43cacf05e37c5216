/**
 * The worker's half of `GET /api/pcap`: the packets of the messages in the {@link PacketRing} that match a
 * filter and a time range, as pcapng, in chunks. The work is sliced (a few thousand messages, then one
 * chunk of blocks at a time) so that an export of the whole ring never holds the decoder up for long: frame
 * batches are decoded between slices, and the next chunk is only made once the HTTP side asked for it.
 */
import { type FilterSpec, compileFilter } from '@ca-shark/analysis/filter';
import { PcapngChunks, type PcapngInterface, SpanningMessages } from '@ca-shark/packet';
import { ChangedFileError } from './frame-file.js';
import type { FramePlace, PacketRing } from './packet-ring.js';

/** What an export asks for. */
export interface PcapRequest {
  /** The WebSocket filter (pv, host, command, errors); absent: every message. */
  filter?: FilterSpec;
  /** Capture time range, Unix seconds (messages completed at `since` ≤ t ≤ `until`). */
  since?: number;
  until?: number;
}

/** Messages tested per slice before the worker yields to its message queue. */
const SLICE_MESSAGES = 20_000;
/** Bytes of pcapng blocks per chunk handed to the HTTP side. */
export const CHUNK_BYTES = 1024 * 1024;
/** A replayed file's ring: frames read back from the file at a time, in captured bytes. */
const READ_RUN_BYTES = 1024 * 1024;

/** Lets queued messages (frame batches) run before the next slice. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How the export names the interfaces of the frames it writes. */
export type InterfaceOf = (linktype: number, interfaceId: number) => PcapngInterface;

/**
 * The pcapng file of the matching messages' packets, chunk by chunk (each at most about
 * {@link CHUNK_BYTES}, the first holding the section header). Frames come out in capture order, each once,
 * however many matching messages it carried; frames that left the ring meanwhile are left out. A message
 * left out that spans several frames is taken whole when one of its frames is written anyway (as
 * `ca-shark --write` does, see SpanningMessages), so every hole falls on a message boundary and a reader
 * stays in step.
 */
export async function* pcapngChunks(
  ring: PacketRing,
  request: PcapRequest,
  interfaceOf: InterfaceOf,
  application = 'ca-sharkd',
): AsyncGenerator<Uint8Array> {
  const matches = compileFilter(request.filter ?? {});
  const since = request.since ?? -Infinity;
  const until = request.until ?? Infinity;
  let selected = new Float64Array(1024);
  let count = 0;
  const add = (frame: number): void => {
    if (count === selected.length) {
      const bigger = new Float64Array(selected.length * 2);
      bigger.set(selected);
      selected = bigger;
    }
    selected[count++] = frame;
  };
  const index = ring.index;
  const spanning = new SpanningMessages();
  const left: number[] = [];
  const note = (frame: number): void => void left.push(frame);
  // The messages held when the export started; those evicted meanwhile are skipped.
  const end = index.end;
  let tested = 0;
  for (let seq = index.oldest; seq < end; seq++) {
    if (++tested % SLICE_MESSAGES === 0) {
      await yieldToLoop();
      if (seq < index.oldest) seq = index.oldest;
      if (seq >= end) break;
    }
    const t = index.time(seq);
    if (t >= since && t <= until && index.matches(seq, matches)) index.framesOf(seq, add);
    else if (index.firstFrame(seq) !== index.lastFrame(seq)) {
      left.length = 0;
      index.framesOf(seq, note);
      spanning.add(left);
    }
  }
  let frames = selected.subarray(0, count).sort();
  if (spanning.size > 0) {
    const taken = new Set<number>();
    spanning.complete(
      (frame) => taken.has(frame) || sortedHas(frames, frame),
      (frame) => void taken.add(frame),
    );
    if (taken.size > 0) {
      const all = new Float64Array(count + taken.size);
      all.set(frames);
      all.set(Array.from(taken), count);
      frames = all.sort();
    }
  }
  const file = new PcapngChunks(application, exportComment(request));
  const ids = new Map<string, number>();
  const write = (frame: FramePlace, data: Uint8Array): void => {
    const key = `${frame.linktype}/${frame.interfaceId}`;
    let id = ids.get(key);
    if (id === undefined) {
      // One interface per capture interface (and link type), alike or not.
      id = file.writer.addInterface(interfaceOf(frame.linktype, frame.interfaceId));
      ids.set(key, id);
    }
    file.packet(id, frame.timestamp, data, frame.origlen);
  };
  const source = ring.file;
  if (source !== undefined) {
    // A replayed file's ring (or stdin's spool's): the frames are read back a run at a time. A file's places
    // hold once taken, whatever the ring lets go of meanwhile; a spool's hold until it overwrites them.
    await source.verify();
    const run: FramePlace[] = [];
    let runBytes = 0;
    const flush = async function* (): AsyncGenerator<Uint8Array> {
      const placed = run.filter((f) => f.data === undefined);
      const bytes = placed.length > 0 ? await source.read(placed) : [];
      let next = 0;
      for (const f of run) {
        // A frame a spool overwrote meanwhile has no bytes any more: left out, as one the ring let go of.
        const data = f.data ?? bytes[next++];
        if (data !== undefined) write(f, data);
      }
      run.length = 0;
      runBytes = 0;
      if (file.bytes >= CHUNK_BYTES) yield file.take();
    };
    let previous = -1;
    for (const n of frames) {
      if (n === previous) continue;
      previous = n;
      const at = ring.locate(n);
      if (at === undefined) continue;
      // A frame without a place comes as the ring's copy of its own, which outlives its eviction.
      run.push(at);
      runBytes += at.caplen;
      if (runBytes >= READ_RUN_BYTES) yield* flush();
    }
    yield* flush();
  } else {
    let previous = -1;
    for (const n of frames) {
      if (n === previous) continue;
      previous = n;
      const frame = ring.locate(n);
      if (frame === undefined) continue;
      write(frame, frame.data as Uint8Array);
      if (file.bytes >= CHUNK_BYTES) yield file.take();
    }
  }
  if (file.bytes > 0) yield file.take();
}

/** Whether the ascending `sorted` holds `value` (binary search). */
function sortedHas(sorted: Float64Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === value;
}

/** The section comment: what the file holds. */
function exportComment(request: PcapRequest): string {
  const f = request.filter ?? {};
  const words: string[] = [];
  if (f.pv !== undefined && f.pv.length > 0) words.push(`pv=${f.pv.join(',')}`);
  if (f.host !== undefined && f.host.length > 0) words.push(`host=${f.host.join(',')}`);
  if (f.command !== undefined && f.command.length > 0) words.push(`command=${f.command.join(',')}`);
  if (f.errors === true) words.push('errors');
  if (request.since !== undefined) words.push(`since=${request.since}`);
  if (request.until !== undefined) words.push(`until=${request.until}`);
  return `ca-shark export: packets of the CA messages matching ${words.length > 0 ? words.join(' ') : 'everything'}`;
}

/** Exports in progress in the worker, by request id: each makes its next chunk when asked. */
export class PcapExports {
  private readonly running = new Map<number, AsyncGenerator<Uint8Array>>();

  constructor(
    private readonly ring: () => PacketRing | undefined,
    private readonly interfaceOf: InterfaceOf,
    /**
     * Sends a chunk (`done` with none at the end, `error` when the export failed, `changed` when it failed
     * because the replayed file changed since: a conflict the user can act on, not a fault of the daemon).
     */
    private readonly send: (
      id: number,
      chunk: Uint8Array | undefined,
      done: boolean,
      error?: string,
      changed?: boolean,
    ) => void,
  ) {}

  /** Starts export `id` and sends its first chunk. */
  start(id: number, request: PcapRequest): void {
    const ring = this.ring();
    if (ring === undefined) {
      this.send(id, undefined, true, 'this daemon keeps no packets (started with --packet-ring 0)');
      return;
    }
    this.running.set(id, pcapngChunks(ring, request, this.interfaceOf));
    this.next(id);
  }

  /** The HTTP side wants the next chunk of export `id`. */
  next(id: number): void {
    const gen = this.running.get(id);
    if (gen === undefined) return;
    gen.next().then(
      (step) => {
        if (!this.running.has(id)) return;
        if (step.done === true) {
          this.running.delete(id);
          this.send(id, undefined, true);
        } else {
          this.send(id, step.value, false);
        }
      },
      (err: unknown) => {
        this.running.delete(id);
        this.send(id, undefined, true, (err as Error).message, err instanceof ChangedFileError);
      },
    );
  }

  /** The client went away: stop export `id`. */
  cancel(id: number): void {
    const gen = this.running.get(id);
    if (gen === undefined) return;
    this.running.delete(id);
    void gen.return(undefined);
  }
}
