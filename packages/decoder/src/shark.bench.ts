/**
 * shark() over a capture file: iterates every record (no output) and prints messages/s, MB/s, CPU
 * seconds and peak RSS. Use it on real or realistic captures, where the synthetic decoder bench (small,
 * alike messages) overstates the rate.
 *
 *   pnpm --filter @ca-shark/decoder bench:file -- /tmp/caps/realistic.pcap [more.pcap ...]
 *   CA_SHARK_BENCH_CAPTURE=/tmp/caps/real100.pcap pnpm --filter @ca-shark/decoder bench:file
 *
 * Each file is decoded twice (the first pass includes JIT warm-up); figures are labelled "realistic"
 * since they come from a capture file, unlike the synthetic bench's generated messages.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { shark } from './shark.js';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0 && process.env.CA_SHARK_BENCH_CAPTURE) files.push(process.env.CA_SHARK_BENCH_CAPTURE);
if (files.length === 0) {
  console.error('usage: shark.bench.ts CAPTURE... (or CA_SHARK_BENCH_CAPTURE=path)');
  process.exit(2);
}

interface Pass {
  records: number;
  malformed: number;
  elements: number;
  wall: number;
  cpu: number;
}

/** One shark() pass touching every record (and the length of its DBR data) so nothing is dead code. */
async function pass(file: string): Promise<Pass> {
  let records = 0;
  let malformed = 0;
  let elements = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for await (const r of shark(file)) {
    records++;
    if (r.command.id === -1) malformed++;
    const data = 'data' in r.command ? r.command.data : undefined;
    if (data !== undefined) elements += data.length;
  }
  const cpu = process.cpuUsage(cpu0);
  return { records, malformed, elements, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

for (const file of files) {
  const size = statSync(file).size;
  for (const label of ['first pass (includes JIT warm-up)', 'second pass']) {
    const p = await pass(file);
    // maxRSS is the process peak so far (KiB): the second pass shows whether memory grew with it.
    const peak = process.resourceUsage().maxRSS / 1024;
    console.log(
      `realistic shark() ${basename(file)} (${(size / 1e6).toFixed(1)} MB), ${label}: ${p.records} records ` +
        `(${p.malformed} malformed, ${p.elements} DBR elements) in ${p.wall.toFixed(2)} s wall, ${p.cpu.toFixed(2)} s CPU: ` +
        `${Math.round(p.records / p.cpu).toLocaleString('en')} msgs/s and ${(size / 1e6 / p.cpu).toFixed(0)} MB/s per CPU second ` +
        `(${Math.round(p.records / p.wall).toLocaleString('en')} msgs/s, ${(size / 1e6 / p.wall).toFixed(0)} MB/s wall), ` +
        `peak RSS ${peak.toFixed(0)} MiB`,
    );
  }
}
