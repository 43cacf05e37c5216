/**
 * The main thread's side of shark()'s packet thread: starts the worker (shark-thread-worker.ts) on an open
 * capture file and hands what it sends to the CA decoder, a slice at a time, as the one-thread path hands
 * the decoder file chunks. The layout is in shark-thread-wire.ts; docs/performance.md ("Session 11")
 * has the measurements behind it.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import {
  dottedQuad,
  makePacketInfo,
  type PacketInfo,
  type PacketProblem,
  type PacketStats,
  type TcpFlow,
} from '@ca-shark/packet';
import type { Decoder } from './decoder.js';
import {
  CLOSE_OFF_REASON,
  CLOSE_REASONS,
  CTL_FILLED,
  CTL_FREED,
  CTL_STOP,
  CTL_WORDS,
  DATA_OFF_PAYLOAD,
  ENTRY_OFF_KIND,
  ENTRY_OFF_LEN,
  EV_OFF_PACKET,
  JSON_OFF_LEN,
  JSON_OFF_TEXT,
  KIND,
  OPEN_OFF_A_IP,
  OPEN_OFF_A_PORT,
  OPEN_OFF_B_IP,
  OPEN_OFF_B_PORT,
  OPEN_OFF_OPENER,
  OPENER_A,
  OPENER_NONE,
  OPENER_OFF_FLOW,
  OPENER_OFF_SIDE,
  PACKET_RING,
  PKT_OFF_BYTES,
  PKT_OFF_CAPLEN,
  PKT_OFF_DST,
  PKT_OFF_ETHERTYPE,
  PKT_OFF_FRAME,
  PKT_OFF_HL,
  PKT_OFF_IFID,
  PKT_OFF_IP_LEN,
  PKT_OFF_L4,
  PKT_OFF_LINK_LEN,
  PKT_OFF_LINKTYPE,
  PKT_OFF_ORIGLEN,
  PKT_OFF_SRC,
  PKT_OFF_TS,
  SLOT_HEADER,
  SLOT_OFF_USED,
  TCP_OFF_FLOW,
  TCP_OFF_FROM,
  TCP_OFF_LEN,
  UDP_OFF_LEN,
  UDP_OFF_PAYLOAD,
  type PacketThreadFailure,
  type PacketThreadJob,
} from './shark-thread-wire.js';

/**
 * Files at least this large get the packet thread with `packetThread: 'auto'`. On the 100 MB
 * realistic capture it does not pay: the worker's start and its cold code cost about what it takes off
 * the main thread (built: main thread CPU unchanged, process CPU +39 %); the prototype's main thread lost
 * 23 % of its CPU on 300 MB, and the built one 16 % on 1 GB at +22 % process CPU (docs/performance.md,
 * "Session 11").
 */
export const PACKET_THREAD_MIN_BYTES = 256 << 20;

/** `CA_SHARK_PACKET_THREAD=1` forces the packet thread on any regular file, `0` keeps it off. */
export const PACKET_THREAD_ENV = 'CA_SHARK_PACKET_THREAD';

/** The worker makes few objects: a small young generation keeps its heap's pages down (as split.ts). */
const WORKER_YOUNG_MB = 4;

/** How often a main thread waiting for the worker looks for its failure, ms (as the CLI's split.ts). */
const FAILURE_CHECK_MS = 500;

/** Tests and tsx run the decoder from its TypeScript sources, where the worker needs tsx's loader too. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Whether shark() runs the packet layers of a regular file of `size` bytes on a second thread. */
export function usePacketThread(option: boolean | 'auto' | undefined, size: number): boolean {
  // Off unless asked for: its 25-45 MB would make peak RSS jump at the size 'auto' picks (the CLI's
  // `report` on the 1 GB capture went from 138-141 to 156-158 MB), and it pays only on an idle core.
  let choice = option ?? false;
  if (option === undefined) {
    const env = process.env[PACKET_THREAD_ENV];
    if (env === '1') choice = true;
    else if (env === '0') choice = false;
  }
  if (choice === 'auto') return size >= PACKET_THREAD_MIN_BYTES && availableParallelism() >= 2;
  return choice;
}

