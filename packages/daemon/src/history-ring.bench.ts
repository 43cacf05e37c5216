/**
 * What history costs: heap held per record by the held records ({@link HeldRecords}) and the CPU of taking
 * one record into the history (held records and chart aggregates) in the decoding worker: the wall time of
 * the `add` calls alone (`addMicrosPerRecord`), and the process CPU of a pass over the capture that adds
 * every record less that of a pass that does not (the mean of one before and one after), which also counts
 * the garbage collection that holding records causes elsewhere (`addCpuMicrosPerRecord`). The heap is
 * measured after a first pass, so the decoder's compiled code and caches are not counted as held (sessions
 * before 12 measured it in the first pass: 20-40 bytes a record more on the bench's 100 MB capture).
 *
 * Usage (from the repository root):
 *   node --expose-gc --conditions=source --import tsx packages/daemon/src/history-ring.bench.ts CAPTURE...
 */
import { shark } from '@ca-shark/decoder';
import { RecordHistory } from './history.js';

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Collects garbage, waits for the freed array buffers' memory to be released (the sweeper frees their
 * backing stores after the collection: without the wait, a pass's buffers counted in `before` and the
 * figure varied by 30 %), and collects again.
 */
async function settle(gc: () => void): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
}

/** CPU seconds of a pass over `file` that only decodes. */
async function decodeOnly(file: string): Promise<number> {
  const cpu0 = process.cpuUsage();
  let bytes = 0;
  for await (const record of shark(file, { keepBytes: true })) bytes += record.size;
  const cpu = process.cpuUsage(cpu0);
  return bytes < 0 ? 0 : (cpu.user + cpu.system) / 1e6;
}

async function measure(file: string): Promise<Record<string, number | string>> {
  if (gc === undefined) return { file, skipped: 'run with --expose-gc' };
  const plainBefore = await decodeOnly(file);
  const held = await hold(file, gc);
  // The held records are garbage now, collected before the second plain pass.
  await settle(gc);
  const plainAfter = await decodeOnly(file);
  const { cpuSeconds, records, ...figures } = held;
  return {
    file,
    records,
    ...figures,
    addCpuMicrosPerRecord: Math.round(((cpuSeconds - (plainBefore + plainAfter) / 2) * 1e9) / records) / 1000,
  };
}

/** A pass over `file` that adds every record to a history, and what that history holds. */
async function hold(file: string, gc: () => void): Promise<Record<string, number>> {
  const history = new RecordHistory({ bounds: { maxRecords: 1_000_000, maxSeconds: Infinity } });
  const it = shark(file, { keepBytes: true });
  let id = 0;
  let ns = 0n;
  await settle(gc);
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  for await (const record of it) {
    const t0 = process.hrtime.bigint();
    history.add(++id, record);
    ns += process.hrtime.bigint() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  await settle(gc);
  const after = process.memoryUsage();
  const heldBytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  const scan0 = process.hrtime.bigint();
  history.begin({ request: 1, filter: { pv: ['*:d*'] }, since: 0, limit: 10_000 }, id);
  let result;
  while ((result = history.step()) === undefined);
  const scanNs = process.hrtime.bigint() - scan0;
  return {
    records: history.held.size,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    heldBytesPerRecord: Math.round(heldBytes / history.held.size),
    addMicrosPerRecord: Number(ns / BigInt(id)) / 1000,
    scanMillis: Number(scanNs / 1000n) / 1000,
    scanMatched: result.matched,
  };
}

for (const file of process.argv.slice(2)) process.stdout.write(JSON.stringify(await measure(file)) + '\n');
