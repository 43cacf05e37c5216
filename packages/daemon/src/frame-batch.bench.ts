/**
 * The capture thread's frame packing under a lagging decoder: a capture's frames are packed into batches of
 * one 10 ms tick of traffic (`--tick-bytes`, default 312,000: 250 Mbit/s), each batch is transferred (as
 * postMessage does) to a consumer that holds them in flight while its backlog swings from none up to
 * `--in-flight` batches (default 100: the second of lag a starved worker builds in the load bench) and then
 * hands them all back. Prints the CPU time of the process and the batch buffers allocated: what fresh
 * memory costs the capture thread when spare buffers are let go between swings.
 *
 *   node --conditions=source --import tsx src/frame-batch.bench.ts [CAPTURE] [--in-flight N] [--passes N]
 *                                                                   [--tick-bytes N] [--module PATH]
 *
 * `--module`: another tree's frame-batch.ts (or .js), to compare builds with the same script.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readCapture } from '@ca-shark/packet';
import type * as FrameBatch from './frame-batch.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const maxInFlight = Number(option('--in-flight') ?? 100);
const passes = Number(option('--passes') ?? 3);
const tickBytes = Number(option('--tick-bytes') ?? 312_000);
const modulePath = option('--module');
const capture = args[0] ?? '/tmp/caps/realistic.pcap';
const { FramePacker } = (await import(
  modulePath === undefined ? './frame-batch.js' : pathToFileURL(modulePath).href
)) as typeof FrameBatch;

const frames: { data: Uint8Array; timestamp: number; origlen: number }[] = [];
for await (const item of readCapture(readFileSync(capture)))
  if (item.type === 'frame') frames.push({ data: item.data.slice(), timestamp: item.timestamp, origlen: item.origlen });

const inFlight: ArrayBuffer[] = [];
let swingTo = maxInFlight;
const packer = new FramePacker((buffer) => {
  // What postMessage does to a transferred buffer: the packer's is detached, the receiver gets a new one.
  inFlight.push(structuredClone(buffer, { transfer: [buffer] }));
  if (inFlight.length < swingTo) return;
  // The worker caught up: every batch comes back, and the next swing starts.
  for (const b of inFlight.splice(0)) packer.recycle(b);
  swingTo = maxInFlight;
}, 1024 * 1024);

const cpu0 = process.cpuUsage();
let tick = 0;
for (let pass = 0; pass < passes; pass++)
  for (const f of frames) {
    packer.add(1, f.timestamp, f.data, f.origlen);
    tick += f.data.length;
    if (tick >= tickBytes) {
      packer.flush();
      tick = 0;
    }
  }
packer.flush();
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    capture,
    module: modulePath ?? 'this tree',
    inFlight: maxInFlight,
    frames: frames.length * passes,
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    systemSeconds: Number((cpu.system / 1e6).toFixed(3)),
    buffersAllocated: packer.buffersAllocated,
  }),
);
