import { CaptureError, DEFAULT_FILTER, type LiveCapture, openLive } from '@ca-shark/capture';
import { DaemonError, PRIVILEGE_HINT } from '../errors.js';
import type { CaptureCounters, Source, SourceDescription, SourceSink } from './types.js';

/** Options of a {@link LiveSource}. */
export interface LiveSourceOptions {
  iface: string;
  /** BPF expression; default: {@link caFilter} for the CA ports, without the daemon's own HTTP port. */
  filter: string;
  snaplen?: number;
  bufferSize?: number;
  /** Reported kind ('demo' when the demo captures its own simulator). */
  kind?: 'live' | 'demo';
}

/**
 * The default capture filter: every TCP segment (CA servers listen on any TCP port, learned from search
 * replies and beacons), UDP on the CA server and repeater ports, and IP fragments (a fragmented search
 * reply has no UDP header in its later fragments). `excludeTcpPort` leaves out the daemon's own HTTP and
 * WebSocket traffic, which on `lo` would otherwise be captured and fed back into the decoder.
 */
export function caFilter(serverPort = 5064, repeaterPort = 5065, excludeTcpPort?: number): string {
  const base =
    serverPort === 5064 && repeaterPort === 5065
      ? DEFAULT_FILTER
      : `tcp or (udp and (port ${serverPort} or port ${repeaterPort})) or (ip[6:2] & 0x3fff != 0)`;
  return excludeTcpPort === undefined ? base : `(${base}) and not tcp port ${excludeTcpPort}`;
}

/** Turns a capture failure into the one-line error the user sees. */
export function captureFailure(err: unknown, iface: string): DaemonError {
  if (err instanceof CaptureError) {
    switch (err.code) {
      case 'CAPTURE_NO_SUCH_INTERFACE':
        return new DaemonError('no-such-interface', `${err.message} (list them with: ca-sharkd -D)`, { cause: err });
      case 'CAPTURE_PERMISSION_DENIED':
        return new DaemonError('permission-denied', `not permitted to capture on "${iface}": ${PRIVILEGE_HINT}`, {
          cause: err,
        });
      case 'CAPTURE_BAD_FILTER':
        return new DaemonError('bad-filter', err.message, { cause: err });
      case 'CAPTURE_BAD_OPTION':
        return new DaemonError('usage', err.message, { cause: err });
      case 'CAPTURE_ADDON_UNAVAILABLE':
        return new DaemonError('capture-unavailable', err.message, { cause: err });
      default:
        return new DaemonError('capture-unavailable', err.message, { cause: err });
    }
  }
  return new DaemonError(
    'capture-unavailable',
    `cannot capture on "${iface}": ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}

/** Live capture through libpcap, with kernel timestamps and pcap_stats counters. */
export class LiveSource implements Source {
  private capture: LiveCapture | undefined;
  private readonly options: LiveSourceOptions;
  private desc: SourceDescription;

  constructor(options: LiveSourceOptions) {
    this.options = options;
    this.desc = { kind: options.kind ?? 'live', iface: options.iface, filter: options.filter };
  }

  get description(): SourceDescription {
    return this.desc;
  }

  async start(sink: SourceSink): Promise<void> {
    try {
      this.capture = openLive({
        iface: this.options.iface,
        filter: this.options.filter,
        ...(this.options.snaplen !== undefined ? { snaplen: this.options.snaplen } : {}),
        ...(this.options.bufferSize !== undefined ? { bufferSize: this.options.bufferSize } : {}),
        // A sink that copies the frame anyway (into a batch) gets a view of the capture buffer: one copy per
        // packet instead of two. Any other sink keeps `bytes` and must get its own copy.
        ...(sink.frameView !== undefined
          ? { onFrameView: (f) => sink.frameView?.(f.linktype, f.timestamp, f.bytes, f.origlen) }
          : { onFrame: (f) => sink.frame(f.linktype, f.timestamp, f.bytes, f.origlen) }),
      });
    } catch (err) {
      throw captureFailure(err, this.options.iface);
    }
    this.desc = { ...this.desc, linktype: this.capture.linktype };
  }

  /** Bytes kept per packet by the open capture (libpcap's default 262144 unless `--snaplen` said otherwise). */
  get snaplen(): number | undefined {
    return this.capture?.snaplen;
  }

  async stop(): Promise<void> {
    this.capture?.close();
  }

  counters(): CaptureCounters {
    if (this.capture === undefined) return { received: 0, dropped: 0, ifDropped: 0 };
    try {
      const s = this.capture.stats();
      return { received: s.received, dropped: s.dropped, ifDropped: s.ifDropped };
    } catch {
      return { received: 0, dropped: 0, ifDropped: 0 };
    }
  }
}
