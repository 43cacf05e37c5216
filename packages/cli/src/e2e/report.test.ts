/**
 * `ca-shark report` on fixture captures. The expected figures come from reading the captures (see the
 * decoder's golden files), not from the program.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, fixture, runCli } from '../test-support/cli.js';

vi.setConfig({ testTimeout: 60_000 });
beforeAll(ensureBuilt, 180_000);

const schema = JSON.parse(
  readFileSync(new URL('../../../analysis/schema/report.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv({ allErrors: true }).compile(schema);

describe('ca-shark report', () => {
  it('gives the circuit and channel logs and the write audit of example_tcp_data.pcap, schema-valid', async () => {
    const r = await runCli(['report', '--json', fixture('example_tcp_data.pcap')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.summary.records).toBe(22);
    // one circuit 192.168.86.21:46222 → 192.168.86.245:50421, host pop-os, user dallan, closed with FIN
    expect(report.circuits).toHaveLength(1);
    expect(report.circuits[0]).toMatchObject({
      client: '192.168.86.21:46222',
      server: '192.168.86.245:50421',
      host: 'pop-os',
      user: 'dallan',
      messages: 22,
      channels: 1,
    });
    expect(['fin', 'rst']).toContain(report.circuits[0].end_reason);
    // WRITE_NOTIFY 'ff0000' at frame 20, answered ECA_NORMAL at frame 22
    expect(report.writes).toEqual([
      expect.objectContaining({
        frame: 20,
        pv: 'rpi:color',
        host: 'pop-os',
        user: 'dallan',
        value: ['ff0000'],
        status: 1,
        status_name: 'ECA_NORMAL',
      }),
    ]);
    // the caproto server answered CLEAR_CHANNEL with SERVER_DISCONN
    expect(report.channels).toEqual([
      expect.objectContaining({ pv: 'rpi:color', cid: 0, sid: 1, end_reason: 'server-disconnect' }),
    ]);
    expect(report.never_found).toEqual([]);
  });

  it('reads beacons: eight from one server, steady, no anomaly (cabeacon.cap)', async () => {
    const r = await runCli(['report', '--json', '--section', 'beacons', fixture('cabeacon.cap')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['beacons', 'summary']);
    expect(report.beacons).toHaveLength(1);
    expect(report.beacons[0]).toMatchObject({ server: '10.0.1.11:5064', count: 8 });
  });

  it('prints a readable report and refuses an unknown section', async () => {
    const text = await runCli(['report', fixture('catest.pcap')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ca-shark report: \d+ CA messages/);
    expect(text.stdout).toContain('== Latency per server');
    expect(text.stdout).toContain('== Circuits');
    const bad = await runCli(['report', '--section', 'weather', fixture('catest.pcap')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown report section 'weather'; valid: searches/);
  });
});
