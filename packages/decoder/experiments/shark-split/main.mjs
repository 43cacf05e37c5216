import { Worker } from 'node:worker_threads';
import { NSLOTS, SLOT_BYTES, SLOT_HEADER, K, REASONS } from './common.mjs';
export async function load(root) {
  const { Decoder } = await import(`${root}/packages/decoder/dist/decoder.js`);
  const { warmUpOnce } = await import(`${root}/packages/decoder/dist/warmup.js`);
  const { dottedQuad } = await import(`${root}/packages/packet/dist/index.js`);
  const { linkRecord } = await import(`${root}/packages/packet/dist/link.js`);
  return { Decoder, warmUpOnce, dottedQuad, linkRecord };
}
const u16 = (b, at) => (b[at] << 8) | b[at + 1];
/** Async iterator like shark(): records in order. */
export function splitShark(root, mods, path) {
  const ctlSab = new SharedArrayBuffer(64);
  const dataSab = new SharedArrayBuffer(NSLOTS * SLOT_BYTES);
  const ctl = new Int32Array(ctlSab), i32 = new Int32Array(dataSab), f64 = new Float64Array(dataSab), u8 = new Uint8Array(dataSab);
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { root, path, ctl: ctlSab, data: dataSab } });
  let failed = null;
  worker.on('error', (e) => { failed = e; });
  worker.on('message', (m) => { globalThis.__workerCpu = m; });
  const { Decoder, warmUpOnce, dottedQuad, linkRecord } = mods;
  const queue = [];
  let qh = 0;
  const decoder = new Decoder({ onRecord: (r) => queue.push(r) });
  const flows = new Map();
  let packet;
  let slot = 0, prev = -1, finished = false, warmed = false;
  const dec = new TextDecoder();
  function buildPacket(at) {
    const w = at >> 2;
    const linkLen = i32[w + 8], ipLen = i32[w + 9];
    const linkStart = at + 48, ip = linkStart + linkLen, hl = (u8[ip] & 0x0f) * 4;
    const b = u8;
    const fragField = u16(b, ip + 6);
    const src = dottedQuad(((b[ip + 12] << 24) | (b[ip + 13] << 16) | (b[ip + 14] << 8) | b[ip + 15]) >>> 0);
    const dst = dottedQuad(((b[ip + 16] << 24) | (b[ip + 17] << 16) | (b[ip + 18] << 8) | b[ip + 19]) >>> 0);
    const ipRec = { version: 4, hl, tos: b[ip + 1], len: u16(b, ip + 2), id: u16(b, ip + 4), flags: fragField >> 13, offset: (fragField & 0x1fff) * 8, ttl: b[ip + 8], p: b[ip + 9], sum: u16(b, ip + 10), src, dst };
    if (hl > 20) ipRec.options = b.slice(ip + 20, ip + hl);
    const l4 = ip + hl;
    const transport = b[ip + 9] === 6
      ? { protocol: 'tcp', sport: u16(b, l4), dport: u16(b, l4 + 2), seq: ((u16(b, l4 + 4) << 16) | u16(b, l4 + 6)) >>> 0, ack: ((u16(b, l4 + 8) << 16) | u16(b, l4 + 10)) >>> 0, off: (b[l4 + 12] >> 4) * 4, flags: b[l4 + 13], win: u16(b, l4 + 14), sum: u16(b, l4 + 16), urp: u16(b, l4 + 18) }
      : { protocol: 'udp', sport: u16(b, l4), dport: u16(b, l4 + 2), ulen: u16(b, l4 + 4), sum: u16(b, l4 + 6) };
    return { frame: i32[w + 2], timestamp: f64[(at + 40) >> 3], caplen: i32[w + 3], origlen: i32[w + 4], interfaceId: i32[w + 5],
      link: linkRecord(i32[w + 6], u8, linkStart, linkStart + linkLen, i32[w + 7]), ip: ipRec, transport, src, dst };
  }
  function flowOf(id, op) {
    const f = flows.get(id);
    if (op !== 0 && f.opener === undefined) f.opener = op === 1 ? 'a' : 'b';
    return f;
  }
  const flowsT = decoder.flows, udpH = decoder.udp;
  function decodeSlot(s) {
    const base = s * SLOT_BYTES;
    const used = i32[base >> 2];
    const last = i32[(base >> 2) + 1] === 1;
    for (let at = base + SLOT_HEADER; at < base + used; ) {
      const w = at >> 2;
      const kind = i32[w], len = i32[w + 1];
      switch (kind) {
        case K.PACKET: packet = buildPacket(at); break;
        case K.FLOW: flows.set(i32[w + 2], { id: i32[w + 2], a: { ip: dottedQuad(i32[w + 3] >>> 0), port: i32[w + 4] }, b: { ip: dottedQuad(i32[w + 5] >>> 0), port: i32[w + 6] } }); break;
        case K.UDP: udpH.datagramIn(packet, new Uint8Array(dataSab, at + 16, i32[w + 2])); break;
        case K.DATA: flowsT.data(flowOf(i32[w + 2], i32[w + 4]), i32[w + 3] === 0 ? 'a' : 'b', packet, new Uint8Array(dataSab, at + 24, i32[w + 5])); break;
        case K.GAP: flowsT.gap(flowOf(i32[w + 2], i32[w + 4]), i32[w + 3] === 0 ? 'a' : 'b', packet, i32[w + 5]); break;
        case K.OPEN: flowsT.open(flowOf(i32[w + 2], i32[w + 3]), packet); break;
        case K.CLOSE: flowsT.close(flowOf(i32[w + 2], i32[w + 3]), packet, REASONS[i32[w + 4]]); break;
        case K.PROBLEM: decoder.feed(JSON.parse(dec.decode(u8.slice(at + 16, at + 16 + i32[w + 2])))); break;
      }
      at += len;
    }
    return last;
  }
  async function fill() {
    if (!warmed) { warmed = true; warmUpOnce(); }
    for (;;) {
      if (failed) throw failed;
      if (Atomics.load(ctl, slot) !== 1) {
        const r = Atomics.waitAsync(ctl, slot, 0);
        if (r.async) { const t = performance.now(); await r.value; const d = performance.now() - t; globalThis.__wait = (globalThis.__wait ?? 0) + d; globalThis.__slots = globalThis.__slots ?? []; if (globalThis.__slots.length < 12) globalThis.__slots.push(Math.round(d)); }
        continue;
      }
      const last = decodeSlot(slot);
      if (prev >= 0) { Atomics.store(ctl, prev, 0); Atomics.notify(ctl, prev); }
      prev = slot; slot = (slot + 1) % NSLOTS;
      if (last) { decoder.end(); finished = true; }
      if (queue.length > qh || finished) return;
    }
  }
  const DONE = { done: true, value: undefined };
  const it = {
    nextReady() { if (qh < queue.length) { const r = queue[qh]; queue[qh++] = undefined; if (qh === queue.length) { queue.length = 0; qh = 0; } return r; } return undefined; },
    async next() {
      let r = it.nextReady();
      if (r !== undefined) return { done: false, value: r };
      if (finished) return DONE;
      await fill();
      r = it.nextReady();
      return r === undefined ? DONE : { done: false, value: r };
    },
  };
  return it;
}
