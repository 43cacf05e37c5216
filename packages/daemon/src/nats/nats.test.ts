/**
 * Sensors and a central through a real `nats-server -js` (installed by scripts/setup.sh): every record
 * arrives once with its sensor's name, a restarted central resumes where it stopped, a sensor buffers
 * while NATS is down and catches up, and a sensor killed mid-stream costs nothing but its unsent tail.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../cli.js';
import { type RunningDaemon, startDaemon } from '../server.js';
import { TestClient, freeTcpPort, freeUdpPort, startTestDaemon } from '../test-support/daemon.js';
import { NatsServer, haveNatsServer, until } from '../test-support/nats-server.js';
import { DAEMON_MAIN } from '../test-support/programs.js';
import type { SensorView } from './central.js';
import type { CentralSource } from './source.js';
import type { PublisherCounters } from './publisher.js';

const fixture = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const CATEST = fixture('packet/fixtures/catest.pcap');
const LIBCA = fixture('decoder/fixtures/libca-sim.pcap');
const MONITOR = fixture('packet/fixtures/ca_monitor2.pcapng');

const available = haveNatsServer();
const isRoot = process.getuid?.() === 0;
if (!available) console.warn('nats.test.ts skipped: nats-server is not installed (scripts/setup.sh installs it)');

/** A live record as the central streams it, without its central-wide id. */
type Row = Record<string, unknown>;
const key = (r: Row): string => JSON.stringify({ ...r, id: undefined, sensor: undefined });

/** Collects every record a daemon decodes, parsed. */
function collect(d: RunningDaemon): Row[] {
  const rows: Row[] = [];
  d.engine.onRecord((w) => rows.push(JSON.parse(w) as Row));
  return rows;
}

/** The same multiset of records: every record once, none twice. */
function expectSameRecords(got: Row[], want: Row[]): void {
  expect(got.length).toBe(want.length);
  expect(got.map(key).sort()).toEqual(want.map(key).sort());
}

async function sensorsOf(central: RunningDaemon): Promise<SensorView[]> {
  return (await central.app.inject('/api/sensors')).json<SensorView[]>();
}

/** Replays a capture as sensor `name` and waits until it published everything and exited. */
async function replaySensor(url: string, name: string, file: string): Promise<Row[]> {
  const sensor = await startTestDaemon(['-r', file, '--speed', 'max', '--publish', url, '--sensor', name]);
  const rows = collect(sensor);
  await sensor.engine.whenEnded();
  await sensor.shutdown('test: input ended');
  return rows;
}

let nats: NatsServer;
const running: RunningDaemon[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (available) nats = await NatsServer.start();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of running.splice(0)) await d.shutdown('test done');
  await nats?.dispose();
});

async function central(args: string[] = []): Promise<RunningDaemon> {
  const d = await startTestDaemon(['--subscribe', nats.url, ...args]);
  running.push(d);
  // The daemon serves before its consumer has reached NATS. Records wait in the stream, but a sensor's
  // status goes over core NATS, which keeps nothing: a replay shorter than the status period sends one
  // status, at its end, and on a loaded machine that could come before the central subscribed (its
  // sensors row then had no source and no unsent count).
  await (d.source as CentralSource).whenConnected();
  return d;
}

async function stop(d: RunningDaemon): Promise<void> {
  running.splice(running.indexOf(d), 1);
  await d.shutdown('test: stop');
}

