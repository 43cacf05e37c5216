/**
 * Packet-layer throughput: generates a synthetic capture of at least 100 MB (Ethernet / IPv4 / TCP and UDP
 * frames with CA-sized payloads, a few retransmissions and reorderings), then reads it three times:
 * reader only, reader + link + IPv4, and the full pipeline with TCP reassembly and UDP.
 * Prints MB/s, packets/s and peak RSS per pass.
 *
 *   pnpm --filter @ca-shark/packet bench          (BENCH_MB=256 for a bigger capture)
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReader } from './reader.js';
import { PacketPipeline } from './pipeline.js';
import type { PacketEvent } from './types.js';

const TARGET_BYTES = Math.max(100, Number(process.env.BENCH_MB ?? 128)) * 1e6;
const READ_CHUNK = 1 << 20;

/** Deterministic pseudo-random numbers (LCG) so every run measures the same capture. */
let rng = 0x2545f491;
function rand(n: number): number {
  rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
  return rng % n;
}

const ETH = 14;
const IP = 20;
const TCP = 20;
const UDP = 8;

function frame(
  out: Buffer,
  at: number,
  ts: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  tcpSeq: number,
  payloadLen: number,
  udp: boolean,
): number {
  const l4 = udp ? UDP : TCP;
  const caplen = ETH + IP + l4 + payloadLen;
  // Record header (little-endian µs pcap).
  out.writeUInt32LE(Math.floor(ts), at);
  out.writeUInt32LE(Math.floor((ts % 1) * 1e6), at + 4);
  out.writeUInt32LE(caplen, at + 8);
  out.writeUInt32LE(caplen, at + 12);
  let p = at + 16;
  out.writeUInt32BE(0x02000000, p);
  out.writeUInt16BE(0x0002, p + 4);
  out.writeUInt32BE(0x02000000, p + 6);
  out.writeUInt16BE(0x0001, p + 10);
  out.writeUInt16BE(0x0800, p + 12);
  p += ETH;
  out.writeUInt8(0x45, p);
  out.writeUInt8(0, p + 1);
  out.writeUInt16BE(IP + l4 + payloadLen, p + 2);
  out.writeUInt16BE(rand(65536), p + 4);
  out.writeUInt16BE(0x4000, p + 6);
  out.writeUInt8(64, p + 8);
  out.writeUInt8(udp ? 17 : 6, p + 9);
  out.writeUInt16BE(0, p + 10);
  out.writeUInt32BE(src, p + 12);
  out.writeUInt32BE(dst, p + 16);
  p += IP;
  out.writeUInt16BE(sport, p);
  out.writeUInt16BE(dport, p + 2);
  if (udp) {
    out.writeUInt16BE(UDP + payloadLen, p + 4);
    out.writeUInt16BE(0, p + 6);
  } else {
    out.writeUInt32BE(tcpSeq >>> 0, p + 4);
    out.writeUInt32BE(0, p + 8);
    out.writeUInt8(5 << 4, p + 12);
    out.writeUInt8(0x18, p + 13);
    out.writeUInt16BE(65535, p + 14);
    out.writeUInt32BE(0, p + 16);
  }
  p += l4;
  // CA-ish payload: 16-byte headers (command, payload size) followed by value bytes.
  for (let i = 0; i < payloadLen; i += 16) {
    if (i + 4 <= payloadLen) {
      out.writeUInt16BE(1, p + i);
      out.writeUInt16BE(Math.min(payloadLen - i, 0xfff0), p + i + 2);
    }
  }
  return 16 + caplen;
}

function generate(path: string): { bytes: number; packets: number } {
  const fd = openSync(path, 'w');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  writeSync(fd, header);
  const FLOWS = 64;
  const seqC = new Uint32Array(FLOWS).map(() => rand(0xffffffff));
  const seqS = new Uint32Array(FLOWS).map(() => rand(0xffffffff));
  const server = 0x0a000001;
  let bytes = 24;
  let packets = 0;
  let ts = 1_700_000_000;
  const buf = Buffer.alloc(8 << 20);
  while (bytes < TARGET_BYTES) {
    let at = 0;
    while (at < buf.length - 4096) {
      ts += 0.00001;
      const f = rand(FLOWS);
      const client = 0x0a010000 + f;
      const cport = 40000 + f;
      const r = rand(100);
      if (r < 10) {
        at += frame(buf, at, ts, client, 0x0a01ffff, cport, 5064, 0, 16 + 16 + 24, true);
      } else if (r < 45) {
        const len = 16 + 8 * (1 + rand(8));
        at += frame(buf, at, ts, client, server, cport, 5064, seqC[f], len, false);
        seqC[f] = (seqC[f] + len) >>> 0;
      } else if (r < 97) {
        const len = r < 85 ? 16 + 8 * (1 + rand(24)) : 1448;
        at += frame(buf, at, ts, server, client, 5064, cport, seqS[f], len, false);
        seqS[f] = (seqS[f] + len) >>> 0;
      } else if (r < 99) {
        // A retransmission of the previous server segment of this flow.
        at += frame(buf, at, ts, server, client, 5064, cport, (seqS[f] - 40) >>> 0, 40, false);
      } else {
        // Two server segments swapped.
        const a = 16 + 8 * (1 + rand(8));
        const b = 16 + 8 * (1 + rand(8));
        at += frame(buf, at, ts, server, client, 5064, cport, (seqS[f] + a) >>> 0, b, false);
        at += frame(buf, at, ts, server, client, 5064, cport, seqS[f], a, false);
        seqS[f] = (seqS[f] + a + b) >>> 0;
        packets++;
      }
      packets++;
    }
    writeSync(fd, buf, 0, at);
    bytes += at;
  }
  closeSync(fd);
  return { bytes, packets };
}

