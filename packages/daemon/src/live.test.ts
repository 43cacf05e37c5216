import { connectClient, startIoc, type CaClient, type IocHandle } from '@ca-shark/sim';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { LiveSource } from './sources/live.js';
import { TestClient, freeUdpPort, startTestDaemon } from './test-support/daemon.js';

const isRoot = process.getuid?.() === 0;
const reason = 'live capture on lo needs root (CI runs as root); skipped for this non-root run';

let daemon: RunningDaemon | undefined;
let ioc: IocHandle | undefined;
let ca: CaClient | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ca?.close();
  await ioc?.stop();
  await daemon?.shutdown('test done');
  daemon = undefined;
  ioc = undefined;
  ca = undefined;
});

// Each daemon starts a decoding worker (with tsx from sources): allow for a slow, busy machine.
describe.skipIf(!isRoot)(`live capture on lo (${isRoot ? 'as root' : reason})`, { timeout: 60_000 }, () => {
  it('decodes the simulator talking on loopback and streams its PVs and values to a WebSocket client', async () => {
    // Non-default CA ports so a real IOC on this host cannot interfere.
    const serverPort = await freeUdpPort();
    const repeaterPort = await freeUdpPort();
    ioc = await startIoc({ prefix: 'LT:', port: serverPort, tcpPort: 0, beaconPort: repeaterPort, rate: 10 });
    daemon = await startTestDaemon(['-i', 'lo', '--ports', `${serverPort},${repeaterPort}`]);
    const d = daemon;
    expect(d.engine.source()).toMatchObject({ kind: 'live', iface: 'lo', linktype: 1 });
    const c = await TestClient.open(d.url);
    clients.push(c);
    await c.until('hello', () => c.frames.find((f) => f.type === 'hello'));
    c.send({ type: 'subscribe', filter: { pv: ['LT:*'] } });
    await c.until('subscribed', () => c.frames.find((f) => f.type === 'subscribed'));

    ca = await connectClient({ addrList: ['127.0.0.1'], serverPort, userName: 'tester', hostName: 'testhost' });
    const ch = await ca.connect('LT:double');
    await ch.put(42.5);
    const value = await ch.get();
    expect(value.data).toEqual([42.5]);

    const reply = await c.until('the read reply', () =>
      c.records().find((r) => r.cmd === 'ReadNotifyResponse' && r.pv === 'LT:double'),
    );
    expect(reply.summary).toMatch(/^42\.5 /);
    expect(reply.latency).toBeGreaterThan(0);
    const full = (await d.app.inject(`/api/record/${reply.id as number}`)).json();
    expect(full.command.data).toEqual([42.5]);
    const names = new Set(c.records().map((r) => r.cmd));
    for (const n of [
      'SearchRequest',
      'SearchResponse',
      'CreateChanRequest',
      'CreateChanResponse',
      'WriteNotifyRequest',
      'ReadNotifyRequest',
    ]) {
      expect(names).toContain(n);
    }
    for (const r of c.records()) expect(r.pv).toMatch(/^LT:/);

    // Snapshots go out every second: the first one with the channel connected can predate the read, so wait
    // for one taken after it.
    const snap = await c.until('a snapshot with the channel and its read value', () =>
      c.frames.find(
        (f) =>
          f.type === 'snapshot' &&
          (f.channels as { pv: string; state: string; lastValue: unknown }[]).some(
            (x) => x.pv === 'LT:double' && x.state === 'connected' && JSON.stringify(x.lastValue) === '[42.5]',
          ),
      ),
    );
    const row = (snap.channels as { pv: string; nativeType: string; lastValue: unknown; server: string }[]).find(
      (x) => x.pv === 'LT:double',
    );
    expect(row).toMatchObject({ nativeType: 'DOUBLE', lastValue: [42.5], server: `127.0.0.1:${ioc.tcpPort}` });
    const clientsRows = (await d.app.inject('/api/clients')).json() as {
      host: string;
      user: string | null;
      hostname: string | null;
    }[];
    expect(clientsRows).toContainEqual(
      expect.objectContaining({ host: '127.0.0.1', user: 'tester', hostname: 'testhost' }),
    );
    // libpcap's counters are read and exposed.
    d.engine.poll();
    const stats = (await d.app.inject('/api/stats')).json();
    expect(stats.capture.received).toBeGreaterThan(0);
  });

  it('keeps whole 64 KiB loopback segments by default: a 800 KB waveform read decodes without Malformed', async () => {
    const serverPort = await freeUdpPort();
    const repeaterPort = await freeUdpPort();
    ioc = await startIoc({ prefix: 'BW:', port: serverPort, tcpPort: 0, beaconPort: repeaterPort, rate: 1 });
    daemon = await startTestDaemon(['-i', 'lo', '--ports', `${serverPort},${repeaterPort}`]);
    const d = daemon;
    expect(d.source).toBeInstanceOf(LiveSource);
    expect((d.source as LiveSource).snaplen).toBe(262_144);
    const records: { pv: string | null; cmd: string; summary: string }[] = [];
    d.engine.onRecord((r) => records.push(JSON.parse(r) as (typeof records)[number]));

    ca = await connectClient({ addrList: ['127.0.0.1'], serverPort });
    const ch = await ca.connect('BW:bigwave');
    const value = await ch.get();
    expect(value.count).toBe(100_000);

    // The reply spans a dozen segments of up to 65,483 bytes each (frames of up to 65,550 bytes on lo).
    const deadline = Date.now() + 20_000;
    const isReply = (r: (typeof records)[number]): boolean => r.cmd === 'ReadNotifyResponse' && r.pv === 'BW:bigwave';
    while (!records.some(isReply) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const reply = records.find(isReply);
    expect(reply).toBeDefined();
    expect(reply?.summary).toMatch(/^\[100000\] /);
    expect(records.filter((r) => r.cmd === 'Malformed')).toEqual([]);
  });

  it('--demo runs a simulated IOC and workload on lo and serves what it captures', async () => {
    const serverPort = await freeUdpPort();
    const repeaterPort = await freeUdpPort();
    daemon = await startTestDaemon(['--demo', '--ports', `${serverPort},${repeaterPort}`]);
    const d = daemon;
    expect(d.engine.source()).toMatchObject({ kind: 'demo', iface: 'lo' });
    const c = await TestClient.open(d.url);
    clients.push(c);
    await c.until('demo records with values', () =>
      c
        .records()
        .find((r) => typeof r.pv === 'string' && (r.pv as string).startsWith('demo:') && r.cmd === 'EventAddResponse'),
    );
    // The workload's small search storm for missing PVs shows up as never answered.
    await c.until(
      'the unanswered searches of the storm and the connected channels',
      () =>
        c.frames.find(
          (f) =>
            f.type === 'snapshot' &&
            (f.searches as { unanswered: { pv: string }[] }).unanswered.some((u) => u.pv.startsWith('demo:missing:')) &&
            (f.channels as { pv: string; state: string }[]).some(
              (ch) => ch.pv.startsWith('demo:') && ch.state === 'connected',
            ),
        ),
      20_000,
    );
  });
});
