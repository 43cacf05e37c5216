/**
 * shark()'s packet thread: reads the capture file and runs the packet layers (capture reader, link, IPv4
 * and fragments, UDP, TCP reassembly), writing their events into slots for the main thread, which
 * runs the CA decoder on them (shark-thread.ts; the layout is in shark-thread-wire.ts). Packet records are
 * not made here: their inputs are sent, and the main thread makes them with the same function.
 */
import { readSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  LINK_RECORD_MAX_BYTES,
  PACKET_INFO_L4_BYTES,
  PacketPipeline,
  type PacketEvent,
  type PacketInfo,
  type TcpFlow,
} from '@ca-shark/packet';
import { DECODE_SLICE, FILE_BUFFERS, FILE_CHUNK } from './shark-reads.js';
import {
  CLOSE_BYTES,
  CLOSE_OFF_REASON,
  CLOSE_REASONS,
  CTL_FILLED,
  CTL_FREED,
  CTL_STOP,
  DATA_OFF_PAYLOAD,
  ENTRY_OFF_KIND,
  ENTRY_OFF_LEN,
  EV_OFF_PACKET,
  FIRST_SLOT_BYTES,
  GAP_BYTES,
  JSON_OFF_LEN,
  JSON_OFF_TEXT,
  KIND,
  MAX_INLINE_PAYLOAD,
  OPEN_BYTES,
  OPEN_OFF_A_IP,
  OPEN_OFF_A_PORT,
  OPEN_OFF_B_IP,
  OPEN_OFF_B_PORT,
  OPEN_OFF_OPENER,
  OPENER_A,
  OPENER_B,
  OPENER_BYTES,
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
  SLOT_BYTES,
  SLOT_COUNT,
  SLOT_HEADER,
  SLOT_OFF_LAST,
  SLOT_OFF_USED,
  SLICE_BYTES,
  TCP_OFF_FLOW,
  TCP_OFF_FROM,
  TCP_OFF_LEN,
  UDP_OFF_LEN,
  UDP_OFF_PAYLOAD,
  entryLength,
  type PacketThreadFailure,
  type PacketThreadJob,
} from './shark-thread-wire.js';

/** What the pipeline's events carry in place of a packet record: the number it was sent under. */
interface PacketToken {
  id: number;
  /** A copy of the PACKET entry, `entryLength` bytes from `entryAt` in `entry`, to send it again. */
  entry: Uint8Array;
  entryAt: number;
  entryLength: number;
}

/**
 * The PACKET entries' copies are packed into blocks of this size, a new block when one is full: an
 * ArrayBuffer per packet cost more than the rest of this thread. A block lives while a packet record in
 * it may still be sent again (a flow's last packet, a segment held for reordering): at most one block
 * per such packet, so small.
 */
const COPY_BLOCK_BYTES = 16 << 10;
let copyBlock = new Uint8Array(COPY_BLOCK_BYTES);
let copyPos = 0;

class Stopped extends Error {}

const job = workerData as PacketThreadJob;
const ctl = new Int32Array(job.control);
/** Slots not sent yet (the main thread sends the others back when decoded). */
const pool: ArrayBuffer[] = [];
for (let i = 0; i < SLOT_COUNT; i++) pool.push(new ArrayBuffer(SLOT_BYTES));
let slot: ArrayBuffer = new ArrayBuffer(0);
let u8 = new Uint8Array(0);
let u32 = new Uint32Array(0);
let f64 = new Float64Array(0);
const encoder = new TextEncoder();

let pos = SLOT_HEADER;
let limit = FIRST_SLOT_BYTES;
/** Packets sent so far; the next one's number. */
let packets = 0;

/** A slot to fill: one not sent yet, or one the main thread sent back (waits for it). */
function takeSlot(): void {
  let next = pool.pop();
  while (next === undefined) {
    if (Atomics.load(ctl, CTL_STOP) !== 0) throw new Stopped();
    const seen = Atomics.load(ctl, CTL_FREED);
    const back = receiveMessageOnPort(job.slotPort);
    if (back !== undefined) next = back.message as ArrayBuffer;
    else Atomics.wait(ctl, CTL_FREED, seen);
  }
  slot = next;
  u8 = new Uint8Array(slot);
  u32 = new Uint32Array(slot);
  f64 = new Float64Array(slot);
  pos = SLOT_HEADER;
}

function flush(last: boolean): void {
  u32[SLOT_OFF_USED >> 2] = pos;
  u32[SLOT_OFF_LAST >> 2] = last ? 1 : 0;
  job.slotPort.postMessage(slot, [slot]);
  Atomics.add(ctl, CTL_FILLED, 1);
  Atomics.notify(ctl, CTL_FILLED);
  if (limit < SLOT_BYTES) limit = Math.min(SLOT_BYTES, limit * 2);
  if (!last) takeSlot();
}

