/**
 * Live use: stdin read as it arrives (lines before EOF), `| head` ending quietly (EPIPE), and bad input.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, fixture, lines, MAIN, plainEnv, runCli, startCli } from '../test-support/cli.js';
import { pcapFile, udpFrame, workloadCapture } from '../test-support/capture.js';
import { build } from '@ca-shark/protocol';

// Each run starts a Node process (about half a second on a slow machine).
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-cli-test-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmp(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('stdin', () => {
  it('reads - and no file alike', async () => {
    const bytes = readFileSync(fixture('example_udp_data.pcap'));
    const fromFile = await runCli([fixture('example_udp_data.pcap')]);
    expect((await runCli([], { input: bytes })).stdout).toBe(fromFile.stdout);
    expect((await runCli(['-'], { input: bytes })).stdout).toBe(fromFile.stdout);
  });

  it('prints messages while the capture is still arriving', async () => {
    const bytes = readFileSync(fixture('example_tcp_data.pcap'));
    const expected = lines((await runCli([fixture('example_tcp_data.pcap')])).stdout);
    const child = startCli([]);
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.resume();
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    // The first half, in small chunks with pauses, as tcpdump -U would write it; stdin stays open.
    const half = Math.floor(bytes.length / 2);
    const CHUNK = 97;
    for (let off = 0; off < half; off += CHUNK) {
      child.stdin.write(bytes.subarray(off, Math.min(half, off + CHUNK)));
      await sleep(2);
    }
    // Lines must show up before EOF: wait for them with stdin still open.
    for (let waited = 0; lines(stdout).length === 0 && waited < 30_000; waited += 20) await sleep(20);
    const early = lines(stdout);
    expect(early.length).toBeGreaterThan(0);
    expect(early).toEqual(expected.slice(0, early.length));

    child.stdin.end(bytes.subarray(half));
    expect(await closed).toBe(0);
    expect(lines(stdout)).toEqual(expected);
  });
});

describe('broken pipe', () => {
  it('ends quietly with status 0 when the reader goes away (| head)', async () => {
    const big = tmp('big.pcap', workloadCapture(50_000).bytes);
    const child = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MAIN}" "${big}" | head -n 3`], {
      env: plainEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines(stdout)).toHaveLength(3);
  });

  it('also with --json', async () => {
    const big = tmp('big2.pcap', workloadCapture(50_000).bytes);
    const child = startCli(['--json', big]);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('unwritable output', () => {
  it('says so once and exits 2 (a full disk)', async () => {
    const child = spawn('bash', ['-c', `"${process.execPath}" "${MAIN}" "${fixture('catest.pcap')}" > /dev/full`], {
      env: plainEnv(),
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(lines(stderr)).toEqual(['ca-shark: cannot write output: ENOSPC: no space left on device, write']);
  });
});

describe('bad input', () => {
  it('empty file', async () => {
    const path = tmp('empty.pcap', new Uint8Array(0));
    const r = await runCli([path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/empty/);
    // Reported for each input, also after another input failed.
    const two = await runCli([join(dir, 'missing.pcap'), path]);
    expect(two.code).toBe(2);
    expect(lines(two.stderr)).toEqual([
      `ca-shark: ${join(dir, 'missing.pcap')}: no such file`,
      `ca-shark: ${path}: empty input: no capture header`,
    ]);
  });

  it('text file', async () => {
    const path = tmp('notes.txt', 'These are my notes, not a capture.\n'.repeat(20));
    const r = await runCli([path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/not a .*capture|magic|format/i);
  });

  it('truncated capture: what came before is still printed', async () => {
    const bytes = readFileSync(fixture('example_tcp_data.pcap'));
    const full = lines((await runCli([fixture('example_tcp_data.pcap')])).stdout);
    const path = tmp('cut.pcap', bytes.subarray(0, bytes.length - 30));
    const r = await runCli([path]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/truncat|ends inside/i);
    const out = lines(r.stdout);
    expect(out.length).toBeGreaterThan(15);
    expect(out).toEqual(full.slice(0, out.length));
  });

  it('unknown link type', async () => {
    const LINKTYPE_USER0 = 147;
    const frame = udpFrame('10.0.0.1', 40000, '10.0.0.2', 5064, build.searchRequest({ name: 'x', cid: 1 }));
    const path = tmp(
      'user0.pcap',
      pcapFile(
        [
          { t: 1, data: frame },
          { t: 2, data: frame },
        ],
        LINKTYPE_USER0,
      ),
    );
    const r = await runCli([path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/147/);
  });

  it('nonexistent file, and the other files are still read', async () => {
    const missing = join(dir, 'no-such.pcap');
    const r = await runCli([missing, fixture('example_udp_data.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ca-shark: ${missing}: no such file\n`);
    expect(lines(r.stdout)).toHaveLength(16);
  });
});

describe('synthetic workload', () => {
  it('--errors finds the refused creation, the failed read and the ERROR', async () => {
    const path = tmp('workload.pcap', workloadCapture(200).bytes);
    const out = lines((await runCli(['--errors', '--format', '{command.name} {pv}', path])).stdout);
    expect(out).toEqual(['CreateChFailResponse wl:missing', 'ReadNotifyResponse wl:1', 'ErrorResponse wl:2']);
  });

  it('--ports decodes CA on a non-standard server port', async () => {
    const SERVER_PORT = 6064;
    const path = tmp(
      'port6064.pcap',
      pcapFile([
        {
          t: 1,
          data: udpFrame('127.0.0.1', 40000, '127.0.0.2', SERVER_PORT, build.searchRequest({ name: 'odd:pv', cid: 7 })),
        },
        {
          t: 1.5,
          data: udpFrame('127.0.0.2', SERVER_PORT, '127.0.0.1', 40000, build.searchResponse({ port: 7000, cid: 7 })),
        },
      ]),
    );
    expect(lines((await runCli([path])).stdout)).toEqual([]);
    const r = await runCli(['--ports', `5070,${SERVER_PORT}`, '--format', '{command.name} {command.cid} {pv}', path]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['SearchRequest 7 odd:pv', 'SearchResponse 7 odd:pv']);
    const bad = await runCli(['--ports', '70000', path]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ports: "70000"/);
  });
});
