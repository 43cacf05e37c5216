/**
 * The worker's half of `GET /api/pcap`: the packets of the messages in the {@link PacketRing} that match a
 * filter and a time range, as pcapng, in chunks. The work is sliced (a few thousand messages, then one
 * chunk of blocks at a time) so that an export of the whole ring never holds the decoder up for long: frame
 * batches are decoded between slices, and the next chunk is only made once the HTTP side asked for it.
 */
import { type FilterSpec, compileFilter } from '@ca-shark/analysis/filter';
import { PcapngWriter, type PcapngInterface } from '@ca-shark/packet';
import type { PacketRing } from './packet-ring.js';

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

/** Lets queued messages (frame batches) run before the next slice. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How the export names the interfaces of the frames it writes. */
export type InterfaceOf = (linktype: number, interfaceId: number) => PcapngInterface;

/**
 * The pcapng file of the matching messages' packets, chunk by chunk (each at most about
 * {@link CHUNK_BYTES}, the first holding the section header). Frames come out in capture order, each once,
 * however many matching messages it carried; frames that left the ring meanwhile are left out.
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
  const messages = ring.messages();
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
  for (let i = 0; i < messages.length; i++) {
    if (i > 0 && i % SLICE_MESSAGES === 0) await yieldToLoop();
    const m = messages[i];
    if (m.timestamp < since || m.timestamp > until || !matches(m)) continue;
    if (typeof m.frames === 'number') add(m.frames);
    else for (const f of m.frames) add(f);
  }
  const frames = selected.subarray(0, count).sort();
  const writer = new PcapngWriter(application);
  let parts: Uint8Array[] = [writer.header(exportComment(request))];
  let size = parts[0].length;
  const ids = new Map<string, number>();
  let previous = -1;
  for (const n of frames) {
    if (n === previous) continue;
    previous = n;
    const frame = ring.get(n);
    if (frame === undefined) continue;
    const key = `${frame.linktype}/${frame.interfaceId}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = writer.interfaceId(interfaceOf(frame.linktype, frame.interfaceId));
      ids.set(key, id);
      const idb = writer.interfaceBlocks();
      parts.push(idb);
      size += idb.length;
    }
    const block = writer.packet(id, frame.timestamp, frame.data, frame.origlen);
    parts.push(block);
    size += block.length;
    if (size >= CHUNK_BYTES) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
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
    /** Sends a chunk (`done` with none at the end, `error` when the export failed). */
    private readonly send: (id: number, chunk: Uint8Array | undefined, done: boolean, error?: string) => void,
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
        this.send(id, undefined, true, (err as Error).message);
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