/** What a decode step ended at: a slice's end, a file chunk's end, a slot not filled yet, the end. */
export const STEP_SLICE = 0;
export const STEP_CHUNK = 1;
export const STEP_WAIT = 2;
export const STEP_END = 3;
export type StepResult = typeof STEP_SLICE | typeof STEP_CHUNK | typeof STEP_WAIT | typeof STEP_END;

/** The packet thread of one shark() run. */
export class PacketThread {
  private readonly ctl: Int32Array;
  /** Slots from the worker, and back. */
  private readonly slotPort: MessagePort;
  /**
   * The slot being decoded, and views of it. A plain ArrayBuffer: the decoder's byte copies and DataView
   * reads took slow paths on views of a SharedArrayBuffer (the 30,000-element waveforms'
   * `readTypedElements` cost three times as much).
   */
  private buf: ArrayBuffer;
  private u8: Uint8Array;
  private u32: Uint32Array;
  private f64: Float64Array;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly decoder: Decoder;
  private readonly text = new TextDecoder();
  /** The slot decoded before this one: sent back when the next one is taken. */
  private held: ArrayBuffer | null = null;
  /** The worker's count of slots sent, when the main thread last looked for one. */
  private seenFilled = 0;
  /** Where the slot's next entry is, and where its entries end (0: no slot taken). */
  private pos = 0;
  private used = 0;
  /** The records of the last PACKET_RING packets, by number. */
  private readonly packets: (PacketInfo | undefined)[] = new Array<PacketInfo | undefined>(PACKET_RING);
  private packetCount = 0;
  private readonly flows = new Map<number, TcpFlow>();
  private failure: Error | null = null;
  private exited = false;
  /** The worker's last entry was decoded. */
  private ended = false;
  private readonly exit: Promise<void>;

  constructor(fd: number, decoder: Decoder) {
    this.decoder = decoder;
    const control = new SharedArrayBuffer(CTL_WORDS * Int32Array.BYTES_PER_ELEMENT);
    this.ctl = new Int32Array(control);
    this.buf = new ArrayBuffer(0);
    this.u8 = new Uint8Array(0);
    this.u32 = new Uint32Array(0);
    this.f64 = new Float64Array(0);
    const slotChannel = new MessageChannel();
    this.slotPort = slotChannel.port1;
    const channel = new MessageChannel();
    this.port = channel.port1;
    const job: PacketThreadJob = { fd, control, slotPort: slotChannel.port2, port: channel.port2 };
    const entry = RUNNING_FROM_SOURCE
      ? new URL('./shark-thread-boot.mjs', import.meta.url)
      : new URL('./shark-thread-worker.js', import.meta.url);
    this.worker = new Worker(entry, {
      workerData: job,
      transferList: [slotChannel.port2, channel.port2],
      execArgv: RUNNING_FROM_SOURCE ? ['--conditions=source'] : [],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    // Only a wait for the worker keeps the process alive (see wait()): an iteration its consumer drops
    // without return() must not hang the process, as it does not on one thread.
    this.worker.unref();
    this.worker.on('message', (m: PacketThreadFailure) => {
      this.fail(new Error(`shark(): the packet thread failed: ${m.message}`));
    });
    this.worker.on('error', (err) => this.fail(new Error(`shark(): the packet thread failed: ${err.message}`)));
    this.exit = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.exited = true;
        // Wakes the main thread if it waits for a slot the worker will never send (see step()).
        Atomics.notify(this.ctl, CTL_FILLED);
        resolve();
      });
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    // Wakes the main thread if it waits for a slot.
    Atomics.notify(this.ctl, CTL_FILLED);
  }

  /**
   * Decodes entries up to the next marker: STEP_SLICE at the end of a push of the one-thread path,
   * STEP_CHUNK at the end of a file chunk, STEP_END at the end. STEP_WAIT: the worker has not filled the
   * next slot yet (await {@link wait} and step on: the slice goes on).
   */
  step(): StepResult {
    if (this.failure) throw this.failure;
    for (;;) {
      if (this.used === 0 && !this.takeSlot()) {
        // The worker exits after sending its last slot: gone before that, it failed.
        if (this.exited) throw this.failure ?? new Error('shark(): the packet thread ended before the capture did');
        return STEP_WAIT;
      }
      const u32 = this.u32;
      let result: StepResult | -1 = -1;
      while (this.pos < this.used && result === -1) {
        const at = this.pos;
        this.pos += u32[(at + ENTRY_OFF_LEN) >> 2];
        result = this.entry(u32[(at + ENTRY_OFF_KIND) >> 2], at);
      }
      if (this.pos >= this.used) this.used = 0;
      if (result !== -1) {
        if (result === STEP_END) this.ended = true;
        return result;
      }
    }
  }

