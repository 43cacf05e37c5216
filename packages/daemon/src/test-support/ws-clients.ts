/**
 * Benchmark WebSocket clients in a process of their own: N `ws` clients on URL for SECONDS, parsing every
 * frame as the dashboard does. Prints per-client record counts, records sampled out (matched but not sent),
 * and the latency from each record's capture timestamp (kernel time) to its arrival here.
 * Usage: ws-clients.ts URL N SECONDS
 */
import WebSocket from 'ws';

const [url, nText, secondsText] = process.argv.slice(2);
const n = Number(nText);
const seconds = Number(secondsText);
const results = Array.from({ length: n }, () => ({ records: 0, sampledOut: 0, bytes: 0 }));
const latencies: number[] = [];
let measuring = false;

const sockets = results.map((r, i) => {
  const ws = new WebSocket(url);
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { type: string; records?: { t: number }[]; matched?: number };
    if (!measuring) return;
    r.bytes += data.length;
    if (msg.type === 'records' && msg.records !== undefined) {
      r.records += msg.records.length;
      r.sampledOut += (msg.matched ?? msg.records.length) - msg.records.length;
      if (i === 0) {
        const now = Date.now() / 1000;
        for (const rec of msg.records) latencies.push(now - rec.t);
      }
    }
  });
  return new Promise<WebSocket>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
});

const opened = await Promise.all(sockets);
process.stdout.write('ready\n');
measuring = true;
const start = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
measuring = false;
const elapsed = (performance.now() - start) / 1000;
for (const ws of opened) ws.terminate();
latencies.sort((a, b) => a - b);
const q = (p: number): number | null =>
  latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
process.stdout.write(
  JSON.stringify({
    seconds: elapsed,
    clients: results,
    latency: { count: latencies.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
  }) + '\n',
);
