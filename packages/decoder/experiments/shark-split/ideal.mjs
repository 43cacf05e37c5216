// Upper bound of a split: main-thread CPU of a shark() pass vs. of feeding the decoder packet events
// built beforehand (zero transfer cost). mode: shark | feed | rebuild (feed, PacketInfo objects rebuilt per packet)
import fs from 'node:fs';
const [root, file, mode, passesS = '4'] = process.argv.slice(2);
function mainCpu() { const s = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'); const r = s.slice(s.lastIndexOf(')') + 2).split(' '); return (+r[11] + +r[12]) * 10; }
const { shark } = await import(`${root}/packages/decoder/dist/index.js`);
const { PacketPipeline } = await import(`${root}/packages/packet/dist/index.js`);
const { Decoder } = await import(`${root}/packages/decoder/dist/decoder.js`);
const { warmUpOnce } = await import(`${root}/packages/decoder/dist/warmup.js`);
let events = [];
if (mode !== 'shark') {
  const pl = new PacketPipeline({ onEvent: (ev) => { if (ev.packet) void ev.packet.frame; events.push(ev.data ? { ...ev, data: ev.data.slice() } : ev.payload ? { ...ev, payload: ev.payload.slice() } : ev); } });
  const buf = fs.readFileSync(file);
  for (let o = 0; o < buf.length; o += 65536) pl.pushCapture(buf.subarray(o, Math.min(buf.length, o + 65536)));
  pl.end();
  globalThis.gc?.();
}
function copyInfo(p) {
  const l = p.link, ip = p.ip, t = p.transport;
  const link = l.type === 'ethernet' ? { type: l.type, linktype: l.linktype, src: l.src, dst: l.dst, ethertype: l.ethertype } : { type: l.type, linktype: l.linktype, ethertype: l.ethertype };
  const ipc = { version: 4, hl: ip.hl, tos: ip.tos, len: ip.len, id: ip.id, flags: ip.flags, offset: ip.offset, ttl: ip.ttl, p: ip.p, sum: ip.sum, src: ip.src, dst: ip.dst };
  const tc = t.protocol === 'tcp' ? { protocol: 'tcp', sport: t.sport, dport: t.dport, seq: t.seq, ack: t.ack, off: t.off, flags: t.flags, win: t.win, sum: t.sum, urp: t.urp } : { protocol: 'udp', sport: t.sport, dport: t.dport, ulen: t.ulen, sum: t.sum };
  return { frame: p.frame, timestamp: p.timestamp, caplen: p.caplen, origlen: p.origlen, interfaceId: p.interfaceId, link, ip: ipc, transport: tc, src: p.src, dst: p.dst };
}
const queue = [];
async function feedAll(d, rebuild) {
  let last, copy, n = 0;
  for (let i = 0; i < events.length; i++) {
    if ((i & 127) === 0) { for (let j = 0; j < queue.length; j++) { queue[j] = undefined; n++; } queue.length = 0; await null; }
    const ev = events[i];
    if (rebuild && ev.packet !== undefined) {
      if (ev.packet !== last) { last = ev.packet; copy = copyInfo(last); }
      d.feed({ ...ev, packet: copy });
    } else d.feed(ev);
  }
  return n;
}
const out = [];
for (let p = 0; p < Number(passesS); p++) {
  const m0 = mainCpu();
  let n = 0;
  if (mode === 'shark') {
    const records = shark(file);
    for (let r = await records.next(); !r.done; r = await records.next())
      for (let record = r.value; record !== undefined; record = records.nextReady()) n++;
  } else {
    warmUpOnce();
    const d = new Decoder({ onRecord: (r) => queue.push(r) });
    n = await feedAll(d, mode === 'rebuild');
    d.end(); n += queue.length; queue.length = 0;
  }
  out.push(mainCpu() - m0);
  if (n !== 240492 && !file.includes('1024')) throw new Error('n ' + n);
}
console.log(mode, out.join(' '));
