/**
 * Two IOC subnets, one dashboard (issue 16): two network namespaces, each with a simulated IOC serving the
 * same PV names, a client searching and reading them (and searching a PV nobody serves), and a sensor
 * capturing there; a nats-server and the central in the root namespace. The central must show both
 * sensors' traffic, see the PV served on both subnets as a duplicate and the missing PV searched from both.
 *
 * Needs root (ip netns, veth) and nats-server; namespaces and links are removed in afterAll.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon } from '../server.js';
import { startTestDaemon } from '../test-support/daemon.js';
import { NatsServer, haveNatsServer, until } from '../test-support/nats-server.js';
import { DAEMON_MAIN } from '../test-support/programs.js';
import type { SensorView } from './central.js';

const isRoot = process.getuid?.() === 0;
const haveIp = spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;
const runnable = isRoot && haveIp && haveNatsServer();
const why = !isRoot
  ? 'needs root (ip netns, veth pairs)'
  : !haveIp
    ? 'needs the ip command (iproute2)'
    : 'needs nats-server (scripts/setup.sh installs it)';
if (!runnable) console.warn(`netns.test.ts skipped: ${why}`);

const SIM_MAIN = fileURLToPath(new URL('../../../sim/src/main.ts', import.meta.url));
/** Unique per test run, so that two runs on one machine do not collide (names at most 15 characters). */
const tag = String(process.pid % 100_000);
const net = 100 + (process.pid % 100);
const SUBNETS = [
  { name: 'a', ns: `cas${tag}a`, host: `cs${tag}a0`, peer: `cs${tag}a1`, gw: `10.${net}.1.1`, ioc: `10.${net}.1.2` },
  { name: 'b', ns: `cas${tag}b`, host: `cs${tag}b0`, peer: `cs${tag}b1`, gw: `10.${net}.2.1`, ioc: `10.${net}.2.2` },
];
/** NATS listens on subnet a's gateway address (root namespace); subnet b reaches it through its own gateway. */
const HUB = SUBNETS[0].gw;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** A program in namespace `ns`, its output read (so that no pipe fills) and kept for {@link saying}. */
function inNs(ns: string, main: string, args: string[]): ChildProcess {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--conditions=source', '--import', 'tsx', main, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  output.set(child, '');
  for (const stream of [child.stdout, child.stderr])
    stream?.on('data', (d: Buffer) => output.set(child, (output.get(child) ?? '') + d.toString()));
  return child;
}

/** What each program started by {@link inNs} wrote so far, stdout and stderr. */
const output = new Map<ChildProcess, string>();

/**
 * Waits until `child` has written `text` (a program saying it is ready), or fails if it exits first. Not a
 * time: on a loaded machine each program's start (tsx, the decoding worker's warm-up) takes seconds.
 */
function saying(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if ((output.get(child) ?? '').includes(text)) {
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        child.off('exit', exited);
        resolve();
      }
    };
    const exited = (): void =>
      reject(new Error(`${child.spawnargs.slice(-8).join(' ')} exited before saying ${text}: ${output.get(child)}`));
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

const children: ChildProcess[] = [];
let nats: NatsServer | undefined;
let central: RunningDaemon | undefined;

beforeAll(async () => {
  if (!runnable) return;
  // Each subnet reaches the root namespace through its veth pair; nothing of this leaves the machine.
  for (const s of SUBNETS) {
    ip('netns', 'add', s.ns);
    ip('link', 'add', s.host, 'type', 'veth', 'peer', 'name', s.peer);
    ip('link', 'set', s.peer, 'netns', s.ns);
    ip('addr', 'add', `${s.gw}/24`, 'dev', s.host);
    ip('link', 'set', s.host, 'up');
    ip('-n', s.ns, 'addr', 'add', `${s.ioc}/24`, 'dev', s.peer);
    ip('-n', s.ns, 'link', 'set', s.peer, 'up');
    ip('-n', s.ns, 'link', 'set', 'lo', 'up');
    if (s.gw !== HUB) ip('-n', s.ns, 'route', 'add', `${HUB}/32`, 'via', s.gw);
  }
  nats = await NatsServer.start([], HUB);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await central?.shutdown('test done');
  await nats?.dispose();
  if (!runnable) return;
  for (const s of SUBNETS) {
    spawnSync('ip', ['netns', 'del', s.ns]);
    spawnSync('ip', ['link', 'del', s.host]);
  }
});

