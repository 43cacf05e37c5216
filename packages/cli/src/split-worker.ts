/**
 * The worker of a two-thread print (split.ts): fills the holes of the batches the main thread hands over
 * (the digits of `--json` waveforms, or the numpy repr of text payloads) in their shared slots, and counts
 * each batch in the job's `filled`.
 */
import { workerData } from 'node:worker_threads';
import { fillSlot, Slot, type FilledMessage, type FillRequest, type WorkerJob } from './split.js';

const job = workerData as WorkerJob;
const slots: Slot[] = [];
const filled = new Int32Array(job.filled);
job.port.on('message', (request: FillRequest) => {
  let message: FilledMessage;
  let transfer: ArrayBuffer[] = [];
  try {
    if (request.memory !== undefined) slots[request.slot] = new Slot(request.memory);
    const slot = slots[request.slot];
    const overflow = fillSlot(job.kind, slot, request.holeCount, slot.lines, request.length);
    message = { kind: 'filled', slot: request.slot, overflow };
    if (overflow !== null) transfer = [overflow.buffer as ArrayBuffer];
  } catch (e) {
    message = { kind: 'error', message: (e as Error).message };
  }
  job.port.postMessage(message, transfer);
  Atomics.add(filled, 0, 1);
  Atomics.notify(filled, 0);
});
