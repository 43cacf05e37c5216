import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, DAEMON_MAIN, type ProgramResult, errorLines, runProgram } from './test-support/programs.js';

/**
 * `ca-sharkd -r FILE` and `ca-sharkd --stdin` must refuse what `ca-shark` refuses, with the same exit
 * status and the same first error line (each under its own program name).
 */
const fixture = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));

const PCAPNG_BLOCK_LEN_OFFSET = 4;
/** Where a pcapng section header's byte-order magic is. */
const PCAPNG_SHB_BYTE_ORDER_OFFSET = 8;

/** Offsets of the pcapng blocks of a little-endian capture. */
function pcapngBlocks(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starts: number[] = [];
  for (let at = 0; at + 12 <= bytes.length; at += view.getUint32(at + PCAPNG_BLOCK_LEN_OFFSET, true)) starts.push(at);
  return starts;
}

const PCAP_HEADER_LEN = 24;
const PCAP_LINKTYPE_OFFSET = 20;
const PCAP_RECORD_CAPLEN_OFFSET = 8;
const LINKTYPE_USER0 = 147;

/** A classic pcap of a few CA searches (a fresh copy each call). */
function searches(): Uint8Array {
  const w = new PcapWriter();
  for (let i = 0; i < 8; i++) {
    w.udp(
      1_700_000_000 + i,
      '10.0.0.1',
      40000,
      '10.0.0.255',
      5064,
      concatBytes([build.versionRequest({ sequence: i }), build.searchRequest({ name: `PV${i}`, cid: i })]),
    );
  }
  return w.bytes();
}

/** `bytes` with a little-endian 32-bit value set at `offset`. */
function patched(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
  return bytes;
}

const BAD_INPUTS: Record<string, () => Uint8Array> = {
  'empty input': () => new Uint8Array(0),
  'truncated pcap header': () => searches().subarray(0, 10),
  'pcap cut inside a record': () => {
    const whole = searches();
    return whole.subarray(0, Math.floor(whole.length / 2));
  },
  'pcapng cut inside a block': () => {
    const whole = readFileSync(fixture('catest.pcap'));
    return whole.subarray(0, Math.floor(whole.length / 2));
  },
  'bad magic': () => new Uint8Array(64).fill(0xde),
  'gzip-compressed capture': () => new Uint8Array([0x1f, 0x8b, 0x08, 0x00, ...new Uint8Array(60)]),
  'non-capture text': () => new TextEncoder().encode('frame,time,source\n1,0.0,10.0.0.1\n'.repeat(20)),
  'pcapng with a bad block length': () => {
    const bytes = new Uint8Array(readFileSync(fixture('ca_monitor.pcapng')));
    const blocks = pcapngBlocks(bytes);
    new DataView(bytes.buffer).setUint32(blocks[5] + PCAPNG_BLOCK_LEN_OFFSET, 13, true);
    return bytes;
  },
  // A section header whose byte-order magic is wrong: at the start, and opening a second section.
  'pcapng section header with a bad byte-order magic': () =>
    patched(new Uint8Array(readFileSync(fixture('ca_monitor.pcapng'))), PCAPNG_SHB_BYTE_ORDER_OFFSET, 0x12345678),
  'pcapng second section header with a bad byte-order magic': () => {
    const bytes = new Uint8Array(readFileSync(fixture('ca_monitor.pcapng')));
    const second = patched(bytes.slice(0, pcapngBlocks(bytes)[1]), PCAPNG_SHB_BYTE_ORDER_OFFSET, 0x12345678);
    return concatBytes([bytes, second]);
  },
  'pcap record longer than any frame': () =>
    patched(searches(), PCAP_HEADER_LEN + PCAP_RECORD_CAPLEN_OFFSET, 0x7fff_ffff),
  'unknown link type': () => patched(searches(), PCAP_LINKTYPE_OFFSET, LINKTYPE_USER0),
};

let dir: string;
const files = new Map<string, string>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-bad-input-'));
  let i = 0;
  for (const [name, make] of Object.entries(BAD_INPUTS)) {
    const file = join(dir, `bad-${i++}.pcap`);
    writeFileSync(file, make());
    files.set(name, file);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAEMON_ARGS = ['--exit-on-eof', '--listen', '127.0.0.1:0', '--log-level', 'silent'];

/** Status and first error line of a run. */
function verdict(
  r: ProgramResult,
  program: 'ca-shark' | 'ca-sharkd',
): { code: number | null; first: string | undefined } {
  return { code: r.code, first: errorLines(r.stderr, program)[0] };
}

describe('unreadable input: ca-sharkd says what ca-shark says', { timeout: 180_000 }, () => {
  for (const name of Object.keys(BAD_INPUTS)) {
    it(name, async () => {
      const file = files.get(name) as string;
      const [cliFile, daemonFile] = await Promise.all([
        runProgram(CLI_MAIN, ['--json', file], { countOnly: true }),
        runProgram(DAEMON_MAIN, ['-r', file, '--speed', 'max', ...DAEMON_ARGS]),
      ]);
      const [cliPipe, daemonPipe] = await Promise.all([
        runProgram(CLI_MAIN, ['--json'], { stdinFile: file, countOnly: true }),
        runProgram(DAEMON_MAIN, ['--stdin', ...DAEMON_ARGS], { stdinFile: file }),
      ]);
      expect(verdict(cliFile, 'ca-shark').code).toBe(2);
      expect(verdict(cliFile, 'ca-shark').first).toMatch(new RegExp(`^${file}: `));
      expect(verdict(daemonFile, 'ca-sharkd')).toEqual(verdict(cliFile, 'ca-shark'));
      expect(verdict(cliPipe, 'ca-shark').first).toMatch(/^<stdin>: /);
      expect(verdict(daemonPipe, 'ca-sharkd')).toEqual(verdict(cliPipe, 'ca-shark'));
    });
  }

  it('a missing file', async () => {
    const missing = join(dir, 'missing.pcap');
    const [cli, daemon] = await Promise.all([
      runProgram(CLI_MAIN, ['--json', missing]),
      runProgram(DAEMON_MAIN, ['-r', missing, ...DAEMON_ARGS]),
    ]);
    expect(verdict(cli, 'ca-shark')).toEqual({ code: 2, first: `${missing}: no such file` });
    expect(verdict(daemon, 'ca-sharkd')).toEqual(verdict(cli, 'ca-shark'));
  });
});
