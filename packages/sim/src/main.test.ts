/** The `ca-sim` command, run from its TypeScript source with tsx. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { connectClient } from './client.js';
import { freeUdpPort, until } from './test-support/net.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function caSim(args: string[]): {
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  kill: (s: NodeJS.Signals) => void;
} {
  const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return { lines, stderr: () => err, exited, kill: (s) => p.kill(s) };
}

it(
  'serves the documented PVs with `ca-sim ioc --prefix P` and stops cleanly on SIGTERM',
  { timeout: 30000 },
  async () => {
    const port = await freeUdpPort();
    const beacon = await freeUdpPort();
    const ioc = caSim([
      'ioc',
      '--prefix',
      'cli:',
      '--port',
      String(port),
      '--beacon-port',
      String(beacon),
      '--pvs',
      '3',
      '--rate',
      '5',
    ]);
    try {
      await until(() => ioc.lines.length > 0, 20000);
      expect(JSON.parse(ioc.lines[0] as string)).toMatchObject({
        msg: 'ioc ready',
        udpPort: port,
        prefix: 'cli:',
        pvs: 18,
      });
      const client = await connectClient({ addrList: [`127.0.0.1:${port}`], searchIntervalMs: 10 });
      try {
        for (const n of ['double', 'long', 'string', 'enum', 'waveform', 'counter', 'pv0', 'pv2'])
          await client.connect(`cli:${n}`);
        const counter = client.channels.find((c) => c.name === 'cli:counter');
        const first = (await counter?.get())?.data[0] as number;
        await new Promise((resolve) => setTimeout(resolve, 250));
        expect((await counter?.get())?.data[0]).toBeGreaterThan(first);
      } finally {
        await client.close();
      }
    } finally {
      ioc.kill('SIGTERM');
    }
    expect(await ioc.exited).toBe(0);
    expect(ioc.lines.some((l) => l.includes('"ioc stopped"'))).toBe(true);
  },
);

it('rejects bad usage with exit code 2 and a hint', { timeout: 30000 }, async () => {
  const bad = caSim(['ioc', '--pvs', 'many']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr()).toMatch(/--pvs needs a non-negative number/);
});

it('runs `ca-sim load` against an IOC and prints its JSON report', { timeout: 30000 }, async () => {
  const { startIoc } = await import('./server.js');
  const ioc = await startIoc({ prefix: 'ld:', port: 0, beacons: false });
  try {
    const load = caSim([
      'load',
      '--prefix',
      'ld:',
      '--port',
      String(ioc.udpPort),
      '--addr-list',
      '127.0.0.1',
      '--channels',
      '6',
      '--monitors',
      '3',
      '--duration',
      '0.5',
      '--storm',
      '2',
    ]);
    expect(await load.exited).toBe(0);
    const report = JSON.parse(load.lines.at(-1) as string) as Record<string, number>;
    expect(report).toMatchObject({ msg: 'load done', channelsConnected: 6, channelsUnconnected: 0 });
    expect(report.stormSearches).toBeGreaterThanOrEqual(2);
    expect(ioc.stats.circuitsAccepted).toBe(1);
  } finally {
    await ioc.stop();
  }
});

it(
  'serves `--waveform COUNT@HZxN` PVs and loads exactly the `--names` given, with `--families`',
  { timeout: 30000 },
  async () => {
    const port = await freeUdpPort();
    const beacon = await freeUdpPort();
    const ioc = caSim([
      'ioc',
      '--prefix',
      'wv:',
      '--port',
      String(port),
      '--beacon-port',
      String(beacon),
      '--rate',
      '0',
      '--waveform',
      '2000@20x2',
    ]);
    try {
      await until(() => ioc.lines.length > 0, 20000);
      expect(JSON.parse(ioc.lines[0] as string)).toMatchObject({ msg: 'ioc ready', pvs: 17 });
      const load = caSim([
        'load',
        '--port',
        String(port),
        '--addr-list',
        '127.0.0.1',
        '--names',
        'wv:wave2000_0,wv:wave2000_1',
        '--channels',
        '2',
        '--monitors',
        '2',
        '--ops',
        '50',
        '--write-share',
        '0',
        '--families',
        'ctrl',
        '--duration',
        '1',
      ]);
      expect(await load.exited).toBe(0);
      const report = JSON.parse(load.lines.at(-1) as string) as {
        channelsConnected: number;
        updates: number;
        readsByFamily: Record<string, number>;
        reads: number;
      };
      expect(report.channelsConnected).toBe(2);
      expect(report.updates).toBeGreaterThan(2);
      expect(report.readsByFamily).toEqual({ ctrl: report.reads });
    } finally {
      ioc.kill('SIGTERM');
    }
    expect(await ioc.exited).toBe(0);
  },
);

it('rejects a malformed --waveform or --families with exit code 2', { timeout: 30000 }, async () => {
  const bad = caSim(['ioc', '--waveform', '100@fast']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr()).toMatch(/waveform "100@fast" is not COUNT\[@HZ\]\[xN\]/);
  const badLoad = caSim(['load', '--families', 'time,nope', '--duration', '0']);
  expect(await badLoad.exited).toBe(2);
  expect(badLoad.stderr()).toMatch(/unknown DBR family/);
});
