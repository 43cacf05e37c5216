/**
 * `tcpdump -w - | ca-sharkd --stdin` (no `--exit-on-eof`) of a capture corrupt half-way: the daemon stops
 * reading at the corrupt framing and serves on, and closes its end of the pipe, so that the writer gets
 * EPIPE rather than blocking for ever on a full pipe.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBulkCapture } from './test-support/bulk-capture.js';
import { spawnDaemonReading } from './test-support/programs.js';

/** Bytes of a pcap record header, and where its captured length is. */
const PCAP_RECORD_HEADER_LEN = 16;
const PCAP_RECORD_OFF_CAPLEN = 8;
/** How long the writer may stay blocked before the test calls it stuck (ms). */
const WRITER_WAIT_MS = 20_000;

let dir: string;
let corrupt: string;
let frames: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-stdin-close-'));
  const capture = join(dir, 'bulk.pcap');
  frames = writeBulkCapture(capture, 256 * 1024).frames;
  // Then a record header claiming 0x7fffffff captured bytes: the reader stops there.
  const huge = new Uint8Array(PCAP_RECORD_HEADER_LEN);
  new DataView(huge.buffer).setUint32(PCAP_RECORD_OFF_CAPLEN, 0x7fffffff, true);
  corrupt = join(dir, 'corrupt.pcap');
  writeFileSync(corrupt, Buffer.concat([readFileSync(capture), huge]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--stdin without --exit-on-eof at corrupt framing', { timeout: 90_000 }, () => {
  it.skipIf(process.platform !== 'linux')(
    'closes the pipe: a writer that keeps writing gets EPIPE; the daemon serves on and reports the error',
    async () => {
      const fifo = join(dir, 'fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      // The capture, then zeros for ever (a capture that goes on): only a closed pipe ends this writer.
      const writer = spawn('sh', ['-c', 'exec > "$2"; cat "$1"; exec cat /dev/zero', 'sh', corrupt, fifo], {
        stdio: 'ignore',
      });
      const writerEnd = new Promise<string>((resolve) =>
        writer.once('close', (code, signal) => resolve(`${code} ${signal}`)),
      );
      const fd = openSync(fifo, 'r');
      const daemon = spawnDaemonReading(fd, ['--stdin', '--listen', '127.0.0.1:0']);
      closeSync(fd);
      let stderr = '';
      daemon.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const daemonEnd = new Promise<number | null>((resolve) => daemon.once('close', resolve));
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<string>(
        (resolve) => (timer = setTimeout(() => resolve('still blocked'), WRITER_WAIT_MS)),
      );
      const wrote = await Promise.race([writerEnd, stuck]);
      clearTimeout(timer);
      writer.kill('SIGKILL');
      // Killed by SIGPIPE at its next write into the closed pipe (or told EPIPE and gone with an error).
      expect(wrote).toMatch(/^(null SIGPIPE|1 null)$/);
      // The daemon serves on; shut down, it exits 2 with the input's error before its summary.
      expect(daemon.exitCode).toBe(null);
      daemon.kill('SIGTERM');
      expect(await daemonEnd).toBe(2);
      expect(stderr).toMatch(
        new RegExp(
          `^ca-sharkd: <stdin>: frame ${frames + 1}: record claims 2147483647 captured bytes, more than the limit of 262144; the file is corrupt, stopping$`,
          'm',
        ),
      );
      expect(stderr).toContain(`ca-sharkd: ${frames} packets`);
    },
  );
});
