#!/usr/bin/env node
/**
 * The NATS bench (`pnpm bench:nats`): one sensor replays a capture as fast as it decodes (`-r FILE --speed
 * max`) and publishes to a local `nats-server -js`, while a central consumes the stream; prints records per
 * second through the sensor and into the central, the central's lag behind the stream, bytes per record
 * (the batch encoding, and as stored by JetStream) and CPU of each process.
 *
 *   node dist/nats.js [--capture FILE]    (default /tmp/caps/real100.pcap)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { givenCapture } from './captures.js';
import { procCpuSeconds } from './load-plan.js';
import { freePort } from './ports.js';
import { renderGrid, thousands } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const DAEMON = join(ROOT, 'packages/daemon/dist/main.js');
/** Mostly small scalar monitor updates (records/s); /tmp/caps/realistic.pcap has large waveforms too. */
const DEFAULT_CAPTURE = '/tmp/caps/real100.pcap';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpu(child: ChildProcess): number {
  try {
    return procCpuSeconds(readFileSync(`/proc/${child.pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url);
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { capture: { type: 'string' } } });
  const file = values.capture ?? DEFAULT_CAPTURE;
  if (!existsSync(file))
    throw new Error(`no capture ${file}: give --capture FILE (e.g. one made by scripts/make-capture.sh)`);
  const capture = givenCapture(file);
  const store = mkdtempSync(join(tmpdir(), 'ca-shark-bench-nats-'));
  const natsPort = await freePort();
  const monitorPort = await freePort();
  const httpPort = await freePort();
  const url = `nats://127.0.0.1:${natsPort}`;
  const children: ChildProcess[] = [];
  const stopAll = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(store, { recursive: true, force: true });
  };
  process.once('exit', stopAll);
  try {
    const server = spawn(
      'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort), '-sd', store],
      { stdio: 'ignore' },
    );
    children.push(server);
    while ((await getJson(`http://127.0.0.1:${monitorPort}/healthz`)) === undefined) await sleep(100);

    const central = spawn(
      process.execPath,
      [DAEMON, '--subscribe', url, '--listen', `127.0.0.1:${httpPort}`, '--log-level', 'warn'],
      { stdio: 'ignore' },
    );
    children.push(central);
    type Sensor = { records: number; lagSeconds: number | null };
    const sensors = (): Promise<Sensor[] | undefined> => getJson<Sensor[]>(`http://127.0.0.1:${httpPort}/api/sensors`);
    while ((await sensors()) === undefined) await sleep(100);
    const centralCpu0 = cpu(central);

    const started = performance.now();
    const sensor = spawn(
      process.execPath,
      [
        DAEMON,
        '-r',
        capture.file,
        '--speed',
        'max',
        '--exit-on-eof',
        '--publish',
        url,
        '--sensor',
        'bench',
        '--no-dashboard',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(sensor);
    let log = '';
    sensor.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    let sensorCpu = 0;
    const lags: number[] = [];
    let sensorWall = 0;
    const exited = new Promise<void>((r) => sensor.once('exit', () => r()));
    let done = false;
    void exited.then(() => {
      sensorWall = (performance.now() - started) / 1000;
      done = true;
    });
    while (!done) {
      const c = cpu(sensor);
      if (Number.isFinite(c)) sensorCpu = c;
      const row = (await sensors())?.[0];
      if (row?.lagSeconds != null) lags.push(row.lagSeconds);
      await sleep(200);
    }
    const closed = /"msg":"publisher closed"/.test(log)
      ? (JSON.parse(log.split('\n').find((l) => l.includes('"publisher closed"')) as string) as {
          records: number;
          published: number;
          publishedBytes: number;
          unsent: number;
        })
      : undefined;
    if (closed === undefined) throw new Error(`the sensor did not report its publisher:\n${log.slice(-2000)}`);
    let row: Sensor | undefined;
    for (;;) {
      row = (await sensors())?.[0];
      if (row?.lagSeconds != null) lags.push(row.lagSeconds);
      if (row !== undefined && row.records >= closed.published) break;
      await sleep(100);
    }
    const total = (performance.now() - started) / 1000;
    const centralCpu = cpu(central) - centralCpu0;
    const jsz = await getJson<{ bytes: number; messages: number }>(`http://127.0.0.1:${monitorPort}/jsz`);
    const per = (n: number): string => (n / closed.published).toFixed(1);
    const sorted = [...lags].sort((a, b) => a - b);
    const p = (q: number): string =>
      sorted.length === 0 ? '-' : sorted[Math.floor(q * (sorted.length - 1))].toFixed(2);
    process.stdout.write(
      `NATS bench: ${capture.file} (${thousands(closed.records)} records), load ${loadavg()[0].toFixed(1)}\n` +
        renderGrid(
          ['figure', 'value'],
          [
            ['records published / unsent', `${thousands(closed.published)} / ${thousands(closed.unsent)}`],
            ['sensor: wall s, CPU s (decode + publish)', `${sensorWall.toFixed(2)}, ${sensorCpu.toFixed(2)}`],
            ['sensor: records/s (wall)', thousands(Math.round(closed.published / sensorWall))],
            ['central: all records in after s', total.toFixed(2)],
            ['end to end: records/s (wall)', thousands(Math.round(closed.published / total))],
            ['central: CPU s', centralCpu.toFixed(2)],
            ['central: lag behind the stream s (p50, p95, max)', `${p(0.5)}, ${p(0.95)}, ${p(1)}`],
            ['bytes/record: batch encoding', per(closed.publishedBytes)],
            ['bytes/record: stored by JetStream', jsz === undefined ? '-' : per(jsz.bytes)],
            ['JetStream messages (batches)', jsz === undefined ? '-' : thousands(jsz.messages)],
          ],
        ) +
        '\n',
    );
  } finally {
    stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:nats: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
