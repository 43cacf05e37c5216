/**
 * The worker of a two-thread print (split.ts): decodes the file as the main thread does and formats the
 * odd batches of records, posting each batch's bytes (transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { shark } from '@ca-shark/decoder';
import { compileFilter } from '@ca-shark/analysis';
import { parseCommandLine } from './args.js';
import { palette } from './color.js';
import { Batcher, lineFormatter, workerBatch } from './lines.js';
import { MAX_AHEAD, type SplitJob, type SplitMessage } from './split.js';

const NEWLINE = 0x0a;
/** Start size of a batch's byte buffer (grown by doubling). */
const START_BYTES = 256 * 1024;
/** UTF-8 bytes per UTF-16 code unit at most. */
const MAX_UTF8_PER_UNIT = 3;

/** Lines of one batch encoded into one growing buffer. */
class BatchBytes {
  private buf = Buffer.allocUnsafeSlow(START_BYTES);
  private used = 0;

  line(text: string): void {
    const worst = text.length * MAX_UTF8_PER_UNIT + 1;
    if (this.used + worst > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + worst));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(text, this.used, 'utf8');
    this.buf[this.used++] = NEWLINE;
  }

  /** The bytes so far, in a buffer of their own (transferable); starts a new batch. */
  take(): Uint8Array {
    const out = new Uint8Array(this.used);
    out.set(this.buf.subarray(0, this.used));
    this.used = 0;
    return out;
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const job = workerData as SplitJob;
  const taken = new Int32Array(job.taken);
  const options = parseCommandLine(job.argv);
  const filter = compileFilter({
    pv: options.pv,
    host: options.host,
    command: options.commands,
    errors: options.errors,
  });
  const format = lineFormatter(options, palette(job.color));
  const batcher = new Batcher();
  const out = new BatchBytes();
  let posted = 0;
  const post = (batch: number): void => {
    // Wait while the main thread is MAX_AHEAD batches behind: the text waiting for it stays bounded.
    while (posted - Atomics.load(taken, 0) >= MAX_AHEAD) Atomics.wait(taken, 0, Atomics.load(taken, 0), 1000);
    const bytes = out.take();
    const message: SplitMessage = { kind: 'batch', batch, bytes };
    port.postMessage(message, [bytes.buffer as ArrayBuffer]);
    posted++;
  };
  try {
    for await (const record of shark(job.path, { extraServerPorts: options.ports })) {
      const before = batcher.batch;
      const batch = batcher.next(record);
      if (batch !== before && workerBatch(before)) post(before);
      if (workerBatch(batch) && filter(record)) out.line(format(record));
    }
    if (batcher.started && workerBatch(batcher.batch)) post(batcher.batch);
    port.postMessage({ kind: 'end' } satisfies SplitMessage);
  } catch (e) {
    // The main thread meets the same failure at the same record: hand over what came before it.
    if (batcher.started && workerBatch(batcher.batch)) post(batcher.batch);
    port.postMessage({ kind: 'error', message: (e as Error).message } satisfies SplitMessage);
  }
}

await main();
