/**
 * The worker of a two-thread print (split.ts): fills the holes of the batches the main thread hands over
 * (the digits of `--json` waveforms, or the numpy repr of text payloads) in their shared slots, or writes
 * the default lines of the records on a tape (split-lines.ts), and counts each batch in the job's
 * `filled`.
 */
import { workerData } from 'node:worker_threads';
import { fillSlot, Slot, type FilledMessage, type FillRequest, type WorkerJob } from './split.js';
import { TapeSlot, writeTape, type TapeRequest } from './split-lines.js';

const job = workerData as WorkerJob;
const slots: Slot[] = [];
const tapes: TapeSlot[] = [];
const filled = new Int32Array(job.filled);
job.port.on('message', (request: FillRequest | TapeRequest) => {
  let message: FilledMessage;
  let transfer: ArrayBuffer[] = [];
  try {
    let overflow: Uint8Array | null;
    if (job.kind === 'lines') {
      const r = request as TapeRequest;
      if (r.memory !== undefined) tapes[r.slot] = new TapeSlot(r.slot, r.memory);
      overflow = writeTape(tapes[r.slot], r);
    } else {
      const r = request as FillRequest;
      if (r.memory !== undefined) slots[r.slot] = new Slot(r.memory);
      overflow = fillSlot(job.kind, slots[r.slot], r.holeCount);
    }
    message = { kind: 'filled', slot: request.slot, overflow };
    if (overflow !== null) transfer = [overflow.buffer as ArrayBuffer];
  } catch (e) {
    message = { kind: 'error', message: (e as Error).message };
  }
  job.port.postMessage(message, transfer);
  Atomics.add(filled, 0, 1);
  Atomics.notify(filled, 0);
});