/** Room for an entry of `bytes` (unaligned) bytes of `kind`: its offset in the slot. */
function reserve(kind: number, bytes: number): number {
  const len = entryLength(bytes);
  if (pos + len > limit && pos > SLOT_HEADER) flush(false);
  const at = pos;
  pos += len;
  u32[(at + ENTRY_OFF_KIND) >> 2] = kind;
  u32[(at + ENTRY_OFF_LEN) >> 2] = len;
  return at;
}

/** The pipeline's packet-record maker: sends the inputs and gives the events a token in place. */
function sendPacket(
  frame: number,
  timestamp: number,
  caplen: number,
  origlen: number,
  interfaceId: number,
  linktype: number,
  linkBuf: Uint8Array,
  linkStart: number,
  linkEnd: number,
  ethertype: number,
  ipBuf: Uint8Array,
  ip: number,
  hl: number,
  src: number,
  dst: number,
  l4Proto: number,
): PacketInfo {
  const linkLen = Math.min(linkEnd - linkStart, LINK_RECORD_MAX_BYTES);
  // What makePacketInfo reads of the IP packet, and no byte past the buffer's end (reads there give
  // undefined, and must give it on the main thread too).
  const ipLen = Math.max(0, Math.min(hl + PACKET_INFO_L4_BYTES, ipBuf.length - ip));
  const at = reserve(KIND.PACKET, PKT_OFF_BYTES + linkLen + ipLen);
  const w = at >> 2;
  u32[w + (PKT_OFF_FRAME >> 2)] = frame;
  u32[w + (PKT_OFF_CAPLEN >> 2)] = caplen;
  u32[w + (PKT_OFF_ORIGLEN >> 2)] = origlen;
  u32[w + (PKT_OFF_IFID >> 2)] = interfaceId;
  u32[w + (PKT_OFF_LINKTYPE >> 2)] = linktype;
  u32[w + (PKT_OFF_ETHERTYPE >> 2)] = ethertype;
  u32[w + (PKT_OFF_LINK_LEN >> 2)] = linkLen;
  u32[w + (PKT_OFF_IP_LEN >> 2)] = ipLen;
  u32[w + (PKT_OFF_HL >> 2)] = hl;
  u32[w + (PKT_OFF_SRC >> 2)] = src;
  u32[w + (PKT_OFF_DST >> 2)] = dst;
  u32[w + (PKT_OFF_L4 >> 2)] = l4Proto;
  f64[(at + PKT_OFF_TS) >> 3] = timestamp;
  u8.set(linkBuf.subarray(linkStart, linkStart + linkLen), at + PKT_OFF_BYTES);
  u8.set(ipBuf.subarray(ip, ip + ipLen), at + PKT_OFF_BYTES + linkLen);
  const length = u32[(at + ENTRY_OFF_LEN) >> 2];
  if (copyPos + length > COPY_BLOCK_BYTES) {
    copyBlock = new Uint8Array(COPY_BLOCK_BYTES);
    copyPos = 0;
  }
  copyBlock.set(u8.subarray(at, at + length), copyPos);
  const token: PacketToken = { id: packets++, entry: copyBlock, entryAt: copyPos, entryLength: length };
  copyPos += length;
  return token as unknown as PacketInfo;
}

/** The number an event gives for its packet: the main thread still has it, or it is sent again. */
function packetId(info: PacketInfo): number {
  const token = info as unknown as PacketToken;
  if (packets - token.id <= PACKET_RING) return token.id;
  const at = reserve(KIND.PACKET, token.entryLength);
  u8.set(token.entry.subarray(token.entryAt, token.entryAt + token.entryLength), at);
  token.id = packets++;
  return token.id;
}

function openerCode(opener: 'a' | 'b' | undefined): number {
  return opener === undefined ? OPENER_NONE : opener === 'a' ? OPENER_A : OPENER_B;
}

function ipNumber(dotted: string): number {
  const p = dotted.split('.');
  return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
}

/**
 * After its open event, a flow's opener is sent whenever the reassembler sets it (a SYN seen later), at
 * that point of the event order: the decoder reads it while handling any event.
 */
function watchOpener(flow: TcpFlow): void {
  let opener = flow.opener;
  Object.defineProperty(flow, 'opener', {
    get: () => opener,
    set: (side: 'a' | 'b' | undefined) => {
      opener = side;
      const at = reserve(KIND.OPENER, OPENER_BYTES);
      u32[(at + OPENER_OFF_FLOW) >> 2] = flow.id;
      u32[(at + OPENER_OFF_SIDE) >> 2] = openerCode(side);
    },
    enumerable: true,
  });
}

function sendJson(kind: number, value: unknown): void {
  const text = encoder.encode(JSON.stringify(value));
  const at = reserve(kind, JSON_OFF_TEXT + text.length);
  u32[(at + JSON_OFF_LEN) >> 2] = text.length;
  u8.set(text, at + JSON_OFF_TEXT);
}

