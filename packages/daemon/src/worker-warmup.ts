/**
 * Warm-up of the decoding worker's own path, before the first frame: a live daemon's first flood otherwise
 * meets its record path cold (the live analyses, the channel table and series, the held records, the
 * packet ring, the stream's sampling and compact records, the views), and V8 runs it unoptimised until each
 * function has run often enough, while the backlog grows (issue 12: the largest Live lag is at a flood's
 * start). The decoder warms itself (decoder/src/warmup.ts) with a few hundred messages; here the same
 * generated capture goes through a throwaway engine and the same classes as the worker's, several times,
 * with one views publication each. Everything it builds is dropped: the real engine starts from nothing.
 */
import { CaptureReader, type CaptureFrame } from '@ca-shark/packet';
import { warmUpCapture, type CaRecord } from '@ca-shark/decoder';
import type { Logger } from 'pino';
import { Engine, toWire } from './engine.js';
import { RecordHistory } from './history.js';
import { TABLE_NAMES } from './model.js';
import { PacketRing } from './packet-ring.js';
import { EVERYTHING, BatchSampler } from './subscriptions.js';
import { ViewPublisher } from './views-publisher.js';

/** Passes over the warm-up capture, each through a fresh engine. */
export const WARM_UP_PASSES = 10;
/** Packet ring of a warm-up pass: a few blocks, enough for the capture's packets. */
const WARM_RING_BYTES = 4 * 1024 * 1024;
/** Records a pass streams: a page reading 2,000 a second, sampled as the worker samples it. */
const WARM_STREAM_RATE = 2000;

/** What a warm-up ran: messages decoded over the passes it ran. */
export interface WarmUpResult {
  messages: number;
  passes: number;
}

/**
 * A warm-up run one pass at a time ({@link WorkerWarmUp.step}), so that the worker serves its message
 * queue (frame batches, queries) between passes and stops warming once real traffic arrives.
 */
export class WorkerWarmUp {
  private readonly frames: CaptureFrame[] = [];
  private readonly logger: Logger;
  private messages = 0;
  private passes = 0;

  constructor(
    logger: Logger,
    private readonly total = WARM_UP_PASSES,
  ) {
    const reader = new CaptureReader({ frame: (frame) => this.frames.push(frame), problem: () => undefined });
    reader.push(warmUpCapture());
    reader.end();
    // Its engines' warnings (the capture's deliberate faults) are not the daemon's.
    this.logger = logger.child({}, { level: 'silent' });
  }

  /** Runs the next pass; false once all have run. */
  step(): boolean {
    if (this.passes >= this.total) return false;
    this.messages += warmUpPass(this.frames, this.logger);
    this.passes += 1;
    return this.passes < this.total;
  }

  /** What ran so far. */
  get result(): WarmUpResult {
    return { messages: this.messages, passes: this.passes };
  }
}

/** Runs the worker's record path over the warm-up capture `passes` times at once and drops what it built. */
export function warmUpWorker(logger: Logger, passes = WARM_UP_PASSES): WarmUpResult {
  const warm = new WorkerWarmUp(logger, passes);
  while (warm.step());
  return warm.result;
}

function warmUpPass(frames: readonly CaptureFrame[], logger: Logger): number {
  const packets = new PacketRing(WARM_RING_BYTES);
  const history = new RecordHistory({ bounds: { maxRecords: 10_000 } });
  const sampler = new BatchSampler();
  sampler.setRates(WARM_STREAM_RATE, new Map());
  let batch: CaRecord[] = [];
  let ids: number[] = [];
  let sequence = 0;
  const flush = (): void => {
    const { picked } = sampler.take(0.02);
    for (const i of picked) toWire(batch[i], ids[i]);
    batch = [];
    ids = [];
  };
  const engine = new Engine({
    packets,
    describe: () => ({ kind: 'live' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger,
    decoder: {},
    onAlert: () => undefined,
    publish: (record, channel) => {
      packets.record(record);
      const id = ++sequence;
      history.add(id, record, channel);
      if (!sampler.offer(record, batch.length)) return;
      batch.push(record);
      ids.push(id);
    },
  });
  engine.setSeriesPast(history.held);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    engine.frame(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId);
    if (i % 50 === 49) flush();
  }
  flush();
  new ViewPublisher(engine).publish(TABLE_NAMES);
  sampler.remove(EVERYTHING);
  return sequence;
}
