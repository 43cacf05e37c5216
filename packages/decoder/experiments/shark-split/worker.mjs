import { workerData, parentPort } from 'node:worker_threads';
import fs from 'node:fs';
import { NSLOTS, SLOT_BYTES, SLOT_HEADER, K, REASONS } from './common.mjs';
const { root, path, ctl: ctlSab, data: dataSab } = workerData;
const { PacketPipeline } = await import(`${root}/packages/packet/dist/index.js`);
const ctl = new Int32Array(ctlSab);
const i32 = new Int32Array(dataSab);
const f64 = new Float64Array(dataSab);
const u8 = new Uint8Array(dataSab);
let slot = 0;
let base = 0; // byte offset of the slot
let pos = SLOT_HEADER; // write offset within slot
let limit = 32 << 10; // the first slots are handed over small, so the main thread starts early
const enc = new TextEncoder();
function waitEmpty() {
  while (Atomics.load(ctl, slot) !== 0) Atomics.wait(ctl, slot, 1);
  base = slot * SLOT_BYTES;
  pos = SLOT_HEADER;
}
function flush(last) {
  i32[base >> 2] = pos;
  i32[(base >> 2) + 1] = last ? 1 : 0;
  Atomics.store(ctl, slot, 1);
  Atomics.notify(ctl, slot);
  slot = (slot + 1) % NSLOTS;
  if (!last) waitEmpty();
}
function reserve(bytes) {
  bytes = (bytes + 7) & ~7;
  if (pos + bytes > limit) { flush(false); if (limit < SLOT_BYTES) limit = Math.min(SLOT_BYTES, limit * 2); }
  if (pos + bytes > SLOT_BYTES) flush(false);
  if (pos + bytes > SLOT_BYTES) throw new Error('record too large ' + bytes);
  const at = base + pos;
  pos += bytes;
  return at;
}
let lastPacket;
const flowsSeen = new Set();
function ipNum(s) { const p = s.split('.'); return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0; }
function packet(p) {
  if (p === lastPacket) return;
  lastPacket = p;
  const linkLen = pl.loc.offset - pl.fStart;
  const ipb = pl.ipBuf, ipo = pl.ipOff;
  const l4len = pl.l4Proto === 6 ? 20 : 8;
  const ipLen = Math.min(pl.ipHl + l4len, ipb.length - ipo);
  const total = 48 + linkLen + ipLen;
  const at = reserve(total);
  const w = at >> 2;
  i32[w] = K.PACKET; i32[w + 1] = (total + 7) & ~7;
  i32[w + 2] = pl.fNo; i32[w + 3] = pl.fCaplen; i32[w + 4] = pl.fOrig; i32[w + 5] = pl.fIf;
  i32[w + 6] = pl.fLinktype; i32[w + 7] = pl.loc.ethertype; i32[w + 8] = linkLen; i32[w + 9] = ipLen;
  f64[(at + 40) >> 3] = pl.fTs;
  u8.set(pl.fBuf.subarray(pl.fStart, pl.fStart + linkLen), at + 48);
  u8.set(ipb.subarray(ipo, ipo + ipLen), at + 48 + linkLen);
}
function flow(f) {
  if (flowsSeen.has(f.id)) return;
  flowsSeen.add(f.id);
  const at = reserve(32); const w = at >> 2;
  i32[w] = K.FLOW; i32[w + 1] = 32; i32[w + 2] = f.id; i32[w + 3] = ipNum(f.a.ip); i32[w + 4] = f.a.port; i32[w + 5] = ipNum(f.b.ip); i32[w + 6] = f.b.port;
}
const opener = (f) => (f.opener === undefined ? 0 : f.opener === 'a' ? 1 : 2);
function onEvent(ev) {
  switch (ev.type) {
    case 'udp': {
      packet(ev.packet);
      const n = ev.payload.length; const at = reserve(16 + n); const w = at >> 2;
      i32[w] = K.UDP; i32[w + 1] = (16 + n + 7) & ~7; i32[w + 2] = n;
      u8.set(ev.payload, at + 16);
      break;
    }
    case 'tcp-data': {
      packet(ev.packet); flow(ev.flow);
      const n = ev.data.length; const at = reserve(24 + n); const w = at >> 2;
      i32[w] = K.DATA; i32[w + 1] = (24 + n + 7) & ~7; i32[w + 2] = ev.flow.id; i32[w + 3] = ev.from === 'a' ? 0 : 1; i32[w + 4] = opener(ev.flow); i32[w + 5] = n;
      u8.set(ev.data, at + 24);
      break;
    }
    case 'tcp-gap': {
      packet(ev.packet); flow(ev.flow);
      const at = reserve(24); const w = at >> 2;
      i32[w] = K.GAP; i32[w + 1] = 24; i32[w + 2] = ev.flow.id; i32[w + 3] = ev.from === 'a' ? 0 : 1; i32[w + 4] = opener(ev.flow); i32[w + 5] = ev.length;
      break;
    }
    case 'tcp-open': {
      packet(ev.packet); flow(ev.flow);
      const at = reserve(16); const w = at >> 2;
      i32[w] = K.OPEN; i32[w + 1] = 16; i32[w + 2] = ev.flow.id; i32[w + 3] = opener(ev.flow);
      break;
    }
    case 'tcp-close': {
      packet(ev.packet); flow(ev.flow);
      const at = reserve(24); const w = at >> 2;
      i32[w] = K.CLOSE; i32[w + 1] = 24; i32[w + 2] = ev.flow.id; i32[w + 3] = opener(ev.flow); i32[w + 4] = REASONS.indexOf(ev.reason);
      break;
    }
    case 'problem': {
      const b = enc.encode(JSON.stringify(ev)); const at = reserve(16 + b.length); const w = at >> 2;
      i32[w] = K.PROBLEM; i32[w + 1] = (16 + b.length + 7) & ~7; i32[w + 2] = b.length;
      u8.set(b, at + 16);
      break;
    }
  }
}
const pl = new PacketPipeline({ onEvent, reader: { stableInput: true } });
// The main thread builds the packet records from the shipped headers: here a token per frame is enough
// (events of one frame share it, as they share the record).
pl.current = function () { if (this.curInfo === undefined) this.curInfo = { frame: this.fNo }; return this.curInfo; };
waitEmpty();
const fd = fs.openSync(path, 'r');
const bufs = [new Uint8Array(1 << 20), new Uint8Array(1 << 20), new Uint8Array(1 << 20)];
for (let i = 0; ; i = (i + 1) % 3) {
  const b = bufs[i]; const k = fs.readSync(fd, b, 0, b.length, null); if (!k) break;
  pl.pushCapture(k < b.length ? b.subarray(0, k) : b);
}
pl.end();
fs.closeSync(fd);
flush(true);
{ const s = fs.readFileSync('/proc/thread-self/stat', 'utf8'); const r = s.slice(s.lastIndexOf(')') + 2).split(' '); parentPort.postMessage((+r[11] + +r[12]) * 10); }
