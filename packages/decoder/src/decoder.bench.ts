/**
 * Decoder benchmark: writes a pcap of ≥ 1M mixed CA messages (TCP circuits with reads, writes, monitor
 * updates, and UDP searches) to a temporary file, then decodes it through createDecoder (the path shark()
 * uses) and prints messages/s, MB/s and peak RSS.
 *
 *   pnpm --filter @ca-shark/decoder bench            (or: npx tsx src/decoder.bench.ts [messages])
 */
import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { PacketPipeline, PcapWriter, TcpConversation } from '@ca-shark/packet';
import { createDecoder } from './decoder.js';
import type { CaRecord } from './record.js';

const target = Number(process.argv[2] ?? 1_000_000);
// CA_SHARK_BENCH_FILE=path keeps the generated capture there (and reuses it when present) for profiling.
const keep = process.env.CA_SHARK_BENCH_FILE;
const dir = keep ? '' : mkdtempSync(join(tmpdir(), 'ca-shark-bench-'));
const file = keep ?? join(dir, 'bench.pcap');

/** With a kept capture: the message count is what the decoder finds (checked against nothing). */
function countOnly(): number {
  return 0;
}

/** Generates the capture; returns the number of CA messages written. */
function generate(): number {
  const fd = openSync(file, 'w');
  const b = new PcapWriter();
  const flush = (): void => {
    for (const part of b.drain()) writeSync(fd, part);
  };
  let messages = 0;
  let t = 1_700_000_000;
  const circuits = 20;
  const pvsPerCircuit = 50;
  const conns: TcpConversation[] = [];
  // Searches and connections.
  for (let c = 0; c < circuits; c++) {
    const client = `10.1.${c >> 8}.${(c & 255) + 1}`;
    const server = `10.2.0.${(c % 5) + 1}`;
    for (let p = 0; p < pvsPerCircuit; p += 10) {
      const reqs = [build.versionRequest({ sequence: p })];
      const reps = [build.versionResponse({ sequence: p })];
      for (let k = p; k < p + 10; k++) {
        reqs.push(build.searchRequest({ name: `BENCH:C${c}:PV${k}`, cid: k }));
        reps.push(build.searchResponse({ cid: k }));
      }
      b.udp((t += 0.0001), client, 40000 + c, server, 5064, concatBytes(reqs));
      b.udp((t += 0.0001), server, 5064, client, 40000 + c, concatBytes(reps));
      messages += 22;
    }
    const conn = new TcpConversation(b, client, 50000 + c, server, 5064).open((t += 0.0001));
    const open = [
      build.versionRequest({ version: 13 }),
      build.clientNameRequest({ name: 'bench' }),
      build.hostNameRequest({ name: 'host' }),
    ];
    const openReply = [build.versionResponse({ version: 13 })];
    for (let k = 0; k < pvsPerCircuit; k++) {
      open.push(build.createChanRequest({ name: `BENCH:C${c}:PV${k}`, cid: k }));
      openReply.push(build.accessRightsResponse({ cid: k, access_rights: 3 }));
      openReply.push(build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: k, sid: 1000 + k }));
      open.push(build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, sid: 1000 + k, subscriptionid: k, mask: 5 }));
    }
    conn.send((t += 0.0001), true, concatBytes(open));
    conn.send((t += 0.0001), false, concatBytes(openReply));
    messages += open.length + openReply.length;
    conns.push(conn);
  }
  // Steady state: per round and circuit, a batch of monitor updates, reads and writes.
  let ioid = 100_000;
  const update = (sub: number, v: number) =>
    build.eventAddResponse({
      data_type: DbrType.TIME_DOUBLE,
      data: [v],
      subscriptionid: sub,
      metadata: { timestamp: t },
    });
  while (messages < target) {
    for (const conn of conns) {
      const updates: Uint8Array[] = [];
      for (let k = 0; k < 8; k++) updates.push(update(k * 6, k + t));
      conn.send((t += 0.00001), false, concatBytes(updates));
      const reqs: Uint8Array[] = [];
      const reps: Uint8Array[] = [];
      for (let k = 0; k < 4; k++) {
        const id = ioid++;
        reqs.push(build.readNotifyRequest({ data_type: DbrType.TIME_DOUBLE, sid: 1000 + k, ioid: id }));
        reps.push(
          build.readNotifyResponse({ data_type: DbrType.TIME_DOUBLE, data: [k], ioid: id, metadata: { timestamp: t } }),
        );
      }
      const wid = ioid++;
      reqs.push(build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [1.5], sid: 1001, ioid: wid }));
      reps.push(build.writeNotifyResponse({ data_type: DbrType.DOUBLE, ioid: wid }));
      conn.send((t += 0.00001), true, concatBytes(reqs));
      conn.send((t += 0.00001), false, concatBytes(reps));
      messages += updates.length + reqs.length + reps.length;
    }
    if (b.frames % 1000 < 60) flush();
  }
  for (const conn of conns) conn.close((t += 0.001));
  flush();
  closeSync(fd);
  return messages;
}

