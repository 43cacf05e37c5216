/**
 * What one streamed record costs: JSON bytes and serialisation CPU of the full record (the WebSocket form
 * before issue 12, and what `GET /api/record/:id` answers) against the compact live record streamed now;
 * and the heap that the ring of streamed records really holds per record against its estimate.
 *
 * Usage (from the repository root):
 *   node --expose-gc --conditions=source --import tsx packages/daemon/src/wire-size.bench.ts CAPTURE...
 */
import { shark } from '@ca-shark/decoder';
import type { CaRecord } from '@ca-shark/decoder';
import { fullRecordJSON, toWire } from './engine.js';
import { RecordRing, estimateRecordBytes } from './record-ring.js';

const gc = (globalThis as { gc?: () => void }).gc;

async function sizes(file: string): Promise<Record<string, number | string>> {
  let records = 0;
  let fullBytes = 0;
  let liveBytes = 0;
  let fullNs = 0n;
  let liveNs = 0n;
  for await (const record of shark(file, { keepBytes: true })) {
    records += 1;
    const t0 = process.hrtime.bigint();
    const full = fullRecordJSON(record, records);
    const t1 = process.hrtime.bigint();
    const live = toWire(record, records);
    const t2 = process.hrtime.bigint();
    fullNs += t1 - t0;
    liveNs += t2 - t1;
    fullBytes += full.length;
    liveBytes += live.length;
  }
  return {
    file,
    records,
    fullBytesPerRecord: Math.round(fullBytes / records),
    liveBytesPerRecord: Math.round(liveBytes / records),
    fullMicrosPerRecord: Number(fullNs / BigInt(records)) / 1000,
    liveMicrosPerRecord: Number(liveNs / BigInt(records)) / 1000,
  };
}

/** Heap the ring holds for its first `n` records of `file`, measured after full collections. */
async function ringHeap(file: string, n: number): Promise<Record<string, number | string>> {
  if (gc === undefined) return { file, skipped: 'run with --expose-gc' };
  const ring = new RecordRing<CaRecord>(estimateRecordBytes, { maxRecords: n, maxBytes: Number.MAX_SAFE_INTEGER });
  const it = shark(file, { keepBytes: true });
  let id = 0;
  gc();
  const before = process.memoryUsage();
  for await (const record of it) {
    ring.add(++id, record);
    if (id === n) break;
  }
  await it.return();
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  return {
    file,
    records: ring.size,
    heldBytesPerRecord: Math.round(held / ring.size),
    estimatedBytesPerRecord: Math.round(ring.bytes / ring.size),
  };
}

for (const file of process.argv.slice(2)) {
  process.stdout.write(JSON.stringify(await sizes(file)) + '\n');
  process.stdout.write(JSON.stringify(await ringHeap(file, 100_000)) + '\n');
}
