/**
 * Daemon file and stdin ingest: a capture of about 100 MB (generated, or INGEST_FILE=path) replayed with
 * `-r --speed max` and piped into `--stdin`, as fast as the decoding worker goes. Prints per path the
 * messages decoded against the count `shark()` (what `ca-shark --json | wc -l` prints) finds, the frames
 * dropped (must be 0: files and stdin are read with backpressure), msgs/s, MB/s, CPU seconds (all threads)
 * and peak RSS.
 *
 *   node --conditions=source --import tsx src/ingest.bench.ts        (INGEST_MB=100, INGEST_FILE=...)
 *
 * Also run by daemon.bench.ts (`pnpm bench`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shark } from '@ca-shark/decoder';
import type { RunningDaemon } from './server.js';
import { writeBulkCapture } from './test-support/bulk-capture.js';
import { startTestDaemon } from './test-support/daemon.js';

/** One ingest path's figures. */
export interface IngestResult {
  path: 'file' | 'stdin';
  megabytes: number;
  expectedMessages: number;
  messages: number;
  decoderDropped: number;
  malformed: number;
  seconds: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  cpuSeconds: number;
  peakRssMB: number;
}

async function measure(
  path: IngestResult['path'],
  file: string,
  expectedMessages: number,
  start: () => Promise<RunningDaemon>,
): Promise<IngestResult> {
  const bytes = statSync(file).size;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const d = await start();
  try {
    await d.engine.whenEnded();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = d.engine.stats();
    return {
      path,
      megabytes: Math.round(bytes / 1e5) / 10,
      expectedMessages,
      messages: s.messages,
      decoderDropped: s.decoderDropped,
      malformed: s.malformed,
      seconds: Math.round(seconds * 100) / 100,
      messagesPerSecond: Math.round(s.messages / seconds),
      megabytesPerSecond: Math.round(bytes / 1e5 / seconds) / 10,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await d.shutdown('bench');
  }
}

/** Runs both paths on INGEST_FILE or a generated capture of INGEST_MB (default 100) MB. */
export async function ingestBench(): Promise<IngestResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-ingest-'));
  try {
    let file = process.env.INGEST_FILE;
    if (file === undefined) {
      file = join(dir, 'bulk.pcap');
      writeBulkCapture(file, Number(process.env.INGEST_MB ?? 100) * 1e6);
    }
    let expected = 0;
    for await (const _ of shark(file)) expected += 1;
    const path = file;
    const results = [
      await measure('file', path, expected, () =>
        startTestDaemon(['-r', path, '--speed', 'max', '--log-level', 'warn']),
      ),
      await measure('stdin', path, expected, () => {
        const cat = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
        return startTestDaemon(['--stdin', '--log-level', 'warn'], { input: cat.stdout });
      }),
    ];
    for (const r of results) process.stderr.write(`ingest: ${JSON.stringify(r)}\n`);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(await ingestBench(), null, 2) + '\n');
}
