/**
 * The built `ca-shark` on the fixture captures: default lines, --format, --json against the schema,
 * filters, help/version, colour. Expected lines were written from the capture bytes (header fields
 * read by hand), not copied from output.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, fixture, lines, MAIN, plainEnv, runCli, SCHEMA } from '../test-support/cli.js';

// Each run starts a Node process (about half a second on a slow machine).
vi.setConfig({ testTimeout: 60_000 });

const BUILD_TIMEOUT = 180_000;
const FIXTURES = [
  'example_tcp_data.pcap',
  'example_udp_data.pcap',
  'catest.pcap',
  'ca_monitor.pcapng',
  'ca_monitor2.pcapng',
  'cabeacon.cap',
  'ca_arrays.pcapng',
];

beforeAll(ensureBuilt, BUILD_TIMEOUT);

describe('default output', () => {
  it("prints search traffic in caproto-shark's shape", async () => {
    const r = await runCli([fixture('example_udp_data.pcap')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    expect(out).toHaveLength(16);
    // frame 1: SEARCH ps 16, dt 5 (DONT_REPLY), dc 13, p1 = p2 = 0xe0db, 'rpi:color'
    expect(out).toContain(
      "1550524419.962509 192.168.86.21:41600->255.255.255.255:5064 SearchRequest(name='rpi:color', cid=57563, version=13, reply=5)",
    );
    // frame 5: SEARCH reply dt 50421 (TCP port), p1 0xffffffff, p2 = cid, payload minor 13
    expect(out).toContain(
      "1550524420.227614 192.168.86.245:5064->192.168.86.21:41600 SearchResponse(port=50421, ip='255.255.255.255', cid=57563, version=13, pv='rpi:color')",
    );
    expect(out.filter((l) => / VersionRequest\(/.test(l))).toHaveLength(4);
    expect(out.filter((l) => / VersionResponse\(/.test(l))).toHaveLength(4);
  });

  it('prints a TCP circuit with names, values and the PV on every message', async () => {
    const r = await runCli([fixture('example_tcp_data.pcap')]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(22);
    const c2s = '192.168.86.21:46222->192.168.86.245:50421';
    const s2c = '192.168.86.245:50421->192.168.86.21:46222';
    for (const line of [
      `1550523539.853032 ${c2s} HostNameRequest(name='pop-os')`,
      `1550523539.853032 ${c2s} ClientNameRequest(name='dallan')`,
      `1550523539.949666 ${c2s} CreateChanRequest(name='rpi:color', cid=0, version=13)`,
      `1550523540.017625 ${s2c} CreateChanResponse(data_type=<ChannelType.STRING: 0>, data_count=1, cid=0, sid=1, pv='rpi:color')`,
      `1550523543.104046 ${c2s} ReadNotifyRequest(data_type=<ChannelType.STRING: 0>, data_count=0, sid=1, ioid=0, pv='rpi:color')`,
      `1550523543.152412 ${s2c} ReadNotifyResponse(data=[b'000000'], data_type=<ChannelType.STRING: 0>, data_count=1, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), ioid=0, metadata=None, pv='rpi:color')`,
      `1550523557.223915 ${c2s} WriteNotifyRequest(data=[b'ff0000'], data_type=<ChannelType.STRING: 0>, data_count=1, sid=1, ioid=2, metadata=None, pv='rpi:color')`,
      `1550523557.293791 ${s2c} WriteNotifyResponse(data_type=<ChannelType.STRING: 0>, data_count=0, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), ioid=2, pv='rpi:color')`,
      `1550523575.081748 ${s2c} EventAddResponse(data=[b'000000'], data_type=<ChannelType.STRING: 0>, data_count=1, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), subscriptionid=0, metadata=None, pv='rpi:color')`,
      `1550523578.807948 ${c2s} EventCancelRequest(data_type=<ChannelType.STRING: 0>, sid=1, subscriptionid=0, pv='rpi:color')`,
      `1550523588.134329 ${c2s} ClearChannelRequestOrResponse(sid=1, cid=0, pv='rpi:color')`,
    ]) {
      expect(out).toContain(line);
    }
    // frame 18: DBR_TIME_STRING with an EPICS timestamp 0x36cc7f1f s + 0x0310d5f8 ns
    const timeString = out.find((l) => l.startsWith('1550523551.521056 '));
    expect(timeString).toContain(
      "ReadNotifyResponse(data=[b'000000'], data_type=<ChannelType.TIME_STRING: 14>, data_count=1, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), ioid=1, metadata=DBR_TIME_STRING(",
    );
    expect(timeString).toContain('timestamp=1550523551.051435'); // 919371551 s + 631152000, 0x0310d5f8 = 51435000 ns
  });

  it("names messages by the decoder's direction with --decoder-names", async () => {
    const r = await runCli(['--decoder-names', fixture('example_tcp_data.pcap')]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toContain(
      "1550523588.134329 192.168.86.21:46222->192.168.86.245:50421 ClearChannelRequest(sid=1, cid=0, pv='rpi:color')",
    );
  });

  it('decodes every fixture without errors', async () => {
    const results = await Promise.all(FIXTURES.map((name) => runCli([fixture(name)])));
    for (const [i, name] of FIXTURES.entries()) {
      const r = results[i];
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
      expect(lines(r.stdout).length, name).toBeGreaterThan(0);
    }
  });

  it('reads several files in order', async () => {
    const both = await runCli([fixture('example_udp_data.pcap'), fixture('example_tcp_data.pcap')]);
    expect(lines(both.stdout)).toHaveLength(16 + 22);
    expect(lines(both.stdout)[0]).toMatch(/^1550524419\.962509 /);
  });
});

describe('--format', () => {
  it('reads tokens and attributes', async () => {
    const r = await runCli([
      '--format',
      '{frame} {ip.ttl} {ip.p} {transport.protocol} {transport.dport} {command.name} {command.cid} {pv} {role}',
      fixture('example_udp_data.pcap'),
    ]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    // frame 1 UDP from the client: TTL and protocol from the IPv4 header (ttl byte 0x40, proto 17)
    expect(out[1]).toBe('1 64 17 udp 5064 SearchRequest 57563 rpi:color request');
  });

  it('prints latency and literal braces', async () => {
    const r = await runCli([
      '--format',
      '{{{command.name}}} {latency:.6f}',
      '--command',
      'CreateChanResponse',
      fixture('example_tcp_data.pcap'),
    ]);
    // 1550523540.017625 - 1550523539.949666
    expect(lines(r.stdout)).toEqual(['{CreateChanResponse} 0.067959']);
  });

  it('names a bad token, lists the valid ones, and exits 2', async () => {
    const r = await runCli(['--format', '{timestamp} {bogus}', fixture('example_udp_data.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown token \{bogus\}/);
    expect(r.stderr).toMatch(
      /\{timestamp\}, \{src\}, \{dst\}, \{ethernet\}, \{ip\}, \{transport\}, \{command\}, \{pv\}, \{latency\}, \{role\}/,
    );
    expect(lines(r.stderr)).toHaveLength(1);
  });
});

describe('--json', () => {
  it('prints one schema-valid object per message on every fixture', async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
    const runs = await Promise.all(
      FIXTURES.map((name) => Promise.all([runCli(['--json', fixture(name)]), runCli([fixture(name)])])),
    );
    for (const [i, name] of FIXTURES.entries()) {
      const [text, plain] = runs[i];
      expect(text.code, name).toBe(0);
      const out = lines(text.stdout);
      expect(out.length, name).toBe(lines(plain.stdout).length);
      for (const line of out) {
        const record: unknown = JSON.parse(line);
        if (!validate(record)) throw new Error(`${name}: ${ajv.errorsText(validate.errors)} in ${line.slice(0, 400)}`);
      }
    }
  });

  it('carries the decoded values', async () => {
    const r = await runCli(['--json', '--command', 'ReadNotifyResponse', fixture('example_tcp_data.pcap')]);
    const [first] = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      frame: 14,
      timestamp: 1550523543.152412,
      src: '192.168.86.245',
      dst: '192.168.86.21',
      pv: 'rpi:color',
      role: 'response',
      transport: { protocol: 'tcp', sport: 50421, dport: 46222 },
      command: {
        name: 'ReadNotifyResponse',
        id: 15,
        data: ['000000'],
        data_type: 0,
        data_count: 1,
        status: 1,
        ioid: 0,
      },
      request: { frame: 12, command: 'ReadNotifyRequest' },
    });
    expect(first['latency']).toBeCloseTo(0.048366, 6);
  });
});

describe('filters', () => {
  it('--pv keeps messages about matching PVs', async () => {
    const all = lines((await runCli([fixture('ca_monitor2.pcapng')])).stdout);
    const t1 = lines((await runCli(['--pv', 'T1:*', fixture('ca_monitor2.pcapng')])).stdout);
    const both = lines((await runCli(['--pv', 'T1:*', '--pv', 'T2:cnt', fixture('ca_monitor2.pcapng')])).stdout);
    expect(t1.length).toBeGreaterThan(0);
    expect(t1.every((l) => l.includes("'T1:cnt'"))).toBe(true);
    expect(both.length).toBeGreaterThan(t1.length);
    expect(both.length).toBeLessThan(all.length); // the beacon and VERSIONs name no PV
    expect(lines((await runCli(['--pv', 'nothing*', fixture('ca_monitor2.pcapng')])).stdout)).toEqual([]);
  });

  it('--host keeps messages from or to an address or subnet', async () => {
    const udp = fixture('example_udp_data.pcap');
    const server = lines((await runCli(['--host', '192.168.86.245', udp])).stdout);
    expect(server).toHaveLength(8); // the 4 reply datagrams, VERSION + SEARCH each
    expect(server.every((l) => l.includes('192.168.86.245:5064->'))).toBe(true);
    expect(lines((await runCli(['--host', '192.168.86.0/24', udp])).stdout)).toHaveLength(16);
    expect(lines((await runCli(['--host', '10.0.0.0/8', udp])).stdout)).toHaveLength(0);
    const bad = await runCli(['--host', '192.168.86', udp]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad host address "192\.168\.86"/);
  });

  it('--command takes names and families, case-insensitively', async () => {
    const tcp = fixture('example_tcp_data.pcap');
    const reads = lines((await runCli(['--command', 'READ', tcp])).stdout);
    expect(reads).toHaveLength(4);
    expect(reads.every((l) => / ReadNotify(Request|Response)\(/.test(l))).toBe(true);
    const monitor = lines((await runCli(['--command', 'monitor', tcp])).stdout);
    expect(monitor).toHaveLength(7); // EventAddRequest, 4 updates, EventCancelRequest and its confirmation
    const two = lines((await runCli(['--command', 'hostnamerequest,ClientNameRequest', tcp])).stdout);
    expect(two.map((l) => l.split(' ').pop())).toEqual([
      "HostNameRequest(name='pop-os')",
      "ClientNameRequest(name='dallan')",
    ]);
    const beacons = lines((await runCli(['--command', 'beacon', fixture('cabeacon.cap')])).stdout);
    expect(beacons).toHaveLength(8);
    const bad = await runCli(['--command', 'frobnicate', tcp]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('--errors keeps failures only', async () => {
    const ok = await runCli(['--errors', fixture('example_tcp_data.pcap')]);
    // No failure in the capture: nothing matched, status 1 (as grep).
    expect(ok.code).toBe(1);
    expect(lines(ok.stdout)).toEqual([]);
  });
});

describe('help, version, colour, usage errors', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ca-shark/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await runCli(['-V'])).stdout).toBe(`ca-shark ${pkg.version}\n`);
    expect((await runCli(['--version'])).stdout).toBe(`ca-shark ${pkg.version}\n`);
  });

  it('colours only when asked or forced, and honours NO_COLOR', async () => {
    const udp = fixture('example_udp_data.pcap');
    expect((await runCli([udp])).stdout).not.toContain('\x1b[');
    expect((await runCli([udp], { env: plainEnv({ FORCE_COLOR: '1' }) })).stdout).toContain('\x1b[');
    expect((await runCli(['--color', 'always', udp], { env: plainEnv({ NO_COLOR: '1' }) })).stdout).toContain('\x1b[');
    expect((await runCli([udp], { env: plainEnv({ FORCE_COLOR: '1', NO_COLOR: '1' }) })).stdout).not.toContain('\x1b[');
    const colored = lines((await runCli(['--color', 'always', udp])).stdout);
    expect(colored.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(lines((await runCli([udp])).stdout));
  });

  it('colours on a terminal (a pseudo-terminal from script(1))', async () => {
    const script = spawnSync(
      'script',
      ['-qc', `"${process.execPath}" "${MAIN}" "${fixture('example_udp_data.pcap')}"`, '/dev/null'],
      {
        env: plainEnv(),
        encoding: 'utf8',
      },
    );
    if (script.error) return; // util-linux script(1) missing: nothing to drive a terminal with
    expect(script.stdout).toContain('\x1b[');
    expect(script.stdout).toContain('SearchRequest');
  });

  it('rejects unknown options with status 2', async () => {
    const r = await runCli(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/frobnicate/);
  });
});