describe.skipIf(!runnable)(
  `a sensor per IOC subnet, one central (${runnable ? 'as root' : why})`,
  { timeout: 300_000 },
  () => {
    it('shows both subnets, the PV served on both as a duplicate and the PV searched on both', async () => {
      const url = (nats as NatsServer).url;
      central = await startTestDaemon(['--subscribe', url, '--central-name', `netns${tag}`]);
      const c = central;
      const ready: Promise<void>[] = [];
      for (const s of SUBNETS) {
        // In its namespace the sensor sees the subnet's CA traffic on lo (the IOC and its client share the
        // namespace); it publishes over the veth pair to NATS in the root namespace. Its decoder does not
        // shed frames when it falls behind (--max-lag none): on a loaded machine the one search reply the
        // test looks for could be shed, and shedding is not what is tested here.
        const sensor = inNs(s.ns, DAEMON_MAIN, [
          '-i',
          'lo',
          '--publish',
          url,
          '--sensor',
          `subnet-${s.name}`,
          '--no-dashboard',
          '--max-lag',
          'none',
        ]);
        const ioc = inNs(s.ns, SIM_MAIN, ['ioc', '--prefix', 'fac:', '--host', s.ioc, '--rate', '2']);
        // The load below runs for 4 s: before, it could start while a sensor was still warming up its decoder
        // (its status already said "up", its capture not yet open) or before the IOC listened, and under load
        // the searches fell outside the capture (run by run, "fac:double answered on both subnets" timed out).
        ready.push(saying(sensor, 'capture source open'), saying(ioc, 'ioc ready'));
      }
      await Promise.all(ready);
      await until('both sensors up', async () => {
        const rows = (await c.app.inject('/api/sensors')).json<SensorView[]>();
        return rows.filter((r) => r.status === 'up').length === 2;
      });
      for (const s of SUBNETS) {
        const load = ['load', '--addr-list', s.ioc, '--prefix', 'fac:', '--duration', '4', '--storm', '1'];
        inNs(s.ns, SIM_MAIN, [...load, '--channels', '4', '--monitors', '2', '--ops', '5']);
      }
      const searches = await until('fac:double answered on both subnets', async () => {
        const rows = (await c.app.inject('/api/searches')).json<{ pv: string; servers: string[] }[]>();
        const row = rows.find((r) => r.pv === 'fac:double');
        return row !== undefined && row.servers.length === 2 && rows;
      });
      const double = searches.find((r) => r.pv === 'fac:double');
      expect(double?.servers.map((x) => x.replace(/:\d+$/, '')).sort()).toEqual(SUBNETS.map((s) => s.ioc).sort());

      const sensors = (await c.app.inject('/api/sensors')).json<SensorView[]>();
      expect(sensors.map((s) => s.sensor)).toEqual(['subnet-a', 'subnet-b']);
      for (const s of sensors) {
        expect(s.records).toBeGreaterThan(0);
        expect(s.drops).toBe(0);
        expect(s.source).toMatchObject({ kind: 'live', iface: 'lo' });
      }
      // The same PV served on two subnets: a duplicate in the merged analysis.
      const report = await until('the duplicate in the report', async () => {
        const r = (await c.app.inject('/api/report?full=1')).json<{
          duplicates?: { pv: string; verdict: string; servers: string[] }[];
          never_found?: { pv: string; hosts: string[] }[];
        }>();
        return r.duplicates?.some((d) => d.pv === 'fac:double') === true && r;
      });
      const dup = report.duplicates?.find((d) => d.pv === 'fac:double');
      expect(dup?.verdict).toBe('duplicate');
      // A PV nobody serves, searched on both subnets: one row with clients of both.
      const missing = await until('the missing PV searched from both subnets', async () => {
        const r = (await c.app.inject('/api/report?full=1')).json<{
          never_found?: { pv: string; hosts: string[] }[];
        }>();
        const row = r.never_found?.find((n) => n.pv.startsWith('fac:missing'));
        return row !== undefined && row.hosts.length === 2 && row;
      });
      expect(missing.hosts.sort()).toEqual(SUBNETS.map((s) => s.ioc).sort());
    });
  },
);
