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
 * `CA_SHARK_BENCH_LOOP=ready` takes the records with `nextReady()` instead of `for await` (no promise and
 * microtask per record); `=both` runs both loops in turn. Each line also gives V8's young generation at
 * the end of the pass: it grows from 2 x 8 to 2 x 16 MiB on long captures (docs/performance.md,
 * "Session 14"), which is most of the difference in peak RSS between a short and a long capture.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { shark } from './shark.js';
import type { CaRecord } from './record.js';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0 && process.env.CA_SHARK_BENCH_CAPTURE) files.push(process.env.CA_SHARK_BENCH_CAPTURE);
if (files.length === 0) {
  console.error('usage: shark.bench.ts CAPTURE... (or CA_SHARK_BENCH_CAPTURE=path)');
  process.exit(2);
}

type Loop = 'await' | 'ready';
const LOOPS: Record<string, Loop[]> = { await: ['await'], ready: ['ready'], both: ['await', 'ready'] };
const loops = LOOPS[process.env.CA_SHARK_BENCH_LOOP ?? 'await'];
if (loops === undefined) {
  console.error('CA_SHARK_BENCH_LOOP must be await, ready or both');
  process.exit(2);
}

interface Pass {
  records: number;
  malformed: number;
  elements: number;
  wall: number;
  cpu: number;
}

/** What a pass counts of each record (and the length of its DBR data) so nothing is dead code. */
class Tally {
  records = 0;
  malformed = 0;
  elements = 0;

  add(r: CaRecord): void {
    this.records++;
    if (r.command.id === -1) this.malformed++;
    const data = 'data' in r.command ? r.command.data : undefined;
    if (data !== undefined) this.elements += data.length;
  }
}

/** One shark() pass over every record, by `for await` or by `nextReady()` between awaited `next()` calls. */
async function pass(file: string, loop: Loop): Promise<Pass> {
  const tally = new Tally();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  if (loop === 'await') {
    for await (const r of shark(file)) tally.add(r);
  } else {
    const records = shark(file);
    for (let r = await records.next(); !r.done; r = await records.next())
      for (let record: CaRecord | undefined = r.value; record !== undefined; record = records.nextReady())
        tally.add(record);
  }
  const cpu = process.cpuUsage(cpu0);
  const { records, malformed, elements } = tally;
  return { records, malformed, elements, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** MiB of V8's young generation (both semi-spaces) now. */
function youngMiB(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return space === undefined ? 0 : space.space_size / (1 << 20);
}

for (const file of files) {
  const size = statSync(file).size;
  // Two passes of each loop; only the file's first pass pays the JIT warm-up.
  const passes = loops.flatMap((l) => [l, l]);
  for (const [i, loop] of passes.entries()) {
    const label = `${i === 0 ? 'first pass (includes JIT warm-up)' : `pass ${i + 1}`}, ${loop === 'await' ? 'for await' : 'nextReady()'}`;
    const p = await pass(file, loop);
    // maxRSS is the process peak so far (KiB): the second pass shows whether memory grew with it.
    const peak = process.resourceUsage().maxRSS / 1024;
    console.log(
      `realistic shark() ${basename(file)} (${(size / 1e6).toFixed(1)} MB), ${label}: ${p.records} records ` +
        `(${p.malformed} malformed, ${p.elements} DBR elements) in ${p.wall.toFixed(2)} s wall, ${p.cpu.toFixed(2)} s CPU: ` +
        `${Math.round(p.records / p.cpu).toLocaleString('en')} msgs/s and ${(size / 1e6 / p.cpu).toFixed(0)} MB/s per CPU second ` +
        `(${Math.round(p.records / p.wall).toLocaleString('en')} msgs/s, ${(size / 1e6 / p.wall).toFixed(0)} MB/s wall), ` +
        `peak RSS ${peak.toFixed(0)} MiB, young generation ${youngMiB().toFixed(0)} MiB`,
    );
  }
}
