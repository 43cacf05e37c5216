/**
 * The worker of a two-thread print (split.ts). For `--json`: fills the holes of the batches of lines the
 * main thread hands over with their waveforms' digits. For text: decodes the file as the main thread does
 * and formats the odd batches of records. Either way it posts each batch's bytes (transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { shark, type CaRecord } from '@ca-shark/decoder';
import { compileFilter } from '@ca-shark/analysis';
import { parseCommandLine } from './args.js';
import { palette } from './color.js';
import { Batcher, lineWrite, workerBatch, type LineWrite } from './lines.js';
import { TextBuffer } from './text-buffer.js';
import {
  fillHoles,
  MAX_AHEAD,
  type FilledMessage,
  type HoleBatch,
  type NumbersJob,
  type SplitJob,
  type SplitMessage,
  type WorkerJob,
} from './split.js';

const NEWLINE = 0x0a;
/** Start size of a batch's byte buffer (it grows by doubling). */
const START_BYTES = 256 * 1024;

/** Lines of one batch written into one growing buffer. */
class BatchBytes {
  private readonly buf = new TextBuffer(START_BYTES);

  record(write: LineWrite, record: CaRecord): void {
    write(this.buf, record);
    this.buf.byte(NEWLINE);
  }

  /** The bytes so far, in a buffer of their own (transferable); starts a new batch. */
  take(): Uint8Array {
    const out = new Uint8Array(this.buf.length);
    out.set(this.buf.bytes.subarray(0, this.buf.length));
    this.buf.length = 0;
    return out;
  }
}

/** `--json`: fills each batch's holes as it comes, in order, and counts it in `job.filled`. */
function fillBatches(job: NumbersJob): void {
  const port = job.port;
  const filled = new Int32Array(job.filled);
  port.on('message', (batch: HoleBatch) => {
    let message: FilledMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const bytes = fillHoles(batch);
      message = { kind: 'filled', id: batch.id, bytes };
      transfer = [bytes.buffer as ArrayBuffer];
    } catch (e) {
      message = { kind: 'error', message: (e as Error).message };
    }
    port.postMessage(message, transfer);
    Atomics.add(filled, 0, 1);
    Atomics.notify(filled, 0);
  });
}

async function printOddBatches(job: SplitJob): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const taken = new Int32Array(job.taken);
  const options = parseCommandLine(job.argv);
  const filter = compileFilter({
    pv: options.pv,
    host: options.host,
    command: options.commands,
    errors: options.errors,
  });
  const write = lineWrite(options, palette(job.color));
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
      if (workerBatch(batch) && filter(record)) out.record(write, record);
    }
    if (batcher.started && workerBatch(batcher.batch)) post(batcher.batch);
    port.postMessage({ kind: 'end' } satisfies SplitMessage);
  } catch (e) {
    // The main thread meets the same failure at the same record: hand over what came before it.
    if (batcher.started && workerBatch(batcher.batch)) post(batcher.batch);
    port.postMessage({ kind: 'error', message: (e as Error).message } satisfies SplitMessage);
  }
}

const job = workerData as WorkerJob;
if (job.kind === 'numbers') fillBatches(job);
else await printOddBatches(job);
