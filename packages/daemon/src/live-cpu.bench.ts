/**
 * CPU per message of the daemon's live path with clients reading: `ca-sharkd --stdin` is started, two
 * WebSocket clients connect (one at the default 2,000 records/s, like the dashboard, one asking for 20,000/s
 * like the load bench's reader), then a capture is piped in as fast as the daemon takes it. Prints the
 * messages decoded and the CPU seconds of the daemon's main thread and of its decoding worker (from
 * /proc/PID/task), and µs of CPU per message: figures that hold on a loaded machine, where wall time does not.
 *
 *   node --conditions=source --import tsx src/live-cpu.bench.ts [CAPTURE] [DAEMON_MAIN_JS] [--rates R1,R2]
 *                                                                [--daemon-args '--history 0']
 *
 * Defaults: /tmp/caps/realistic.pcap, this tree's dist/main.js (pass another tree's to compare builds) and
 * rates 2000,20000 (`--rates ''` for no client). On a starved machine the daemon decodes far below the
 * load bench's 85k msgs/s; lower rates (e.g. 200,500) keep the ratio of offered to read records.
 */
import { spawn } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const ratesAt = args.indexOf('--rates');
const rates = (ratesAt >= 0 ? args.splice(ratesAt, 2)[1] : '2000,20000')
  .split(',')
  .filter((r) => r !== '')
  .map(Number);
const extraAt = args.indexOf('--daemon-args');
/** More options for the daemon, split at spaces (e.g. `--history 0` to compare without held records). */
const extra = extraAt >= 0 ? (args.splice(extraAt, 2)[1] ?? '').split(' ').filter((a) => a !== '') : [];
const capture = args[0] ?? '/tmp/caps/realistic.pcap';
const daemon = args[1] ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // clock ticks per second (/proc stat times)

/** CPU seconds per thread of `pid`: the main thread (tid = pid) and the busiest other one (the worker). */
function threadCpu(pid: number): { main: number; worker: number; all: number } {
  let main = 0;
  let worker = 0;
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
    all += cpu;
    if (Number(tid) === pid) main = cpu;
    else if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== 'node' || cpu > worker)
      worker = Math.max(worker, cpu);
  }
  return { main, worker, all };
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const child = spawn(
  process.execPath,
  [daemon, '--stdin', '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', ...extra],
  {
    stdio: ['pipe', 'ignore', 'inherit'],
  },
);
const pid = child.pid as number;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/api/health`)).ok) break;
  } catch {
    if (i > 300) throw new Error('the daemon did not start');
  }
  await sleep(100);
}
let received = 0;
const sockets: WebSocket[] = [];
for (const rate of rates) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { origin: url } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'rate', recordsPerSecond: rate }));
  ws.on('message', (data) => {
    const text = String(data);
    if (text.startsWith('{"type":"records"')) received += (JSON.parse(text) as { sent: number }).sent;
  });
  sockets.push(ws);
}
await sleep(500);
const before = threadCpu(pid);
const t0 = performance.now();
createReadStream(capture).pipe(child.stdin);
let stats: { messages: number } = { messages: 0 };
for (;;) {
  await sleep(200);
  const health = (await (await fetch(`${url}/api/health`)).json()) as { eof: boolean };
  if (health.eof) {
    stats = (await (await fetch(`${url}/api/stats`)).json()) as { messages: number };
    break;
  }
}
const seconds = (performance.now() - t0) / 1000;
const after = threadCpu(pid);
const us = (s: number): string => ((s * 1e6) / stats.messages).toFixed(1);
const main = after.main - before.main;
const worker = after.worker - before.worker;
const all = after.all - before.all;
console.log(
  JSON.stringify({
    capture,
    rates,
    messages: stats.messages,
    recordsReceived: received,
    wallSeconds: Math.round(seconds * 10) / 10,
    cpuSeconds: { main, worker, all: Math.round(all * 100) / 100 },
    usPerMessage: { main: us(main), worker: us(worker), all: us(all) },
  }),
);
for (const ws of sockets) ws.close();
child.kill('SIGTERM');
