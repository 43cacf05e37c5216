/**
 * What the packet ring costs the decoding worker: a capture is decoded in this one thread as the worker
 * decodes it (packed into 1 MiB frame batches, the engine's analysis, the ring watching), with or without
 * the ring, and the process's CPU time (every thread: garbage collection runs on helper threads too), page
 * faults and peak RSS are printed. One mode per run, so runs of the modes can be interleaved.
 *
 *   node --conditions=source --import tsx src/packet-ring.bench.ts [CAPTURE] [--mode none|ring|prefaulted]
 *                                                                  [--ring-bytes N] [--ring-module PATH]
 *
 * `prefaulted`: the store's blocks are allocated and written before the clock starts, as the capture
 * thread does for the worker (their cost is printed apart). `--ring-module`: another tree's
 * packet-ring.ts (compare builds; a ring that keeps batch views gets beginBatch / endBatch around each
 * batch, and its buffers are reused as the worker hands them back).
 */
import { readFileSync } from 'node:fs';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { Engine } from './engine.js';
import { FramePacker, unpackFrames } from './frame-batch.js';
import { DEFAULT_PACKET_RING_BYTES, PacketRing, type PacketRingOptions } from './packet-ring.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const mode = option('--mode') ?? 'ring';
const ringBytes = Number(option('--ring-bytes') ?? DEFAULT_PACKET_RING_BYTES);
const ringModule = option('--ring-module');
const capture = args[0] ?? '/tmp/caps/realistic.pcap';

/** The ring as an older build may shape it (views into batches, leased per batch). */
interface AnyRing {
  record(record: unknown): void;
  beginBatch?(buffer: ArrayBufferLike): void;
  endBatch?(buffer: ArrayBufferLike): void;
  blockBytes?: number;
  blocksToCome?: number;
}
type RingClass = new (
  bytes: number,
  options?: PacketRingOptions | ((buffer: ArrayBufferLike) => void),
) => AnyRing & ConstructorParameters<typeof Engine>[0]['packets'];

const Ring: RingClass =
  ringModule === undefined
    ? (PacketRing as unknown as RingClass)
    : ((await import(ringModule)) as { PacketRing: RingClass }).PacketRing;

const faults = (): number => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
const bytes = readFileSync(capture);

let ring: (AnyRing & ConstructorParameters<typeof Engine>[0]['packets']) | undefined;
let prefaultMs = 0;
if (mode !== 'none') {
  const spare: Uint8Array[] = [];
  if (mode === 'prefaulted') {
    const probe = new Ring(ringBytes);
    const t0 = process.cpuUsage();
    // Every block the store will take for this capture, written once (the capture thread's work).
    const blocks = Math.min(probe.blocksToCome ?? 0, Math.ceil((bytes.length * 1.1) / (probe.blockBytes ?? 1)));
    for (let i = 0; i < blocks; i++) spare.push(new Uint8Array(probe.blockBytes ?? 0).fill(0));
    const c = process.cpuUsage(t0);
    prefaultMs = (c.user + c.system) / 1000;
  }
  ring = new Ring(
    ringBytes,
    ringModule === undefined ? { takeBlock: () => spare.pop() } : (b) => packer.recycle(b as ArrayBuffer),
  );
}
const engine = new Engine({
  describe: () => ({ kind: 'file', file: capture }),
  counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
  publish: (record) => ring?.record(record),
  hubStats: () => ({ clients: 0, dropped: 0 }),
  logger: pino({ level: 'silent' }),
  ...(ring !== undefined ? { packets: ring } : {}),
});
const packer = new FramePacker((buffer, length) => {
  ring?.beginBatch?.(buffer);
  unpackFrames(buffer, length, (linktype, timestamp, data, origlen, interfaceId) =>
    engine.frame(linktype, timestamp, data, origlen, interfaceId),
  );
  if (ring?.endBatch !== undefined) ring.endBatch(buffer);
  else packer.recycle(buffer);
});
const reader = new CaptureReader({
  frame: (f) => packer.add(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId),
  problem: () => undefined,
});
const faults0 = faults();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let at = 0; at < bytes.length; at += 64 * 1024) reader.push(bytes.subarray(at, at + 64 * 1024));
reader.end();
packer.flush();
engine.end();
const cpu = process.cpuUsage(cpu0);
const messages = engine.stats().messages;
process.stdout.write(
  JSON.stringify({
    capture,
    mode,
    ringModule: ringModule ?? 'this tree',
    messages,
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    usPerMessage: Math.round(((cpu.user + cpu.system) / messages) * 100) / 100,
    wallSeconds: Math.round(performance.now() - t0) / 1000,
    pageFaults: faults() - faults0,
    prefaultMs: Math.round(prefaultMs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n',
);
