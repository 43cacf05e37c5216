/**
 * The sensor's side in the decoding worker: every decoded record (and every circuit end) is appended to the
 * batch being built ({@link BatchEncoder}); the worker hands a finished batch to the main thread, which
 * publishes it. Appending copies the message bytes once and allocates nothing per record, so publishing
 * costs the decoder little; all NATS I/O, waiting and buffering happen on the main thread.
 */
import { randomInt } from 'node:crypto';
import { type CaRecord, type CircuitInfo, lentBytes } from '@ca-shark/decoder';
import { BatchEncoder, CLOSE_REASONS, type CloseReason, type SensorPorts } from './codec.js';

/** A batch is handed over once it holds this many bytes (well under NATS's default 1 MiB max_payload). */
export const BATCH_MAX_BYTES = 256 * 1024;
/** ... or once its first record waited this long (ms). */
export const BATCH_MAX_MS = 50;

/**
 * Message bytes sent per record: a 30,000-element DBR_DOUBLE waveform (240 kB) crosses whole; a longer
 * message crosses cut (the central shows it truncated). With {@link BATCH_MAX_BYTES} a batch stays under
 * NATS's default 1 MiB max_payload.
 */
export const MAX_RAW_BYTES = 256 * 1024;

/** Builds the batches of one sensor run. */
export class SensorBatcher {
  private readonly encoder: BatchEncoder;
  private lastFrame = 0;
  private lastTime = 0;
  private startedAt = 0;
  /** Random per process: a restarted sensor numbers its records anew, and the central must know. */
  readonly run: number;

  constructor(ports: SensorPorts, run = randomInt(1, 2 ** 32 - 1)) {
    this.run = run;
    this.encoder = new BatchEncoder(run, ports, MAX_RAW_BYTES);
  }

  /** Sequence number of the next record. */
  get sequence(): number {
    return this.encoder.sequence;
  }

  /** Appends a record; true when the batch is full and must be handed over now. */
  add(record: CaRecord, now: number): boolean {
    if (this.encoder.empty) this.startedAt = now;
    const transport = record.transport;
    this.lastFrame = record.frame;
    this.lastTime = record.timestamp;
    this.encoder.message({
      kind: transport.protocol,
      t: record.timestamp,
      frame: record.frame,
      src: record.src,
      sport: transport.sport,
      dst: record.dst,
      dport: transport.dport,
      ...(record.circuit !== undefined ? { circuit: record.circuit } : {}),
      role: record.role,
      pv: record.pv,
      ...(record.latency !== undefined ? { latency: record.latency } : {}),
      size: record.size,
      // Lent by the engine's decoder while the record is published (this copies it into the batch).
      raw: record.raw ?? lentBytes(record) ?? EMPTY,
      cut: record.truncated === true,
    });
    // Checked per record: one batch of frames can decode into megabytes of records, and a batch must stay
    // under NATS's max_payload.
    return this.encoder.bytes >= BATCH_MAX_BYTES;
  }

  closed(circuit: CircuitInfo, now: number): void {
    const reason = circuit.closeReason;
    if (!CLOSE_REASONS.includes(reason as CloseReason)) return;
    if (this.encoder.empty) this.startedAt = now;
    this.encoder.close({
      t: circuit.closedAt ?? this.lastTime,
      frame: this.lastFrame,
      circuit: circuit.id,
      reason: reason as CloseReason,
    });
  }

  /** True when the batch being built should be handed over now. */
  due(now: number): boolean {
    return !this.encoder.empty && (this.encoder.bytes >= BATCH_MAX_BYTES || now - this.startedAt >= BATCH_MAX_MS);
  }

  /** The finished batch and its record count, or undefined when empty. */
  take(): { bytes: Uint8Array; records: number } | undefined {
    if (this.encoder.empty) return undefined;
    const records = this.encoder.count;
    return { bytes: this.encoder.take(), records };
  }
}

const EMPTY = new Uint8Array(0);