  /** Waits until the worker has filled the next slot, or failed. */
  async wait(): Promise<void> {
    if (this.exited || this.failure) return;
    // The timeout is a safety net: a failure's notify wakes the wait, and step() then throws it.
    const result = Atomics.waitAsync(this.ctl, CTL_FILLED, this.seenFilled, FAILURE_CHECK_MS);
    if (!result.async) return;
    // A pending Atomics.waitAsync does not keep Node's event loop alive; the worker does, while waited for.
    this.worker.ref();
    try {
      await result.value;
    } finally {
      this.worker.unref();
    }
  }

  /** Stops the worker (at the end, or when the consumer stops early) and waits until it has exited. */
  async close(): Promise<void> {
    Atomics.store(this.ctl, CTL_STOP, 1);
    Atomics.notify(this.ctl, CTL_FREED);
    // Awaiting its exit must keep the process alive (an unreferenced worker does not: Node would leave
    // with the iteration's promise pending).
    this.worker.ref();
    // After its last entry the worker ends by itself; stopped early, it is ended here.
    if (!this.exited && !this.ended) await this.worker.terminate();
    await this.exit;
    this.port.close();
    this.slotPort.close();
  }

  /**
   * Takes the next slot the worker sent, if there is one, and sends the one decoded before the current
   * one back (nothing refers to its payloads any more).
   */
  private takeSlot(): boolean {
    this.seenFilled = Atomics.load(this.ctl, CTL_FILLED);
    const received = receiveMessageOnPort(this.slotPort);
    if (received === undefined) return false;
    const held = this.held;
    if (held !== null) {
      this.slotPort.postMessage(held, [held]);
      Atomics.add(this.ctl, CTL_FREED, 1);
      Atomics.notify(this.ctl, CTL_FREED);
    }
    this.held = this.buf.byteLength > 0 ? this.buf : null;
    const buf = received.message as ArrayBuffer;
    this.buf = buf;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.used = this.u32[SLOT_OFF_USED >> 2];
    this.pos = SLOT_HEADER;
    return true;
  }

  private packet(at: number): PacketInfo {
    const id = this.u32[(at + EV_OFF_PACKET) >> 2];
    const info = this.packets[id % PACKET_RING];
    if (info === undefined || this.packetCount - id > PACKET_RING)
      throw new Error(`shark(): the packet thread referred to packet ${id}, which it did not send`);
    return info;
  }

  private flow(at: number): TcpFlow {
    const id = this.u32[(at + TCP_OFF_FLOW) >> 2];
    const flow = this.flows.get(id);
    if (flow === undefined) throw new Error(`shark(): the packet thread referred to TCP flow ${id} before its start`);
    return flow;
  }

