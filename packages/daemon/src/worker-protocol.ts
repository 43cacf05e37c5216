/** Messages between the main thread (capture, HTTP, WebSocket) and the decoding worker. */
import type { DecoderOptions } from '@ca-shark/decoder';
import type { WireRecord } from './engine.js';
import type { CaptureCounters, SourceDescription } from './sources/types.js';
import type { StatsView } from './views.js';

/** Tables the main thread can ask the worker for. */
export type Query = 'channels' | 'servers' | 'clients' | 'searches' | 'snapshot' | 'stats' | 'report';

/** Main → worker. */
export type ToWorker =
  | { type: 'init'; decoder: DecoderOptions; logLevel: string; tty: boolean; description: SourceDescription }
  | { type: 'frames'; buffer: ArrayBuffer; frames: number }
  | { type: 'describe'; description: SourceDescription }
  | { type: 'poll'; capture: CaptureCounters; hub: { clients: number; dropped: number }; decoderDropped: number }
  | { type: 'end' }
  /** Whether any WebSocket client is connected: without one, records are not serialised at all. */
  | { type: 'wanted'; wanted: boolean }
  | { type: 'query'; id: number; what: Query; sections?: string[] };

/** Worker → main. */
export type FromWorker =
  | { type: 'records'; items: WireRecord[] }
  /** `batchBytes`: bytes of frame batches decoded so far (the main thread bounds what is in flight). */
  | { type: 'stats'; stats: StatsView; eof: boolean; linktype?: number }
  /**
   * Sent after every `frames` batch is decoded: `batchBytes` of batches decoded so far. The main thread's
   * credit for flow control: it bounds the bytes in flight, pausing file and stdin sources (or, for live
   * capture, dropping batches) while the worker is behind.
   */
  | { type: 'decoded'; batchBytes: number }
  | { type: 'reply'; id: number; value: unknown; error?: string };