describe.skipIf(!available)('sensors and a central through NATS JetStream', { timeout: 300_000 }, () => {
  it('merges two replaying sensors and a live one: every record once, with its sensor name', async () => {
    const c = await central(['--central-name', 'merge']);
    const got = collect(c);
    // A page filtering on one sensor.
    const page = await TestClient.open(c.url);
    await page.until('hello', () => page.frames.find((f) => f.type === 'hello'));
    page.send({ type: 'subscribe', filter: { sensor: ['b'] } });
    await page.until('subscribed', () => page.frames.find((f) => f.type === 'subscribed'));
    const a = await replaySensor(nats.url, 'a', CATEST);
    const b = await replaySensor(nats.url, 'b', LIBCA);
    expect(a.length).toBeGreaterThan(100);
    expect(b.length).toBeGreaterThan(10);

    const want = [...a, ...b];
    let live: Row[] = [];
    if (isRoot) {
      // A live sensor on lo, capturing the demo IOC on a private server port (the central learns it from the
      // sensor's batches; beacons go to the standard repeater port, which the central decodes).
      const ports = `${await freeUdpPort()},5065`;
      const sensor = await startTestDaemon(['--demo', '--ports', ports, '--publish', nats.url, '--sensor', 'live']);
      live = collect(sensor);
      await until('live records', () => live.some((r) => r.cmd === 'EventAddResponse'));
      await sensor.shutdown('test: enough');
      want.push(...live);
    }
    await until('every record at the central', () => got.length >= want.length);
    const bySensor = (s: string): Row[] => got.filter((r) => r.sensor === s);
    expectSameRecords(bySensor('a'), a);
    expectSameRecords(bySensor('b'), b);
    if (isRoot) expectSameRecords(bySensor('live'), live);
    expect(got.every((r) => typeof r.sensor === 'string')).toBe(true);
    await page.until('the records of sensor b', () => page.records().length >= b.length);
    expectSameRecords(page.records(), b);
    expect(page.records().every((r) => r.sensor === 'b')).toBe(true);
    page.close();
    // The full record names its sensor too.
    const full = (await c.app.inject(`/api/record/${got[0].id as number}`)).json<{ sensor: string }>();
    expect(full.sensor).toBe(got[0].sensor);
    // Ids are the central's own: one sequence over every sensor.
    expect(new Set(got.map((r) => r.id)).size).toBe(got.length);

    const sensors = await sensorsOf(c);
    expect(sensors.map((s) => s.sensor)).toEqual(isRoot ? ['a', 'b', 'live'] : ['a', 'b']);
    const sa = sensors.find((s) => s.sensor === 'a');
    expect(sa).toMatchObject({ records: a.length, duplicates: 0 });
    expect(sa?.lagSeconds).not.toBeNull();
    // The status each sensor sends every second (its last one, sent at shutdown, names its source).
    expect(sa?.source).toMatchObject({ kind: 'file' });
    expect(sa?.unsent).toBe(0);
    // The merged state: the same analyses over both sensors' traffic. The worker's counters reach the main
    // thread every 250 ms, so the last sensor's records may be streamed before they are counted there.
    const messages = async (): Promise<number> =>
      (await c.app.inject('/api/stats')).json<{ messages: number }>().messages;
    const counted = await until('every record counted', async () => {
      const n = await messages();
      return n >= want.length ? n : false;
    });
    expect(counted).toBe(want.length);
    // The views name the sensor that saw each channel's circuit, and each server's.
    type Named = { sensor?: string; pv?: string; address?: string };
    const table = async (name: string): Promise<Named[]> =>
      (await c.app.inject(`/api/${name}?limit=1000`)).json<Named[]>();
    const channels = await until('channels with their sensors', async () => {
      const rows = await table('channels');
      return rows.length > 0 && rows.every((r) => r.sensor !== undefined) && rows;
    });
    for (const ch of channels)
      expect(
        bySensor(ch.sensor as string).some((r) => r.pv === ch.pv),
        ch.pv,
      ).toBe(true);
    expect(new Set(channels.map((ch) => ch.sensor))).toContain('a');
    const servers = (await table('servers')).filter((s) => s.sensor !== undefined);
    expect(servers.length).toBeGreaterThan(0);
    for (const s of servers) expect(s.sensor).toMatch(/^(a|b|live)(,(a|b|live))*$/);
    const clients = (await table('clients')).filter((cl) => cl.sensor !== undefined);
    expect(clients.length).toBeGreaterThan(0);
    for (const cl of clients) expect(cl.sensor).toMatch(/^(a|b|live)(,(a|b|live))*$/);
    const snapshot = JSON.parse(c.engine.snapshotText()) as { errors: Named[] };
    for (const e of snapshot.errors) expect(['a', 'b', 'live']).toContain(e.sensor);
    await stop(c);
  });

  it('a restarted central resumes where it stopped: nothing lost, nothing counted twice', async () => {
    const first = await central(['--central-name', 'resume', '--sensors', 'r']);
    const before = await replaySensor(nats.url, 'r', CATEST);
    await until('the first run at the central', async () => (await sensorsOf(first))[0]?.records === before.length);
    await stop(first);
    // Published while no central runs: kept in the stream for the durable consumer.
    const after = await replaySensor(nats.url, 'r', MONITOR);
    const second = await central(['--central-name', 'resume', '--sensors', 'r']);
    await until('the second run at the central', async () => (await sensorsOf(second))[0]?.records === after.length);
    // The backlog is replayed before a listener could attach: compare the central's counts per command
    // with what the sensor decoded in its second run (the first run's records are not taken in again).
    const perCommand = (rows: Row[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of rows) out[r.cmd as string] = (out[r.cmd as string] ?? 0) + 1;
      return out;
    };
    const stats = await until('the central stats', async () => {
      const st = (await second.app.inject('/api/stats')).json<{
        messages: number;
        perCommand: Record<string, number>;
      }>();
      return st.messages === after.length && st;
    });
    expect(stats.perCommand).toEqual(perCommand(after));
    const [row] = await sensorsOf(second);
    expect(row).toMatchObject({ sensor: 'r', records: after.length, duplicates: 0 });
    await stop(second);
  });

  it('a sensor buffers while nats-server is down and catches up when it returns', async () => {
    const c = await central(['--central-name', 'outage', '--sensors', 'slow']);
    const got = collect(c);
    // At capture speed ca_monitor2.pcapng's monitor updates come for about 8 s: some while NATS is down.
    const sensor = await startTestDaemon(['-r', MONITOR, '--publish', nats.url, '--sensor', 'slow']);
    const rows = collect(sensor);
    const publisher = (): ReturnType<typeof readPublisher> => readPublisher(sensor);
    await until('some records published', () => publisher().published > 0);
    await nats.stop();
    await until('records buffered while NATS is down', () => publisher().bufferedRecords > 0);
    await nats.resume();
    await sensor.engine.whenEnded();
    await until('the buffer drained', () => publisher().bufferedRecords === 0 && publisher().records === rows.length);
    await sensor.shutdown('test: done');
    expect(publisher().unsent).toBe(0);
    await until('every record at the central', () => got.length >= rows.length);
    expectSameRecords(got, rows);
    await stop(c);
  });

  it.skipIf(!isRoot)(
    'a sensor killed mid-stream: the central keeps what arrived, once, and takes its next run',
    async () => {
      const c = await central(['--central-name', 'kill', '--sensors', 'k']);
      const got = collect(c);
      const ports = `${await freeUdpPort()},5065`;
      const args = ['--demo', '--ports', ports, '--publish', nats.url, '--sensor', 'k', '--no-dashboard'];
      const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', DAEMON_MAIN, ...args], {
        stdio: 'ignore',
      });
      children.push(child);
      await until('records of the doomed sensor', () => got.length > 20, 60_000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Everything the central acknowledged is in its stream (records reach listeners a moment later).
      const row = await until('the records the central took in', async () => {
        const [r] = await sensorsOf(c);
        return r.records === got.length && r;
      });
      expect(row.duplicates).toBe(0);
      // Its silence is an alert that names it.
      await until('the silence alert', () => {
        const snapshot = JSON.parse(c.engine.snapshotText()) as { alerts: Record<string, unknown>[] };
        return snapshot.alerts.some((a) => a.kind === 'sensor-silent' && a.sensor === 'k');
      });
      // Each record once: the demo's frames are numbered once per run.
      expect(new Set(got.map((r) => `${r.frame as number}/${key(r)}`)).size).toBe(got.length);
      // The same sensor started again is a new run: the central takes it from its first record.
      const again = await startTestDaemon([...args.filter((a) => a !== '--no-dashboard')]);
      const rows = collect(again);
      await until('records of the new run', () => rows.length > 5);
      await again.shutdown('test: done');
      const before = row.records;
      // The central counts a record when it takes it in, and its listeners get it a moment later: wait for both.
      await until(
        'the new run at the central',
        async () => (await sensorsOf(c))[0].records === before + rows.length && got.length === before + rows.length,
      );
      expectSameRecords(got.slice(before), rows);
      await stop(c);
    },
  );

  it('passes NATS credentials to the server and never logs them', async () => {
    const secure = await NatsServer.start(['--user', 'shark', '--pass', 'Pa55-s3cret-Wx']);
    let log = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        log += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const listen = (): string => `127.0.0.1:${String(freePort)}`;
    let freePort = await freeTcpPort();
    const sensorConfig = parseCommandLine(
      ['-r', CATEST, '--speed', 'max', '--publish', secure.url, '--sensor', 'sec', '--listen', listen()],
      { CA_SHARKD_NATS_USER: 'shark', CA_SHARKD_NATS_PASS: 'Pa55-s3cret-Wx' },
    );
    const sensor = await startDaemon(sensorConfig, logger);
    const rows = collect(sensor);
    await sensor.engine.whenEnded();
    await sensor.shutdown('test: done');
    freePort = await freeTcpPort();
    const centralConfig = parseCommandLine(
      ['--subscribe', secure.url, '--nats-user', 'shark', '--nats-pass', 'Pa55-s3cret-Wx', '--listen', listen()],
      {},
    );
    const c = await startDaemon(centralConfig, logger);
    await until('the records at the central', async () => (await sensorsOf(c))[0]?.records === rows.length);
    await c.shutdown('test: done');
    // A wrong password is refused by the server, and the log says so without either password.
    freePort = await freeTcpPort();
    const wrong = parseCommandLine(
      ['--subscribe', secure.url, '--nats-user', 'shark', '--nats-pass', 'Wr0ng-pa55-Zq', '--listen', listen()],
      {},
    );
    const refused = await startDaemon(wrong, logger);
    await until('the refusal in the log', () => /Authorization Violation|cannot consume/i.test(log));
    await refused.shutdown('test: done');
    await secure.dispose();
    expect(log).toContain('publishing records to NATS');
    expect(log).not.toContain('Pa55-s3cret-Wx');
    expect(log).not.toContain('Wr0ng-pa55-Zq');
  });
});

/** The sensor's publisher counters. */
function readPublisher(
  sensor: RunningDaemon,
): Pick<PublisherCounters, 'bufferedRecords' | 'unsent' | 'records' | 'published'> {
  const c = sensor.publisher?.counters;
  if (c === undefined) throw new Error('not a sensor');
  return { bufferedRecords: c.bufferedRecords, unsent: c.unsent, records: c.records, published: c.published };
}