  /** Hands one entry to the decoder; at a marker, what the step ends at, else -1. */
  private entry(kind: number, at: number): StepResult | -1 {
    const { u32, decoder } = this;
    switch (kind) {
      case KIND.PACKET:
        this.packets[this.packetCount++ % PACKET_RING] = this.makePacket(at);
        break;
      case KIND.UDP:
        decoder.udpIn(this.packet(at), new Uint8Array(this.buf, at + UDP_OFF_PAYLOAD, u32[(at + UDP_OFF_LEN) >> 2]));
        break;
      case KIND.UDP_PORT:
        decoder.udpIn(this.packet(at), this.posted());
        break;
      case KIND.DATA:
      case KIND.DATA_PORT: {
        const data =
          kind === KIND.DATA
            ? new Uint8Array(this.buf, at + DATA_OFF_PAYLOAD, u32[(at + TCP_OFF_LEN) >> 2])
            : this.posted();
        decoder.tcpData(this.flow(at), u32[(at + TCP_OFF_FROM) >> 2] === 0 ? 'a' : 'b', this.packet(at), data);
        break;
      }
      case KIND.GAP:
        decoder.tcpGap(
          this.flow(at),
          u32[(at + TCP_OFF_FROM) >> 2] === 0 ? 'a' : 'b',
          this.packet(at),
          u32[(at + TCP_OFF_LEN) >> 2],
        );
        break;
      case KIND.OPEN: {
        const id = u32[(at + TCP_OFF_FLOW) >> 2];
        const flow: TcpFlow = {
          id,
          a: { ip: dottedQuad(u32[(at + OPEN_OFF_A_IP) >> 2]), port: u32[(at + OPEN_OFF_A_PORT) >> 2] },
          b: { ip: dottedQuad(u32[(at + OPEN_OFF_B_IP) >> 2]), port: u32[(at + OPEN_OFF_B_PORT) >> 2] },
        };
        const opener = u32[(at + OPEN_OFF_OPENER) >> 2];
        if (opener !== OPENER_NONE) flow.opener = opener === OPENER_A ? 'a' : 'b';
        this.flows.set(id, flow);
        decoder.tcpOpen(flow, this.packet(at));
        break;
      }
      case KIND.CLOSE: {
        const flow = this.flow(at);
        this.flows.delete(flow.id);
        decoder.tcpClose(flow, this.packet(at), CLOSE_REASONS[u32[(at + CLOSE_OFF_REASON) >> 2]]);
        break;
      }
      case KIND.OPENER: {
        const flow = this.flows.get(u32[(at + OPENER_OFF_FLOW) >> 2]);
        const side = u32[(at + OPENER_OFF_SIDE) >> 2];
        if (flow !== undefined) flow.opener = side === OPENER_NONE ? undefined : side === OPENER_A ? 'a' : 'b';
        break;
      }
      case KIND.PROBLEM:
        decoder.problem(this.json(at) as PacketProblem);
        break;
      case KIND.SLICE:
        return STEP_SLICE;
      case KIND.CHUNK:
        this.decoder.remotePacketStats = this.json(at) as PacketStats;
        return STEP_CHUNK;
      case KIND.END: {
        const stats = this.json(at) as PacketStats | null;
        if (stats !== null) this.decoder.remotePacketStats = stats;
        return STEP_END;
      }
      default:
        throw new Error(`shark(): the packet thread sent an entry of unknown kind ${kind}`);
    }
    return -1;
  }

  private makePacket(at: number): PacketInfo {
    const u32 = this.u32;
    const w = at >> 2;
    const linkLen = u32[w + (PKT_OFF_LINK_LEN >> 2)];
    const link = at + PKT_OFF_BYTES;
    return makePacketInfo(
      u32[w + (PKT_OFF_FRAME >> 2)],
      this.f64[(at + PKT_OFF_TS) >> 3],
      u32[w + (PKT_OFF_CAPLEN >> 2)],
      u32[w + (PKT_OFF_ORIGLEN >> 2)],
      u32[w + (PKT_OFF_IFID >> 2)],
      u32[w + (PKT_OFF_LINKTYPE >> 2)],
      this.u8,
      link,
      link + linkLen,
      u32[w + (PKT_OFF_ETHERTYPE >> 2)],
      // Its own view: reads past what was sent give undefined, as they do past the end of the buffer the
      // worker read them from.
      new Uint8Array(this.buf, link + linkLen, u32[w + (PKT_OFF_IP_LEN >> 2)]),
      0,
      u32[w + (PKT_OFF_HL >> 2)],
      u32[w + (PKT_OFF_SRC >> 2)],
      u32[w + (PKT_OFF_DST >> 2)],
      u32[w + (PKT_OFF_L4 >> 2)],
    );
  }

  private posted(): Uint8Array {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) throw new Error('shark(): the packet thread sent a payload entry without its payload');
    return received.message as Uint8Array;
  }

  private json(at: number): unknown {
    const n = this.u32[(at + JSON_OFF_LEN) >> 2];
    return JSON.parse(this.text.decode(this.u8.subarray(at + JSON_OFF_TEXT, at + JSON_OFF_TEXT + n)));
  }
}
