/**
 * No silent loss: every capture problem, malformed or cut CA message and skipped TCP flow reaches the user
 * with its frame number in every mode, and the exit status says what happened (docs/cli.md, "Exit status").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StatsReport } from '@ca-shark/analysis';
import { ensureBuilt, fixture, lines, runCli } from '../test-support/cli.js';

vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-cli-damage-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmp(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

// Classic pcap framing (little-endian files), to find a frame's bytes without the code under test.
const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
const PCAP_OFF_CAPLEN = 8;
const ETHERNET_HEADER_LEN = 14;
const IPV4_OFF_VHL = 0;
const TCP_OFF_DATA_OFFSET = 12;
// pcapng framing.
const PCAPNG_BLOCK_EPB = 6;
const PCAPNG_OFF_LEN = 4;
const PCAPNG_EPB_OFF_CAPLEN = 20;

/** Offset of the first TCP payload byte of 1-based `frame` in a little-endian Ethernet pcap. */
function tcpPayloadOffset(bytes: Uint8Array, frame: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = PCAP_HEADER_LEN;
  for (let n = 1; n < frame; n++) off += PCAP_RECORD_HEADER_LEN + dv.getUint32(off + PCAP_OFF_CAPLEN, true);
  const ip = off + PCAP_RECORD_HEADER_LEN + ETHERNET_HEADER_LEN;
  const tcp = ip + (bytes[ip + IPV4_OFF_VHL] & 0x0f) * 4;
  return tcp + (bytes[tcp + TCP_OFF_DATA_OFFSET] >> 4) * 4;
}

/** Offset of the pcapng enhanced packet block holding the `nth` (1-based) EPB of a little-endian file. */
function epbOffset(bytes: Uint8Array, nth: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let seen = 0;
  for (let off = 0; off < bytes.length; off += dv.getUint32(off + PCAPNG_OFF_LEN, true)) {
    if (dv.getUint32(off, true) === PCAPNG_BLOCK_EPB && ++seen === nth) return off;
  }
  throw new Error(`no EPB ${nth}`);
}

/** example_tcp_data.pcap (server on port 50421) with the first byte of the first client payload flipped. */
function flippedOpening(): string {
  const bytes = new Uint8Array(readFileSync(fixture('example_tcp_data.pcap')));
  bytes[tcpPayloadOffset(bytes, 4)] ^= 0xff;
  return tmp('flipped.pcap', bytes);
}

/** ca_monitor.pcapng whose second packet block claims more captured bytes than the block holds. */
function badBlock(): string {
  const bytes = new Uint8Array(readFileSync(fixture('ca_monitor.pcapng')));
  const dv = new DataView(bytes.buffer);
  const epb = epbOffset(bytes, 2);
  dv.setUint32(epb + PCAPNG_EPB_OFF_CAPLEN, dv.getUint32(epb + PCAPNG_OFF_LEN, true), true);
  return tmp('bad-block.pcapng', bytes);
}

describe('skipped flows', () => {
  it('a flow on a non-standard port whose opening is damaged is named, with the --ports hint', async () => {
    const path = flippedOpening();
    const r = await runCli(['--json', path]);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `ca-shark: ${path}: Skipped flow 192.168.86.21:46222 <-> 192.168.86.245:50421 from frame 4: 696 bytes not recognised as Channel Access`,
      `ca-shark: ${path}: 1 TCP flow (696 bytes) skipped as not CA; if CA servers listen on ports the capture does not announce, name them: --ports 50421`,
    ]);
    // Nothing matched; the skipped flow alone is no damage (captures hold other TCP traffic too).
    expect(r.code).toBe(1);
  });

  it('following the hint decodes the flow, the damaged message as Malformed at frame 4 (status 3)', async () => {
    const path = flippedOpening();
    const r = await runCli(['--ports', '50421', '--format', '{frame} {command.name}', path]);
    const out = lines(r.stdout);
    expect(out[0]).toBe('4 Malformed');
    expect(out.length).toBeGreaterThan(15);
    expect(r.stderr).toMatch(new RegExp(`^ca-shark: ${path}: frame 4: malformed CA message`));
    expect(r.stderr).not.toMatch(/Skipped flow/);
    expect(r.code).toBe(3);
  });

  it('stats counts them in text and --json', async () => {
    const path = flippedOpening();
    const text = await runCli(['stats', path]);
    expect(lines(text.stdout)).toContain(
      'Skipped flows: 1 TCP flow (696 bytes) not recognised as CA; name CA servers on other ports with --ports',
    );
    expect(text.stderr).toMatch(/Skipped flow .* from frame 4/);
    const json = JSON.parse((await runCli(['stats', '--json', path])).stdout) as StatsReport;
    expect(json.skippedFlows).toEqual({ flows: 1, bytes: 696 });
    const clean = JSON.parse(
      (await runCli(['stats', '--json', fixture('example_tcp_data.pcap')])).stdout,
    ) as StatsReport;
    expect(clean.skippedFlows).toEqual({ flows: 0, bytes: 0 });
  });
});

