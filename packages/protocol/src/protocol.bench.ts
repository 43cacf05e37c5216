/**
 * Throughput of the CA wire layer: generates ≥ 1M mixed CA messages in memory with the encoder (two TCP
 * directions, as a busy circuit carries them), then deframes and decodes them and prints messages/s,
 * MB/s and peak RSS. Run: `pnpm --filter @ca-shark/protocol bench` (optionally `-- <messages>`).
 */
import { decodeCommand, Deframer, build, concatBytes, DbrType, type CaFrame, type Role } from './index.js';

const target = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 1448; // a typical TCP segment payload

// Deterministic choice (mulberry32) so every run measures the same bytes.
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// [weight, message]: monitors dominate real traffic; then reads, writes, echoes, channel setup.
const requests: [number, Uint8Array][] = [
  [20, build.readNotifyRequest({ data_type: DbrType.TIME_DOUBLE, data_count: 1, sid: 42, ioid: 7 })],
  [10, build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [1.25], sid: 42, ioid: 8 })],
  [5, build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, data_count: 0, sid: 42, subscriptionid: 3, mask: 5 })],
  [5, build.eventCancelRequest({ data_type: DbrType.TIME_DOUBLE, sid: 42, subscriptionid: 3 })],
  [5, build.echoRequest()],
  [5, build.createChanRequest({ name: 'SR:C01-BI{DCCT:1}I:Real-I', cid: 11 })],
  [3, build.clearChannelRequest({ sid: 42, cid: 11 })],
  [2, build.versionRequest({ priority: 0 })],
  [2, build.clientNameRequest({ name: 'operator' })],
  [1, build.writeRequest({ data_type: DbrType.STRING, data: ['hello'], sid: 42, ioid: 11 })],
];
const responses: [number, Uint8Array][] = [
  [
    40,
    build.eventAddResponse({
      data_type: DbrType.TIME_DOUBLE,
      data: [3.5],
      subscriptionid: 3,
      metadata: { timestamp: 1.7e9 },
    }),
  ],
  [10, build.eventAddResponse({ data_type: DbrType.TIME_LONG, data: [1, 2, 3, 4, 5, 6, 7, 8], subscriptionid: 4 })],
  [5, build.eventAddResponse({ data_type: DbrType.TIME_ENUM, data: [1], subscriptionid: 5 })],
  [5, build.eventAddResponse({ data_type: DbrType.TIME_STRING, data: ['RUNNING'], subscriptionid: 6 })],
  [15, build.readNotifyResponse({ data_type: DbrType.TIME_DOUBLE, data: [2.5], ioid: 7 })],
  [
    3,
    build.readNotifyResponse({
      data_type: DbrType.CTRL_DOUBLE,
      data: [2.5],
      ioid: 9,
      metadata: { units: 'mA', precision: 3 },
    }),
  ],
  [10, build.writeNotifyResponse({ data_type: DbrType.DOUBLE, ioid: 8 })],
  [5, build.echoResponse()],
  [3, build.accessRightsResponse({ cid: 11, access_rights: 3 })],
  [3, build.createChanResponse({ data_type: 6, data_count: 1, cid: 11, sid: 42 })],
  [1, build.eventCancelResponse({ data_type: DbrType.TIME_DOUBLE, sid: 42, subscriptionid: 3 })],
];

function generate(pool: [number, Uint8Array][], n: number): Uint8Array {
  const total = pool.reduce((s, [w]) => s + w, 0);
  const picks: Uint8Array[] = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    let r = rand() * total;
    let j = 0;
    while (r >= pool[j][0]) r -= pool[j++][0];
    picks[i] = pool[j][1];
  }
  return concatBytes(picks);
}

const half = Math.ceil(target / 2);
const t0 = performance.now();
const streams: [Uint8Array, Role][] = [
  [generate(requests, half), 'request'],
  [generate(responses, target - half), 'response'],
];
const genMs = performance.now() - t0;
const totalBytes = streams.reduce((s, [b]) => s + b.length, 0);

function run(decode: boolean): { messages: number; faults: number; ms: number; check: number } {
  let messages = 0;
  let faults = 0;
  let check = 0;
  const start = performance.now();
  for (const [bytes, role] of streams) {
    const d = new Deframer();
    const onFrame = decode
      ? (f: CaFrame) => {
          const c = decodeCommand(f, role);
          messages++;
          check += c.id;
        }
      : (f: CaFrame) => {
          messages++;
          check += f.command;
        };
    const onFault = () => {
      faults++;
    };
    for (let o = 0; o < bytes.length; o += CHUNK) d.push(bytes.subarray(o, o + CHUNK), onFrame, onFault);
    d.end(onFrame, onFault);
  }
  return { messages, faults, ms: performance.now() - start, check };
}

function report(label: string, r: { messages: number; faults: number; ms: number }): void {
  const s = r.ms / 1000;
  console.log(
    `${label.padEnd(18)} ${r.messages.toLocaleString('en')} messages in ${r.ms.toFixed(0)} ms: ` +
      `${Math.round(r.messages / s).toLocaleString('en')} msgs/s, ${(totalBytes / 1e6 / s).toFixed(1)} MB/s` +
      (r.faults ? `, ${r.faults} faults (unexpected!)` : ''),
  );
}

console.log(
  `generated ${target.toLocaleString('en')} messages, ${(totalBytes / 1e6).toFixed(1)} MB, in ${genMs.toFixed(0)} ms; ` +
    `deframing in ${CHUNK}-byte chunks`,
);
// One warm-up pass each, so the JIT has seen the code before it is measured.
run(false);
report('deframe', run(false));
run(true);
report('deframe + decode', run(true));
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`peak RSS ${rss.toFixed(0)} MiB (input buffers ${(totalBytes / 1048576).toFixed(0)} MiB)`);
