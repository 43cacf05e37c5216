/**
 * The one interface every long-running input of the daemon implements: live capture, stdin, file replay and
 * the demo. The rest of the daemon only sees frames (with capture timestamps), counters and a description.
 */

import { STDIN_LABEL } from '@ca-shark/packet';
import type { SpoolShare, SpoolStatus } from './spool.js';

/** What a source is, as shown in `/api/health`, the WebSocket hello and the dashboard's status bar. */
export interface SourceDescription {
  kind: 'live' | 'stdin' | 'file' | 'demo' | 'nats';
  /** Interface name for live and demo capture. */
  iface?: string;
  /** pcap LINKTYPE_ number once known. */
  linktype?: number;
  /** BPF filter of live and demo capture. */
  filter?: string;
  /** Path of a replayed file. */
  file?: string;
  /** Replay speed factor, or 'max'. */
  speed?: number | 'max';
  /** A central's NATS servers (without credentials). */
  nats?: string;
  /** The sensors a central takes records from (absent: all). */
  sensors?: string[];
}

/** A problem reported by the capture-file reader (the packet layer's PacketProblem shape). */
export interface SourceProblem {
  frame: number;
  code: string;
  message: string;
}

/** libpcap's counters (pcap_stats) for live capture; zeros for other sources. */
export interface CaptureCounters {
  received: number;
  dropped: number;
  ifDropped: number;
}

/** Where a source delivers what it reads. Calls happen on the main thread, in capture order. */
export interface SourceSink {
  /**
   * One link-layer frame. `bytes` belongs to the callee (the source passes a copy). `interfaceId`: the
   * pcapng interface it came from (0 for live capture and classic pcap), kept for the pcapng export.
   * `place`: a replayed file's offset of the frame's captured bytes (the packet ring keeps that instead of
   * a copy, packet-ring.ts); absent or -1 for frames not read from a regular file.
   */
  frame(
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId?: number,
    place?: number,
  ): void;
  /**
   * Optional zero-copy variant of {@link SourceSink.frame}: `bytes` is a view of the source's buffer (live
   * capture's, or the chunk a file or stdin was read in), valid only during the call (the next packet or
   * chunk overwrites it), so the sink must copy what it keeps before returning. A source calls it when the
   * sink has it and `frame` with a copy otherwise.
   */
  frameView?(
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId?: number,
    place?: number,
  ): void;
  /** A capture-file problem (truncated record, corrupt block) the reader skipped past. */
  problem(problem: SourceProblem): void;
  /** The input has ended (stdin EOF, end of a replayed file). Live capture never ends on its own. */
  end(): void;
  /**
   * A failure after start (read error, capture died, input found unreadable). The daemon logs it and keeps
   * serving what it has; an unreadable file or stdin (a DaemonError) also makes it exit non-zero.
   */
  error(err: Error): void;
  /**
   * Flow control for sources that can wait (file, stdin): undefined while the decoder has room, else a
   * promise that resolves once it has. Such sources ask after every chunk they hand over and read on only
   * when it resolves, so they go no faster than decoding and never lose a frame. Live capture cannot wait
   * (libpcap's buffer would overflow instead) and never asks; a sink without this method never pushes back.
   */
  waitForRoom?(): Promise<void> | undefined;
}

/** A long-running input. `start` throws a DaemonError with a one-line message when the input cannot open. */
export interface Source {
  readonly description: SourceDescription;
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
  counters(): CaptureCounters;
  /**
   * Stdin's spool (spool.ts), when its bytes are written to disk as they are read: the decoding worker's
   * packet ring reads frames back from it. Known before `start`.
   */
  readonly spool?: SpoolShare | undefined;
  /** Stdin's spool's state for `/api/stats` (absent without a spool). */
  readonly spoolStatus?: SpoolStatus | undefined;
  /**
   * Frees what the source kept for the decoding worker (the spool's descriptor and disk), once the worker
   * has exited: before, it may still read from it.
   */
  release?(): void;
}

/** How messages name the input of a source: the path as given, or `<stdin>` (the same words as `ca-shark`). */
export function inputLabel(description: SourceDescription): string {
  return description.kind === 'file' && description.file !== undefined ? description.file : STDIN_LABEL;
}

/** True for sources that read at their own pace and must lose nothing (file, stdin), not live capture. */
export function isPullSource(description: SourceDescription): boolean {
  return description.kind === 'file' || description.kind === 'stdin';
}

/**
 * Reports a read error of a file or stdin and ends the input there: nothing more comes after it, so
 * `--exit-on-eof` exits (with the failure's status) instead of serving for ever.
 */
export function endAfterReadError(sink: SourceSink, err: unknown): void {
  sink.error(err instanceof Error ? err : new Error(String(err)));
  sink.end();
}

/** Zero counters for sources that are not libpcap. */
export function zeroCounters(): CaptureCounters {
  return { received: 0, dropped: 0, ifDropped: 0 };
}
