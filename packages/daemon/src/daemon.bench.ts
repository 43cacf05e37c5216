/**
 * `pnpm bench` for ca-sharkd (run as root: it captures on lo). Prints, and writes as JSON to
 * bench-data/daemon.json (git-ignored):
 *  1. sustained live decode rate on lo, stepping the offered rate up until libpcap reports drops, with the
 *     event-loop delay and /api/health latency at each step (the worker-thread question);
 *  2. WebSocket fan-out rate to 1 and to 10 clients (clients in another process, parsing JSON);
 *  3. packet-to-client latency: kernel capture timestamp to arrival at a WebSocket client;
 *  4. file and stdin ingest of a 100 MB capture at full speed (ingest.bench.ts): nothing may be dropped.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { shark } from '@ca-shark/decoder';
import { type WireRecord, toWire } from './engine.js';
import { MAX_CLIENT_RATE } from './hub.js';
import { ingestBench } from './ingest.bench.js';
import type { RunningDaemon } from './server.js';
import { freeUdpPort, startTestDaemon } from './test-support/daemon.js';

const SUPPORT = (name: string): string => fileURLToPath(new URL(`./test-support/${name}`, import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../packet/fixtures/ca_monitor2.pcapng', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../bench-data/', import.meta.url));
const quick = process.env.BENCH_QUICK === '1';

/** Runs a support script in its own node process; resolves with its last stdout line as JSON. */
function child(script: string, args: (string | number)[], onReady?: () => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', SUPPORT(script), ...args.map(String)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onReady !== undefined && out.includes('ready\n')) {
        const ready = onReady;
        onReady = undefined;
        ready();
      }
    });
    p.once('error', reject);
    p.once('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${script} exited ${code}`));
      else resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls /api/health over real HTTP while `until` is pending; returns the slowest answer in ms. */
async function healthLatency(d: RunningDaemon, until: Promise<unknown>): Promise<number> {
  let worst = 0;
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const t0 = performance.now();
    await fetch(`${d.url}/api/health`).then((r) => r.json());
    worst = Math.max(worst, performance.now() - t0);
    await sleep(20);
  }
  return worst;
}

async function liveDecodeRate(): Promise<Record<string, unknown>[]> {
  const serverPort = await freeUdpPort();
  // Only the benchmark's datagrams: other processes' loopback TCP would otherwise be decoded too.
  const d = await startTestDaemon([
    '-i',
    'lo',
    '--ports',
    `${serverPort},${serverPort + 1}`,
    '--buffer-size',
    '32M',
    '-f',
    `udp port ${serverPort}`,
  ]);
  const steps: Record<string, unknown>[] = [];
  const perDatagram = 10;
  const seconds = quick ? 1 : 3;
  try {
    for (const rate of quick ? [2000, 8000] : [2000, 5000, 10000, 20000, 40000, 80000]) {
      d.engine.poll();
      const before = d.engine.stats();
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const blast = child('blaster.ts', [serverPort, rate, seconds, perDatagram]);
      const health = await healthLatency(d, blast);
      const sent = await blast;
      // Let the worker finish the backlog so the counters cover the whole step.
      await sleep(1000);
      loop.disable();
      d.engine.poll();
      const after = d.engine.stats();
      const step = {
        offeredDatagramsPerSecond: rate,
        offeredMessagesPerSecond: rate * (perDatagram + 1),
        sentDatagrams: sent.sent,
        // libpcap sees each loopback packet twice (out and in).
        libpcapReceived: after.capture.received - before.capture.received,
        decodedPackets: after.packets - before.packets,
        decoderDropped: after.decoderDropped - before.decoderDropped,
        decodedMessagesPerSecond: Math.round((after.messages - before.messages) / (sent.seconds as number)),
        libpcapDropped:
          after.capture.dropped + after.capture.ifDropped - before.capture.dropped - before.capture.ifDropped,
        eventLoopDelayMaxMs: Math.round(loop.max / 1e5) / 10,
        eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e5) / 10,
        healthWorstMs: Math.round(health * 10) / 10,
      };
      steps.push(step);
      process.stderr.write(`live: ${JSON.stringify(step)}\n`);
      if (step.libpcapDropped > 0 || step.decoderDropped > 0) break;
    }
  } finally {
    await d.shutdown('bench');
  }
  return steps;
}

