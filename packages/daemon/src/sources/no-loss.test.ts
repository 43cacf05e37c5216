import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon } from '../server.js';
import { writeBulkCapture } from '../test-support/bulk-capture.js';
import { startTestDaemon } from '../test-support/daemon.js';
import { CLI_MAIN, runDaemonShell, runProgram } from '../test-support/programs.js';

/**
 * File and stdin sources must lose nothing however far decoding falls behind: the worker's window is
 * shrunk to 256 KiB against a 12 MB capture, so without backpressure most batches would be dropped.
 */
const WINDOW = 256 * 1024;
const CAPTURE_BYTES = 12 * 1024 * 1024;

let dir: string;
let file: string;
/** `ca-shark --json FILE | wc -l` */
let expected: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-no-loss-'));
  file = join(dir, 'bulk.pcap');
  writeBulkCapture(file, CAPTURE_BYTES);
  const cli = await runProgram(CLI_MAIN, ['--json', file], { countOnly: true });
  expect(cli.code).toBe(0);
  expected = cli.lines;
  expect(expected).toBeGreaterThan(50_000);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits for the end of the input and checks that every record was decoded, none dropped or malformed. */
async function expectEverything(daemon: RunningDaemon): Promise<void> {
  try {
    await daemon.engine.whenEnded();
    const stats = daemon.engine.stats();
    expect({ messages: stats.messages, decoderDropped: stats.decoderDropped, malformed: stats.malformed }).toEqual({
      messages: expected,
      decoderDropped: 0,
      malformed: 0,
    });
    expect(daemon.engine.inputFailures).toEqual([]);
  } finally {
    await daemon.shutdown('test');
  }
}

describe('non-live sources lose nothing', { timeout: 120_000 }, () => {
  it('-r --speed max decodes every record of a capture far larger than the worker window', async () => {
    const daemon = await startTestDaemon(['-r', file, '--speed', 'max'], {
      engine: { maxInFlightBytes: WINDOW, pullWindowBytes: WINDOW },
    });
    await expectEverything(daemon);
  });

  it('--stdin from a pipe decodes every record, pausing the writer instead of dropping', async () => {
    const cat = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const daemon = await startTestDaemon(['--stdin'], {
      input: cat.stdout,
      engine: { maxInFlightBytes: WINDOW, pullWindowBytes: WINDOW },
    });
    await expectEverything(daemon);
  });

  it('ca-sharkd --stdin behind a shell pipe (read by the daemon itself) decodes every record', async () => {
    // A shell's pipe is a FIFO, which the daemon reads with its own buffer (sources/stdin.ts); node's own
    // child pipes are sockets and take the stream, as in the test above.
    const { code, stderr } = await runDaemonShell('cat "$1" | ca_sharkd --stdin --exit-on-eof --listen 127.0.0.1:0', [
      file,
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain(`, ${expected} CA messages (0 malformed); `);
    expect(stderr).not.toContain('dropped because decoding fell behind');
  });
});