describe('capture problems reach the user with their frame number', () => {
  const modes: [string, string[]][] = [
    ['text', []],
    ['--json', ['--json']],
    ['stats', ['stats']],
    ['report', ['report']],
    ['a filter that hides everything', ['--pv', 'no-such-pv']],
  ];
  for (const [name, args] of modes) {
    it(`a pcapng packet block whose caplen exceeds the block (${name}): status 3`, async () => {
      const path = badBlock();
      const r = await runCli([...args, path]);
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ca-shark: ${path}: frame 2: captured length \\d+ does not fit in its \\d+-byte block \\[bad-block\\]$`,
          ),
        ),
      ]);
      expect(r.code).toBe(3);
    });
  }

  it('the records of the other frames are all still there', async () => {
    const fmt = ['--format', '{frame} {command.name}'];
    const full = lines((await runCli([...fmt, fixture('ca_monitor.pcapng')])).stdout);
    const damaged = lines((await runCli([...fmt, badBlock()])).stdout);
    expect(damaged).toEqual(full.filter((l) => !l.startsWith('2 ')));
  });

  it('many problems of a kind: the first five lines, then one line counting the rest', async () => {
    // Every frame cut to 20 bytes: the IPv4 header of each is incomplete ('truncated').
    const bytes = new Uint8Array(readFileSync(fixture('example_tcp_data.pcap')));
    const dv = new DataView(bytes.buffer);
    const out: number[] = [];
    let frames = 0;
    for (let off = PCAP_HEADER_LEN; off < bytes.length; frames++) {
      const caplen = dv.getUint32(off + PCAP_OFF_CAPLEN, true);
      out.push(...bytes.subarray(off, off + PCAP_OFF_CAPLEN), 20, 0, 0, 0, ...bytes.subarray(off + 12, off + 16));
      out.push(...bytes.subarray(off + PCAP_RECORD_HEADER_LEN, off + PCAP_RECORD_HEADER_LEN + 20));
      off += PCAP_RECORD_HEADER_LEN + caplen;
    }
    const path = tmp('cut.pcap', Uint8Array.from([...bytes.subarray(0, PCAP_HEADER_LEN), ...out]));
    const r = await runCli([path]);
    const err = lines(r.stderr);
    expect(err.slice(0, 5)).toEqual(
      [1, 2, 3, 4, 5].map((f) =>
        expect.stringMatching(new RegExp(`^ca-shark: ${path}: frame ${f}: .*\\[truncated\\]$`)),
      ),
    );
    expect(err.slice(5)).toEqual([
      `ca-shark: ${path}: ${frames - 5} more 'truncated' problems, the last at frame ${frames} (${frames} in all)`,
    ]);
    expect(r.code).toBe(3);
  });
});

describe('exit status', () => {
  it('0 for a clean capture with output', async () => {
    const r = await runCli([fixture('catest.pcap')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('1 when no message matched, in every mode (as grep)', async () => {
    for (const args of [[], ['--json'], ['stats'], ['report'], ['report', '--json']]) {
      const r = await runCli([...args, '--pv', 'no-such-pv', fixture('catest.pcap')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
    }
  });

  it('2 for unreadable input even when another input was damaged', async () => {
    const r = await runCli([badBlock(), join(dir, 'missing.pcap')]);
    expect(r.code).toBe(2);
  });

  it('3 for damage even when nothing matched', async () => {
    const r = await runCli(['--pv', 'no-such-pv', badBlock()]);
    expect(r.code).toBe(3);
  });
});