/**
 * Fan-out: records offered to the hub at a paced rate (every 10 ms a slice) while N clients in another
 * process receive and parse them; the rate steps up until a client is sent a sample instead of everything.
 */
async function fanOut(clients: number): Promise<Record<string, unknown>> {
  const records: WireRecord[] = [];
  for await (const r of shark(FIXTURE, { keepBytes: true })) records.push(toWire(r, records.length + 1));
  const meanBytes = Math.round(records.reduce((s, r) => s + r.length, 0) / records.length);
  const steps: Record<string, unknown>[] = [];
  const seconds = quick ? 2 : 3;
  for (const rate of quick ? [10_000, 40_000] : [10_000, 20_000, 40_000, 80_000, 160_000]) {
    // At the most a client may ask for: this measures what fan-out sustains, not the default sampling cap.
    const d = await startTestDaemon(['--stdin'], {
      input: new PassThrough(),
      tickMs: 100,
      hub: { maxRecordsPerSecond: MAX_CLIENT_RATE },
    });
    let published = 0;
    let ready!: () => void;
    const readyP = new Promise<void>((r) => (ready = r));
    const result = child('ws-clients.ts', [d.url.replace(/^http/, 'ws') + '/ws', clients, seconds], ready);
    await readyP;
    const t0 = performance.now();
    const sentBefore = d.hub.stats().sent;
    const pump = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (published < due) d.hub.publish([records[published++ % records.length]]);
    }, 10);
    const res = await result;
    clearInterval(pump);
    const sentByDaemon = d.hub.stats().sent - sentBefore;
    const pumpSeconds = (performance.now() - t0) / 1000;
    await d.shutdown('bench');
    const perClient = res.clients as { records: number; sampledOut: number; bytes: number }[];
    const secs = res.seconds as number;
    const delivered = perClient.reduce((s, c) => s + c.records, 0) / clients / secs;
    const step = {
      clients,
      offeredRecordsPerSecond: rate,
      // Records the daemon handed to its sockets (all clients), per second: the daemon's side of fan-out.
      sentByDaemonPerSecond: Math.round(sentByDaemon / pumpSeconds),
      deliveredPerClientPerSecond: Math.round(delivered),
      deliveredTotalPerSecond: Math.round(delivered * clients),
      sampledOutPerClient: Math.round(perClient.reduce((s, c) => s + c.sampledOut, 0) / clients),
      megabytesPerSecondPerClient: Math.round(perClient.reduce((s, c) => s + c.bytes, 0) / clients / secs / 1e5) / 10,
      meanRecordBytes: meanBytes,
    };
    steps.push(step);
    process.stderr.write(`fan-out: ${JSON.stringify(step)}\n`);
    if (step.sampledOutPerClient > 0) break;
  }
  return { clients, steps };
}

async function latency(): Promise<Record<string, unknown>> {
  const serverPort = await freeUdpPort();
  const d = await startTestDaemon(['-i', 'lo', '--ports', `${serverPort},${serverPort + 1}`], {
    tickMs: 100,
    snapshotMs: 1000,
  });
  const seconds = quick ? 2 : 5;
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const clients = child('ws-clients.ts', [d.url.replace(/^http/, 'ws') + '/ws', 1, seconds], ready);
  await readyP;
  const blast = child('blaster.ts', [serverPort, 200, seconds - 0.5, 1]);
  const res = await clients;
  await blast;
  await d.shutdown('bench');
  const lat = res.latency as Record<string, number | null>;
  const ms = (v: number | null): number | null => (v === null ? null : Math.round(v * 10000) / 10);
  const summary = {
    tickMs: 100,
    samples: lat.count,
    p50Ms: ms(lat.p50),
    p90Ms: ms(lat.p90),
    p99Ms: ms(lat.p99),
    maxMs: ms(lat.max),
  };
  process.stderr.write(`latency: ${JSON.stringify(summary)}\n`);
  return summary;
}

if (process.getuid?.() !== 0) {
  process.stderr.write('ca-sharkd bench: needs root (live capture on lo); skipped\n');
  process.exit(0);
}
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverageAtStart: loadavg()[0],
  live: await liveDecodeRate(),
  fanOut: [await fanOut(1), await fanOut(10)],
  latency: await latency(),
  ingest: await ingestBench(),
};
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(`${OUT_DIR}daemon.json`, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
