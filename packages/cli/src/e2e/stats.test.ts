/**
 * `ca-shark stats` on the small TCP fixture; every number below was computed by hand from the packet
 * timestamps (see the comments), not taken from the program.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { StatsReport } from '@ca-shark/analysis';
import { spawnSync } from 'node:child_process';
import { MAIN, ensureBuilt, fixture, lines, runCli } from '../test-support/cli.js';

// Each run starts a Node process (about half a second on a slow machine).
vi.setConfig({ testTimeout: 60_000 });

beforeAll(ensureBuilt, 180_000);

const SERVER = '192.168.86.245:50421';
const CLIENT = '192.168.86.21:46222';

describe('ca-shark stats', () => {
  it('reports latencies, counts and the circuit of example_tcp_data.pcap (--json)', async () => {
    const r = await runCli(['stats', '--json', fixture('example_tcp_data.pcap')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as StatsReport;

    expect(report.messages).toBe(22);
    expect(report.unansweredCreations).toEqual([]);
    expect(report.failedCreations).toBe(0);

    // CREATE_CHAN frame 8 at 1550523539.949666, reply frame 10 at 1550523540.017625 → 0.067959 s
    const conn = report.latency.connection[SERVER];
    expect(conn.count).toBe(1);
    expect(conn.mean).toBeCloseTo(0.067959, 6);
    expect(conn.std).toBeNull();
    expect(conn.min).toBeCloseTo(0.067959, 6);
    expect(conn.max).toBeCloseTo(0.067959, 6);
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0]).toMatchObject({ pv: 'rpi:color', server: SERVER });
    expect(report.connections[0].t).toBeCloseTo(1550523539.949666, 6);

    // READ_NOTIFY: 43.152412 - 43.104046 = 0.048366 and 51.521056 - 51.451346 = 0.069710
    const read = report.latency.readNotify[SERVER];
    expect(read.count).toBe(2);
    expect(read.mean).toBeCloseTo(0.059038, 6);
    expect(read.std).toBeCloseTo(0.021344 / Math.SQRT2, 6); // two values: |a - b| / sqrt(2)
    expect(read.min).toBeCloseTo(0.048366, 6);
    expect(read['25%']).toBeCloseTo(0.053702, 6); // 0.048366 + 0.25 × 0.021344
    expect(read['50%']).toBeCloseTo(0.059038, 6);
    expect(read['75%']).toBeCloseTo(0.064374, 6);
    expect(read.max).toBeCloseTo(0.06971, 6);

    // WRITE_NOTIFY: 57.293791 - 57.223915 = 0.069876
    expect(report.latency.writeNotify[SERVER].count).toBe(1);
    expect(report.latency.writeNotify[SERVER].mean).toBeCloseTo(0.069876, 6);
    expect(report.latency.search).toEqual({});

    expect(report.commands).toMatchObject({
      EventAddResponse: 4,
      ReadNotifyRequest: 2,
      ReadNotifyResponse: 2,
      VersionRequest: 1,
      VersionResponse: 1,
      HostNameRequest: 1,
      ClientNameRequest: 1,
      CreateChanRequest: 1,
      CreateChanResponse: 1,
      AccessRightsResponse: 1,
      WriteNotifyRequest: 1,
      WriteNotifyResponse: 1,
      EventAddRequest: 1,
      EventCancelRequest: 1,
      EventCancelResponse: 1,
      ClearChannelRequest: 1,
      ServerDisconnResponse: 1,
    });
    expect(Object.values(report.commands).reduce((a, b) => a + b, 0)).toBe(22);

    expect(report.circuits).toEqual([
      {
        client: CLIENT,
        server: SERVER,
        host: 'pop-os',
        user: 'dallan',
        channels: 1,
        messages: 22,
        first: 1550523539.853032,
        last: 1550523588.176291,
      },
    ]);
  });

  it('counts searches and search replies of example_udp_data.pcap', async () => {
    const report = JSON.parse(
      (await runCli(['stats', '--json', fixture('example_udp_data.pcap')])).stdout,
    ) as StatsReport;
    expect(report.topSearched).toEqual([{ pv: 'rpi:color', count: 4 }]);
    const search = report.latency.search['192.168.86.245:5064'] ?? Object.values(report.latency.search)[0];
    expect(search.count).toBe(4);
    expect(search.min).toBeGreaterThan(0);
    expect(report.circuits).toEqual([]);
  });

  it('prints the tables as text', async () => {
    const r = await runCli(['stats', fixture('example_tcp_data.pcap')]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('0 channel creation requests were unanswered during this capture.');
    const raw = out.findIndex((l) => l.startsWith('Channel connections (raw data)'));
    expect(out[raw + 1].trim().split(/\s+/)).toEqual(['pv', 'server', 't', 'dt']);
    expect(out[raw + 2].trim().split(/\s+/)).toEqual(['rpi:color', SERVER, '1550523539.949666', '0.067959']);
    const connHeader = out.findIndex((l) => l.startsWith('Channel connection latency'));
    expect(out[connHeader + 1]).toMatch(/^ {2}server\s+count\s+mean\s+std\s+min\s+25%\s+50%\s+75%\s+max$/);
    expect(out[connHeader + 2].trim().split(/\s+/)).toEqual([
      SERVER,
      '1',
      '0.067959',
      'NaN',
      '0.067959',
      '0.067959',
      '0.067959',
      '0.067959',
      '0.067959',
    ]);
    const readHeader = out.findIndex((l) => l.startsWith('Read notify latency'));
    // std of the float latencies 0.04836583 and 0.06971002 is 0.01509262
    expect(out[readHeader + 2].trim().split(/\s+/)).toEqual([
      SERVER,
      '2',
      '0.059038',
      '0.015093',
      '0.048366',
      '0.053702',
      '0.059038',
      '0.064374',
      '0.069710',
    ]);
    const circuits = out.findIndex((l) => l.startsWith('Circuits'));
    expect(out[circuits + 2].trim().split(/\s+/)).toEqual([CLIENT, SERVER, 'pop-os', 'dallan', '1', '22']);
  });

  it('applies filters to what it counts', async () => {
    const report = JSON.parse(
      (await runCli(['stats', '--json', '--command', 'read', fixture('example_tcp_data.pcap')])).stdout,
    ) as StatsReport;
    expect(report.messages).toBe(4);
    expect(report.commands).toEqual({ ReadNotifyRequest: 2, ReadNotifyResponse: 2 });
  });

  it('exits 1 when there is nothing to analyse', async () => {
    const r = await runCli(['stats', '--pv', 'none', fixture('example_tcp_data.pcap')]);
    expect(r.code).toBe(1);
  });
});

describe('ca-shark as installed', () => {
  it('starts through its shebang (env, malloc tunables, V8 flags) and prints what node dist/main.js does', async () => {
    const args = ['stats', fixture('example_tcp_data.pcap')];
    const viaNode = await runCli(args);
    // The bin run as a program: its first line starts node with the flags (a flag node rejects would stop it).
    const direct = spawnSync(MAIN, args, { encoding: 'utf8' });
    expect(direct.stderr).toBe('');
    expect(direct.status).toBe(0);
    expect(direct.stdout).toBe(viaNode.stdout);
  });
});
