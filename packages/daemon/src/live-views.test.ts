/**
 * The Channels and Clients views on real multi-client traffic: simulated client processes on one host
 * (loopback), captured live by the daemon. Each has its own search socket and circuit, all search the same
 * PV with the same CID; the old views merged them into one client row and one channel's search figures.
 */
import { connectClient, startIoc, type CaClient, type ClientChannel, type IocHandle } from '@ca-shark/sim';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { freeUdpPort, startTestDaemon } from './test-support/daemon.js';
import type { ChannelView, ClientView } from './views.js';

const isRoot = process.getuid?.() === 0;
const reason = 'live capture on lo needs root (CI runs as root); skipped for this non-root run';
const PROCESSES = 3;

let daemon: RunningDaemon | undefined;
let ioc: IocHandle | undefined;
const cas: CaClient[] = [];
afterEach(async () => {
  for (const ca of cas.splice(0)) await ca.close();
  await ioc?.stop();
  await daemon?.shutdown('test done');
  daemon = undefined;
  ioc = undefined;
});

/** Polls `read` until `done` holds for its result (the test's timeout bounds the wait). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!isRoot)(
  `views of several client processes on lo (${isRoot ? 'as root' : reason})`,
  { timeout: 60_000 },
  () => {
    it('lists one client row per process and one channel row per circuit and CID, closed ones included', async () => {
      const serverPort = await freeUdpPort();
      const repeaterPort = await freeUdpPort();
      ioc = await startIoc({ prefix: 'LV:', port: serverPort, tcpPort: 0, beaconPort: repeaterPort, rate: 10 });
      daemon = await startTestDaemon(['-i', 'lo', '--ports', `${serverPort},${repeaterPort}`]);
      const d = daemon;
      const opened: ClientChannel[] = [];
      for (let i = 0; i < PROCESSES; i++) {
        const ca = await connectClient({
          addrList: ['127.0.0.1'],
          serverPort,
          userName: 'tester',
          hostName: 'testhost',
        });
        cas.push(ca);
        const ch = await ca.connect('LV:double');
        opened.push(ch);
        expect((await ch.get()).data).toHaveLength(1);
      }
      const clients = await until(
        async () => (await d.app.inject('/api/clients')).json() as ClientView[],
        (rows) => rows.filter((r) => r.searchPort !== null && r.circuits === 1).length === PROCESSES,
      );
      const processes = clients.filter((r) => r.searchPort !== null);
      expect(new Set(processes.map((r) => r.searchPort)).size).toBe(PROCESSES);
      for (const r of processes)
        expect(r).toMatchObject({ host: '127.0.0.1', user: 'tester', hostname: 'testhost', channels: 1 });

      // The first process clears its channel: its row stays, closed, with when.
      await opened[0].clear();
      const channels = await until(
        async () => (await d.app.inject('/api/channels')).json() as ChannelView[],
        (rows) =>
          rows.filter((r) => r.pv === 'LV:double').length === PROCESSES &&
          rows.some((r) => r.pv === 'LV:double' && r.state === 'closed'),
      );
      const rows = channels.filter((r) => r.pv === 'LV:double');
      expect(new Set(rows.map((r) => `${r.circuit}/${r.cid}`)).size).toBe(PROCESSES);
      expect(rows.filter((r) => r.state === 'closed')).toEqual([
        expect.objectContaining({ closedAt: expect.any(Number) }),
      ]);
      for (const r of rows) {
        // Each channel has its own search: the server's reply time never exceeds the client's wait.
        expect(r.searchLatency).not.toBeNull();
        expect(r.searchLatency).toBeLessThanOrEqual(r.timeToFind as number);
      }
    });
  },
);
