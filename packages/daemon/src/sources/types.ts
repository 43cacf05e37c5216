/**
 * The one interface every long-running input of the daemon implements: live capture, stdin, file replay and
 * the demo. The rest of the daemon only sees frames (with capture timestamps), counters and a description.
 */

/** What a source is, as shown in `/api/health`, the WebSocket hello and the dashboard's status bar. */
export interface SourceDescription {
  kind: 'live' | 'stdin' | 'file' | 'demo';
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
  /** One link-layer frame (live capture). `bytes` belongs to the callee (the source passes a copy). */
  frame(linktype: number, timestamp: number, bytes: Uint8Array, origlen: number): void;
  /** A capture-file problem (truncated record, corrupt block) the reader skipped past. */
  problem(problem: SourceProblem): void;
  /** The input has ended (stdin EOF, end of a replayed file). Live capture never ends on its own. */
  end(): void;
  /** A failure after start (read error, capture died). The daemon logs it and keeps serving what it has. */
  error(err: Error): void;
}

/** A long-running input. `start` throws a DaemonError with a one-line message when the input cannot open. */
export interface Source {
  readonly description: SourceDescription;
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
  counters(): CaptureCounters;
}

/** Zero counters for sources that are not libpcap. */
export function zeroCounters(): CaptureCounters {
  return { received: 0, dropped: 0, ifDropped: 0 };
}