const g0 = performance.now();
const reuse = keep !== undefined && existsSync(keep);
const written = reuse ? countOnly() : generate();
// The generator's garbage is not the decoder's: collect it before anything is timed. Left to V8, its
// marking ran during the timed passes in about half the runs and halved every rate in those runs.
(globalThis as { gc?: () => void }).gc?.();
const baseline = packetBaseline();
const size = statSync(file).size;
console.log(
  reuse
    ? `reusing ${file}, ${(size / 1e6).toFixed(1)} MB`
    : `generated ${written} CA messages, ${(size / 1e6).toFixed(1)} MB in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
);

/** Seconds the packet layer alone needs for the file (no CA decoding), to show what the decoder adds. */
function packetBaseline(): number {
  const p = new PacketPipeline({ onEvent: () => {} });
  const buf = new Uint8Array(1 << 20);
  const f = openSync(file, 'r');
  const t = process.cpuUsage();
  for (;;) {
    const n = readSync(f, buf, 0, buf.length, null);
    if (n === 0) break;
    p.pushCapture(buf.subarray(0, n));
  }
  p.end();
  closeSync(f);
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1e6;
}

interface Pass {
  records: number;
  malformed: number;
  wall: number;
  cpu: number;
  peakRss: number;
  /** RSS after each quarter of the file, to show memory stays flat. */
  quarters: number[];
  /** Live heap after a full GC at each quarter (only with --expose-gc). */
  live: number[];
}

const gc = (globalThis as { gc?: () => void }).gc;
/** Records kept at once, about what shark() holds between two reads. */
const KEPT_RECORDS = 4096;

/** Decodes the file once through createDecoder (the engine under shark()) and measures it. */
function pass(measureLive: boolean): Pass {
  let records = 0;
  let malformed = 0;
  // Records are kept a while, as shark()'s queue and every real consumer keep them: a callback that drops
  // them at once lets TurboFan's escape analysis skip building them, and the bench then times a decoder
  // that makes no records.
  const kept: CaRecord[] = [];
  const decoder = createDecoder({
    onRecord: (r) => {
      records++;
      if (r.command.id === -1) malformed++;
      kept.push(r);
      if (kept.length === KEPT_RECORDS) kept.length = 0;
    },
  });
  const chunk = new Uint8Array(1 << 20);
  const fd = openSync(file, 'r');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let peakRss = process.memoryUsage.rss();
  const quarters: number[] = [];
  const live: number[] = [];
  let read = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    decoder.pushCapture(chunk.subarray(0, n));
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    read += n;
    if (read >= ((quarters.length + 1) * size) / 4) {
      quarters.push(rss);
      if (gc && measureLive) {
        gc();
        live.push(process.memoryUsage().heapUsed);
      }
    }
  }
  decoder.end();
  closeSync(fd);
  // CPU time of this process: the honest "one core" figure when other work shares the machine.
  const cpu = process.cpuUsage(cpu0);
  return {
    records,
    malformed,
    wall: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    peakRss,
    quarters,
    live,
  };
}

const rssBefore = process.memoryUsage.rss();
// Live-heap probes (full GCs) only in the first pass, so the second one measures throughput alone.
const cold = pass(true);
const warm = pass(false);
if (!keep) rmSync(dir, { recursive: true, force: true });
const fmt = (name: string, p: Pass) =>
  `${name}: ${p.records} records (${p.malformed} malformed) in ${p.wall.toFixed(2)} s wall, ${p.cpu.toFixed(2)} s CPU: ` +
  `${Math.round(p.records / p.wall).toLocaleString('en')} messages/s wall, ` +
  `${Math.round(p.records / p.cpu).toLocaleString('en')} messages/s per CPU second, ${(size / 1e6 / p.wall).toFixed(0)} MB/s, ` +
  `peak RSS ${(p.peakRss / 1048576).toFixed(0)} MiB (by quarter: ${p.quarters.map((q) => (q / 1048576).toFixed(0)).join(', ')} MiB)` +
  (p.live.length
    ? `, live heap after GC by quarter: ${p.live.map((q) => (q / 1048576).toFixed(1)).join(', ')} MiB`
    : '');
console.log(
  `packet layer alone: ${baseline.toFixed(2)} s CPU; RSS before decoding ${(rssBefore / 1048576).toFixed(0)} MiB`,
);
console.log(fmt('first pass (includes JIT warm-up)', cold));
console.log(fmt('second pass', warm));
const records = warm.records;
if (records < written) {
  console.error(`expected ${written} records`);
  process.exitCode = 1;
}
