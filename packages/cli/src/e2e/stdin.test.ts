/**
 * stdin as a shell gives it: a pipe (`cat FILE | ca-shark`, `tcpdump -U -w - | ca-shark`) or a redirected
 * file (`ca-shark < FILE`), read from descriptor 0 into one reused buffer (packet's DescriptorChunks), and
 * the inputs that are not captures: a directory, garbage on a pipe that never ends, a descriptor that
 * cannot be read.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CliResult,
  ensureBuilt,
  finished,
  fixture,
  lines,
  MAIN,
  PACKAGE_DIR,
  plainEnv,
  runCli,
  runCliWithStdin,
} from '../test-support/cli.js';
import { workloadCapture } from '../test-support/capture.js';

// Each run starts a Node process (about half a second on a slow machine).
vi.setConfig({ testTimeout: 120_000 });

let dir: string;
/**
 * Several of stdin's 256 KiB reads and many of a pipe's 64 KiB (1.3 MB): a quarter of the 5.2 MB capture
 * these tests had (over SPLIT_MIN_BYTES, for two threads without CA_SHARK_THREADS), whose runs took most
 * of this file's 40 s under load, the bytes more than the process starts. Which thread count a run took
 * is not in its output.
 */
let medium: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-cli-stdin-'));
  medium = join(dir, 'medium.pcap');
  const mediumBytes = workloadCapture(25_000).bytes;
  expect(mediumBytes.length).toBeGreaterThan(4 * 256 * 1024);
  writeFileSync(medium, mediumBytes);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` in bash, where `ca_shark` runs the built CLI; `$1`, `$2`, ... are `args`. */
function shell(script: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = plainEnv()): Promise<CliResult> {
  const prelude = `ca_shark() { "${process.execPath}" "${MAIN}" "$@"; }\n`;
  return finished(spawn('bash', ['-c', prelude + script, 'bash', ...args], { cwd: PACKAGE_DIR, env }));
}

/**
 * A FIFO with `command` (bash, the FIFO's path as `$1`) writing into it, open for reading. The writer is
 * started first: the read end's open waits for it, so no read sees a FIFO no writer has opened yet.
 */
function fifo(name: string, command: string): { fd: number; writer: ChildProcess } {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer = spawn('bash', ['-c', command, 'bash', path], { stdio: 'ignore' });
  return { fd: openSync(path, 'r'), writer };
}

/** The file's name in stderr as `<stdin>`, to compare a run on stdin with one on the file. */
function asStdin(r: CliResult, file: string): CliResult {
  return { ...r, stderr: r.stderr.split(file).join('<stdin>') };
}

describe('stdin from a shell: the same bytes out as from the file', () => {
  for (const args of [[], ['--json'], ['stats'], ['report']]) {
    it(`ca-shark ${args.join(' ')}: cat |, dd bs=4093 |, < FILE`, async () => {
      const fromFile = asStdin(await runCli([...args, medium]), medium);
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout.length).toBeGreaterThan(0);
      // dd: 4093-byte writes, so reads end mid-record and the capture reader holds records across them.
      for (const script of [
        'cat "$1" | ca_shark "${@:2}"',
        'dd if="$1" bs=4093 status=none | ca_shark "${@:2}"',
        'ca_shark "${@:2}" < "$1"',
      ]) {
        expect({ script, ...(await shell(script, [medium, ...args])) }).toEqual({ script, ...fromFile });
      }
    });
  }

  it('on two threads too (a redirected file is printed as a file is)', async () => {
    for (const args of [['--json'], []]) {
      const fromFile = asStdin(await runCli([...args, medium]), medium);
      const threads = plainEnv({ CA_SHARK_THREADS: '2' });
      expect(await shell('ca_shark "${@:2}" < "$1"', [medium, ...args], threads)).toEqual(fromFile);
    }
  });

  it('on the fixtures', async () => {
    for (const name of ['catest.pcap', 'ca_arrays.pcapng', 'ca_monitor.pcapng', 'example_tcp_data.pcap']) {
      const path = fixture(name);
      const fromFile = asStdin(await runCli([path]), path);
      expect({ name, ...(await shell('cat "$1" | ca_shark', [path])) }).toEqual({ name, ...fromFile });
      expect({ name, ...(await shell('ca_shark < "$1"', [path])) }).toEqual({ name, ...fromFile });
    }
  });

  it('prints messages while a FIFO is still being written, its writer holding it open', async () => {
    const bytes = workloadCapture(200).bytes;
    const expected = lines((await runCli([], { input: bytes })).stdout);
    const path = join(dir, 'live');
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    // bash opens the FIFO as the CLI's stdin; this process is its writer.
    const cli = spawn('bash', ['-c', `exec "${process.execPath}" "${MAIN}" < "$1"`, 'bash', path], {
      cwd: PACKAGE_DIR,
      env: plainEnv(),
    });
    let stdout = '';
    cli.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    cli.stderr.resume();
    const closed = new Promise<number | null>((resolve) => cli.on('close', (code) => resolve(code)));
    const writer = openSync(path, 'w');
    const half = Math.floor(bytes.length / 2);
    writeSync(writer, bytes.subarray(0, half));
    // Lines must show up before EOF: wait for them with the FIFO still open.
    for (let waited = 0; lines(stdout).length === 0 && waited < 30_000; waited += 20) await sleep(20);
    const early = lines(stdout);
    expect(early.length).toBeGreaterThan(0);
    expect(early).toEqual(expected.slice(0, early.length));
    writeSync(writer, bytes.subarray(half));
    closeSync(writer);
    expect(await closed).toBe(0);
    expect(lines(stdout)).toEqual(expected);
  });
});

describe('--write from stdin: the same capture written as from the file', () => {
  it('ca-shark -w OUT: cat |, dd bs=4093 |, < FILE, read from the descriptor as the printing modes read it', async () => {
    const byName = join(dir, 'by-name.pcapng');
    const named = await runCli(['-w', byName, '--command', 'monitor', medium]);
    expect(named.code, named.stderr).toBe(0);
    const written = readFileSync(byName);
    for (const [how, script] of [
      ['cat |', 'cat "$1" | ca_shark -w "$2" --command monitor'],
      ['dd bs=4093 |', 'dd if="$1" bs=4093 status=none | ca_shark -w "$2" --command monitor'],
      ['< FILE', 'ca_shark -w "$2" --command monitor < "$1"'],
    ]) {
      const out = join(dir, 'from-stdin.pcapng');
      const r = await shell(script, [medium, out]);
      expect({ how, code: r.code, stderr: r.stderr }).toEqual({
        how,
        code: 0,
        stderr: named.stderr.split(byName).join(out),
      });
      expect(Buffer.compare(readFileSync(out), written), how).toBe(0);
    }
  });

  it('stops at a corrupt pcapng block length while the writer holds the pipe open, and writes nothing', async () => {
    const capture = fixture('ca_monitor.pcapng');
    const bad = new Uint8Array(12);
    new DataView(bad.buffer).setUint32(0, 6, true);
    new DataView(bad.buffer).setUint32(4, 0x7fffff00, true);
    const cut = join(dir, 'corrupt-w.pcapng');
    writeFileSync(cut, Buffer.concat([readFileSync(capture), bad]));
    const { fd, writer } = fifo('corrupt-w', `exec > "$1"; cat "${cut}"; exec sleep 600`);
    const out = join(dir, 'corrupt-w-out.pcapng');
    const r = await runCliWithStdin(fd, ['-w', out]);
    closeSync(fd);
    writer.kill();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(
        /^ca-shark: <stdin>: frame \d+: pcapng block of type 0x00000006 after frame \d+ has length 2147483392 /,
      ),
    ]);
  });
});

describe('stdin that is no capture', () => {
  it('refuses a directory, as a directory named on the command line', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { recursive: true });
    expect(await shell('ca_shark < "$1"', [sub])).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: is a directory\n',
    });
    expect(await runCli([sub])).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: `ca-shark: ${sub}: is a directory\n`,
    });
    // --write would have written an empty capture.
    const out = join(dir, 'out.pcapng');
    expect(await shell('ca_shark -w "$2" < "$1"', [sub, out])).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: is a directory\n',
    });
  });

  it('fails at the header of garbage on a pipe whose writer never stops', async () => {
    // The writer (one open of the FIFO) then sleeps for longer than the test may run, holding the pipe open.
    const { fd, writer } = fifo(
      'garbage',
      `exec > "$1"; printf 'These are my notes, not a capture.\\n%.0s' {1..100}; exec sleep 600`,
    );
    const r = await runCliWithStdin(fd);
    closeSync(fd);
    writer.kill();
    expect(r).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: input starts with 0x54686573, not a pcap or pcapng magic number\n',
    });
  });

  it('also through a stream stdin (node gives its children socket pairs, read by process.stdin)', async () => {
    const child = spawn(process.execPath, [MAIN], { cwd: PACKAGE_DIR, env: plainEnv() });
    const result = finished(child);
    child.stdin.on('error', () => {});
    // Never ended: only the header tells it is no capture.
    child.stdin.write('These are my notes, not a capture.\n');
    expect(await result).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: input starts with 0x54686573, not a pcap or pcapng magic number\n',
    });
  });

  it('stops at a record the reader cannot take, what came before printed', async () => {
    const bytes = workloadCapture(200).bytes;
    const expected = (await runCli([], { input: bytes })).stdout;
    // A pcap record header claiming 0x7fffffff captured bytes after the capture, then a writer that waits.
    const cut = join(dir, 'corrupt.pcap');
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(8, 0x7fffffff, true);
    writeFileSync(cut, Buffer.concat([bytes, huge]));
    const { fd, writer } = fifo('corrupt', `exec > "$1"; cat "${cut}"; exec sleep 600`);
    const r = await runCliWithStdin(fd);
    closeSync(fd);
    writer.kill();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(expected);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^ca-shark: <stdin>: frame \d+: record claims 2147483647/)]);
  });

  it('stops at a pcapng block length no capture has, what came before printed', async () => {
    const capture = fixture('ca_monitor.pcapng');
    const expected = await runCli([capture]);
    expect(expected.code).toBe(0);
    // An enhanced packet block's type, then a length of 2147483392 (over the 16 MiB limit): the reader
    // knows at once the capture is corrupt, while its writer holds the pipe open.
    const bad = new Uint8Array(12);
    new DataView(bad.buffer).setUint32(0, 6, true);
    new DataView(bad.buffer).setUint32(4, 0x7fffff00, true);
    const cut = join(dir, 'corrupt.pcapng');
    writeFileSync(cut, Buffer.concat([readFileSync(capture), bad]));
    const { fd, writer } = fifo('corrupt-ng', `exec > "$1"; cat "${cut}"; exec sleep 600`);
    const r = await runCliWithStdin(fd);
    closeSync(fd);
    writer.kill();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(expected.stdout);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(
        /^ca-shark: <stdin>: frame \d+: pcapng block of type 0x00000006 after frame \d+ has length 2147483392 \(must be a multiple of 4, 12\.\.16777216\); the file is corrupt, stopping$/,
      ),
    ]);
  });

  it('says why a read failed and exits 2 (a descriptor open for writing only)', async () => {
    const fd = openSync(join(dir, 'write-only'), 'w');
    const r = await runCliWithStdin(fd);
    closeSync(fd);
    expect(r).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: EBADF: bad file descriptor, read\n',
    });
  });
});
