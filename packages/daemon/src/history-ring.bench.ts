/**
 * What history costs: heap held per record by the held records ({@link HeldRecords}) and the CPU of taking
 * one record into the history (held records and chart aggregates) in the decoding worker.
 *
 * Usage (from the repository root):
 *   node --expose-gc --conditions=source --import tsx packages/daemon/src/history-ring.bench.ts CAPTURE...
 */
import { shark } from '@ca-shark/decoder';
import { RecordHistory } from './history.js';

const gc = (globalThis as { gc?: () => void }).gc;

async function measure(file: string): Promise<Record<string, number | string>> {
  if (gc === undefined) return { file, skipped: 'run with --expose-gc' };
  const history = new RecordHistory({ bounds: { maxRecords: 1_000_000, maxSeconds: Infinity } });
  const it = shark(file, { keepBytes: true });
  let id = 0;
  let ns = 0n;
  gc();
  const before = process.memoryUsage();
  for await (const record of it) {
    const t0 = process.hrtime.bigint();
    history.add(++id, record);
    ns += process.hrtime.bigint() - t0;
  }
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  const scan0 = process.hrtime.bigint();
  history.begin({ request: 1, filter: { pv: ['*:d*'] }, since: 0, limit: 10_000 }, id);
  let result;
  while ((result = history.step()) === undefined);
  const scanNs = process.hrtime.bigint() - scan0;
  return {
    file,
    records: history.held.size,
    heldBytesPerRecord: Math.round(held / history.held.size),
    addMicrosPerRecord: Number(ns / BigInt(id)) / 1000,
    scanMillis: Number(scanNs / 1000n) / 1000,
    scanMatched: result.matched,
  };
}

for (const file of process.argv.slice(2)) process.stdout.write(JSON.stringify(await measure(file)) + '\n');