interface Pass {
  name: string;
  make: () => { push: (chunk: Uint8Array) => void; end: () => void; frames: () => number };
}

const RUNS = 3;

/** Read the file through a fresh instance RUNS times (the first runs warm up the JIT); print the best run. */
function measure(path: string, pass: Pass): void {
  const size = statSync(path).size;
  let best = { seconds: Infinity, cpu: Infinity, frames: 0 };
  let rssMax = 0;
  for (let run = 0; run < RUNS; run++) {
    const p = pass.make();
    const fd = openSync(path, 'r');
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      const n = readSync(fd, chunk, 0, READ_CHUNK, null);
      if (n === 0) break;
      p.push(n === READ_CHUNK ? chunk : chunk.subarray(0, n));
      const rss = process.memoryUsage.rss();
      if (rss > rssMax) rssMax = rss;
    }
    p.end();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    closeSync(fd);
    if (seconds < best.seconds) best = { seconds, cpu: (cu.user + cu.system) / 1e6, frames: p.frames() };
  }
  console.log(
    `${pass.name.padEnd(32)} ${(size / 1e6 / best.seconds).toFixed(0).padStart(6)} MB/s ` +
      `${(best.frames / best.seconds / 1e6).toFixed(2).padStart(5)} M packets/s  ` +
      `(${(size / 1e6 / best.cpu).toFixed(0)} MB per CPU-second)  max RSS during passes ${(rssMax / 1e6).toFixed(0)} MB`,
  );
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ca-shark-bench-'));
  const path = join(dir, 'bench.pcap');
  try {
    const g0 = Date.now();
    const gen = generate(path);
    console.log(
      `generated ${path}: ${(gen.bytes / 1e6).toFixed(0)} MB, ${gen.packets} packets in ${((Date.now() - g0) / 1000).toFixed(1)} s`,
    );

    console.log(
      `best of ${RUNS} runs each (wall clock; CPU time in brackets, which is what matters on a busy machine):`,
    );
    measure(path, {
      name: 'reader',
      make: () => {
        let frames = 0;
        const r = new CaptureReader({ frame: () => void frames++, problem: (p) => console.error(p.message) });
        return { push: (c) => r.push(c), end: () => r.end(), frames: () => frames };
      },
    });
    const pipeline = (transport: boolean, onEvent: (e: PacketEvent) => void) => () => {
      const p = new PacketPipeline({ onEvent, transport });
      return { push: (c: Uint8Array) => p.pushCapture(c), end: () => p.end(), frames: () => p.stats.frames };
    };
    const report = (e: PacketEvent): void => {
      if (e.type === 'problem') console.error(e.message);
    };
    measure(path, { name: 'reader + link + IPv4', make: pipeline(false, report) });
    let events = 0;
    let last: PacketPipeline | undefined;
    measure(path, {
      name: 'reader + link + IPv4 + TCP/UDP',
      make: () => {
        events = 0;
        const p = new PacketPipeline({ onEvent: () => void events++ });
        last = p;
        return { push: (c) => p.pushCapture(c), end: () => p.end(), frames: () => p.stats.frames };
      },
    });
    const s = (last as PacketPipeline).stats;
    console.log(
      `full pipeline: ${events} events, ${s.udp} UDP, ${s.tcp} TCP segments, ${s.tcpStats.flowsTotal} flows, ` +
        `${(s.tcpStats.bytes / 1e6).toFixed(0)} MB stream data, ${s.tcpStats.duplicateBytes} duplicate bytes, ` +
        `${s.tcpStats.outOfOrderSegments} out-of-order segments, ${s.tcpGaps} gaps, ${s.problems} problems`,
    );
    console.log(`peak RSS of the process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main();