/** A payload: in the slot, or (too large for one) posted on the port first, in order with the entries. */
function payloadEntry(kind: number, portKind: number, fixed: number, payload: Uint8Array): number {
  if (payload.length > MAX_INLINE_PAYLOAD) {
    job.port.postMessage(payload.slice());
    return reserve(portKind, fixed);
  }
  const at = reserve(kind, fixed + payload.length);
  u8.set(payload, at + fixed);
  return at;
}

function onEvent(ev: PacketEvent): void {
  switch (ev.type) {
    case 'udp': {
      const id = packetId(ev.packet);
      const at = payloadEntry(KIND.UDP, KIND.UDP_PORT, UDP_OFF_PAYLOAD, ev.payload);
      u32[(at + EV_OFF_PACKET) >> 2] = id;
      u32[(at + UDP_OFF_LEN) >> 2] = ev.payload.length;
      break;
    }
    case 'tcp-data': {
      const id = packetId(ev.packet);
      const at = payloadEntry(KIND.DATA, KIND.DATA_PORT, DATA_OFF_PAYLOAD, ev.data);
      u32[(at + EV_OFF_PACKET) >> 2] = id;
      u32[(at + TCP_OFF_FLOW) >> 2] = ev.flow.id;
      u32[(at + TCP_OFF_FROM) >> 2] = ev.from === 'a' ? 0 : 1;
      u32[(at + TCP_OFF_LEN) >> 2] = ev.data.length;
      break;
    }
    case 'tcp-gap': {
      const id = packetId(ev.packet);
      const at = reserve(KIND.GAP, GAP_BYTES);
      u32[(at + EV_OFF_PACKET) >> 2] = id;
      u32[(at + TCP_OFF_FLOW) >> 2] = ev.flow.id;
      u32[(at + TCP_OFF_FROM) >> 2] = ev.from === 'a' ? 0 : 1;
      u32[(at + TCP_OFF_LEN) >> 2] = ev.length;
      break;
    }
    case 'tcp-open': {
      const { flow } = ev;
      const id = packetId(ev.packet);
      const at = reserve(KIND.OPEN, OPEN_BYTES);
      u32[(at + EV_OFF_PACKET) >> 2] = id;
      u32[(at + TCP_OFF_FLOW) >> 2] = flow.id;
      u32[(at + OPEN_OFF_A_IP) >> 2] = ipNumber(flow.a.ip);
      u32[(at + OPEN_OFF_A_PORT) >> 2] = flow.a.port;
      u32[(at + OPEN_OFF_B_IP) >> 2] = ipNumber(flow.b.ip);
      u32[(at + OPEN_OFF_B_PORT) >> 2] = flow.b.port;
      u32[(at + OPEN_OFF_OPENER) >> 2] = openerCode(flow.opener);
      watchOpener(flow);
      break;
    }
    case 'tcp-close': {
      const id = packetId(ev.packet);
      const at = reserve(KIND.CLOSE, CLOSE_BYTES);
      u32[(at + EV_OFF_PACKET) >> 2] = id;
      u32[(at + TCP_OFF_FLOW) >> 2] = ev.flow.id;
      u32[(at + CLOSE_OFF_REASON) >> 2] = CLOSE_REASONS.indexOf(ev.reason);
      break;
    }
    case 'problem':
      sendJson(KIND.PROBLEM, ev);
      break;
  }
}

function run(): void {
  const pipeline = new PacketPipeline({ onEvent, reader: { stableInput: true }, packetInfo: sendPacket });
  takeSlot();
  // The same reads and pushes as shark()'s one-thread path (regularFileChunks and SharkRun.read).
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < FILE_BUFFERS; i++) buffers.push(new Uint8Array(FILE_CHUNK));
  let pushed = false;
  for (let index = 0; ; index = (index + 1) % FILE_BUFFERS) {
    const chunk = buffers[index];
    const bytesRead = readSync(job.fd, chunk, 0, FILE_CHUNK, null);
    if (bytesRead === 0) break;
    const bytes = bytesRead < FILE_CHUNK ? chunk.subarray(0, bytesRead) : chunk;
    for (let from = 0; from < bytes.length; from += DECODE_SLICE) {
      const to = Math.min(bytes.length, from + DECODE_SLICE);
      pipeline.pushCapture(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to));
      reserve(KIND.SLICE, SLICE_BYTES);
    }
    pushed = true;
    // The counters as of this chunk: `packetStats` moves during the iteration, a chunk at a time.
    sendJson(KIND.CHUNK, pipeline.stats);
    if (Atomics.load(ctl, CTL_STOP) !== 0) throw new Stopped();
  }
  pipeline.end();
  // Without a push the one-thread path never made its packet layer, and has no counters.
  sendJson(KIND.END, pushed ? pipeline.stats : null);
  flush(true);
}

try {
  run();
} catch (err) {
  if (!(err instanceof Stopped)) {
    const e = err instanceof Error ? err : new Error(String(err));
    const failure: PacketThreadFailure = { kind: 'error', message: e.message, stack: e.stack };
    parentPort?.postMessage(failure);
  }
}
