import { Buffer } from 'node:buffer';
import { type AddonCap, type AddonOpenError, loadAddon } from './addon.js';
import { type CaptureStats, WrappingCounter } from './counters.js';
import { CaptureError, translateOpenError } from './errors.js';
import { DEFAULT_FILTER } from './filter.js';

/** Largest snaplen libpcap accepts (MAXIMUM_SNAPLEN). */
export const MAX_SNAPLEN = 262144;
/**
 * Default snapshot length: libpcap's own default since 1.x (tcpdump -s 0), MAXIMUM_SNAPLEN. 65535 is not
 * enough: on `lo` (MTU 65536) a full segment is 65550 bytes with its link header, and a cut segment
 * becomes a Malformed (truncated) record instead of the CA messages it carries.
 */
export const DEFAULT_SNAPLEN = MAX_SNAPLEN;
/**
 * Default kernel capture buffer. Measured on `lo` (see docs/capture.md): 2 MB lost a quarter of the packets
 * at 100k packets/s, 64 MB lost none; 32 MB is the compromise for a monitoring daemon.
 */
export const DEFAULT_BUFFER_SIZE = 32 * 1024 * 1024;
/** Smallest kernel buffer accepted; below this libpcap cannot hold even one ring block on most interfaces. */
export const MIN_BUFFER_SIZE = 64 * 1024;
/** Default for {@link LiveCaptureOptions.timeoutMs}: the delivery delay a live view can afford. */
export const DEFAULT_TIMEOUT_MS = 10;
const MAX_TIMEOUT_MS = 60_000;
/** Frames an async-iterator consumer may fall behind before newer frames are discarded (and counted). */
export const DEFAULT_MAX_QUEUE = 10_000;
/** How often the 32-bit libpcap counters are folded into wide totals even when nobody asks for stats(). */
const STATS_FOLD_INTERVAL_MS = 60_000;
const NANOS_PER_SECOND = 1e9;

/** Options of {@link openLive}. */
export interface LiveCaptureOptions {
  /** Interface name as {@link listInterfaces} reports it; 'any' captures on all of them (LINUX_SLL). */
  iface: string;
  /** BPF expression; defaults to {@link DEFAULT_FILTER}; '' captures everything. */
  filter?: string;
  /** Bytes kept of each packet, 1..262144; default {@link DEFAULT_SNAPLEN} (262144). */
  snaplen?: number;
  /** Kernel capture buffer in bytes; default 32 MiB. Bigger means fewer drops under bursts. */
  bufferSize?: number;
  /** Promiscuous mode; default true. */
  promiscuous?: boolean;
  /**
   * libpcap immediate mode: hand over each packet as soon as it arrives. Default false: on Linux immediate
   * mode forces the TPACKET_V2 ring of fixed-size slots (about 128 KiB each on `lo`, whose MTU is 64 KiB), so a
   * 32 MiB buffer holds only ~256 packets there; without it the TPACKET_V3 ring packs packets tightly and
   * delivers them in blocks, at most `timeoutMs` late. Timestamps are the kernel's either way.
   */
  immediate?: boolean;
  /** Longest a packet waits in the kernel before delivery when not in immediate mode, in ms; default 10. */
  timeoutMs?: number;
  /** Receives every frame from the first one on (no frame can be missed between open and subscribe). */
  onFrame?: FrameListener;
  /**
   * Like `onFrame`, but the frame's bytes are a view of the capture buffer, valid only during the call
   * (see {@link LiveCapture.onFrameView}): no per-packet copy.
   */
  onFrameView?: FrameListener;
  /** Receives the error that stops a running capture (see {@link LiveCapture.onError}). */
  onError?: CaptureErrorListener;
}

/** One captured link-layer frame. */
export interface Frame {
  /** pcap LINKTYPE_ number (1 = Ethernet, 113 = LINUX_SLL for 'any'). */
  linktype: number;
  /** Kernel receive time, seconds since the epoch (float; sub-microsecond resolution is lost to the float). */
  timestamp: number;
  /** Whole seconds of the kernel timestamp. */
  tsSec: number;
  /** Nanoseconds part of the kernel timestamp (a multiple of 1000 if only microseconds are available). */
  tsNsec: number;
  /** Bytes captured (= bytes.length); less than origlen when the snaplen cut the packet. */
  caplen: number;
  /** Length of the packet on the wire. */
  origlen: number;
  /**
   * The captured bytes. From `onFrame` and `frames()` a copy owned by the receiver: keep it as long as you
   * like. From `onFrameView` a view of the capture buffer that the next packet overwrites.
   */
  bytes: Uint8Array;
}

/**
 * Callback for frames. Called synchronously from libpcap's read loop, in capture order; an exception it throws
 * is an uncaught exception (as from an EventEmitter listener).
 */
export type FrameListener = (frame: Frame) => void;

/** Callback for the failure that ends a running capture. */
export type CaptureErrorListener = (err: CaptureError) => void;

/** Options of {@link LiveCapture.frames}. */
export interface FrameIteratorOptions {
  /** Frames to buffer for a slow consumer before discarding new ones; default 10 000. */
  maxQueue?: number;
}

/** An open live capture. */
export interface LiveCapture extends AsyncIterable<Frame> {
  readonly iface: string;
  /** The BPF filter in effect ('' = none). */
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferSize: number;
  /** pcap LINKTYPE_ number of the interface. */
  readonly linktype: number;
  /** Resolution of the kernel timestamps libpcap granted. */
  readonly timestampPrecision: 'micro' | 'nano';
  /** True after close() or after a read failure. */
  readonly closed: boolean;
  /** The failure that stopped the capture, if one did. */
  readonly error: CaptureError | undefined;
  /** Adds a frame callback; returns a function that removes it. */
  onFrame(listener: FrameListener): () => void;
  /**
   * Adds a frame callback that gets the bytes without a copy: `frame.bytes` (and `frame` itself) are valid
   * only until the callback returns, because libpcap writes the next packet into the same buffer. Copy what
   * you keep (e.g. straight into a batch). For consumers that would copy the frame anyway, this saves one
   * copy per packet. Returns a function that removes it.
   */
  onFrameView(listener: FrameListener): () => void;
  /**
   * Adds a callback for the failure that stops a running capture (code CAPTURE_READ_FAILED, e.g. the
   * interface was deleted); the capture is closed by then. When a capture fails with no error callback and no
   * frame iterator to report to, the error is thrown as an uncaught exception, as an EventEmitter would:
   * a capture never stops silently.
   */
  onError(listener: CaptureErrorListener): () => void;
  /**
   * Frames as an async iterator. Ends (after the queued frames) when the capture is closed, or throws the
   * capture's error; leaving the loop early only unsubscribes and does not close the capture.
   */
  frames(options?: FrameIteratorOptions): AsyncIterableIterator<Frame>;
  /** libpcap's counters since open; after close(), the final values. */
  stats(): CaptureStats;
  /** Stops capturing and releases the interface. Idempotent. Ends every frame iterator. */
  close(): void;
}

/**
 * Opens a live capture on an interface. Throws a {@link CaptureError} subclass when it cannot:
 * NoSuchInterfaceError, CapturePermissionError, BadFilterError, or code CAPTURE_BAD_OPTION.
 */
export function openLive(options: LiveCaptureOptions): LiveCapture {
  const iface = options.iface;
  if (typeof iface !== 'string' || iface.length === 0) {
    throw new CaptureError('CAPTURE_BAD_OPTION', 'iface must be a non-empty interface name');
  }
  const filter = options.filter ?? DEFAULT_FILTER;
  if (typeof filter !== 'string') throw new CaptureError('CAPTURE_BAD_OPTION', 'filter must be a string');
  const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_SNAPLEN) {
    throw new CaptureError('CAPTURE_BAD_OPTION', `snaplen must be an integer from 1 to ${MAX_SNAPLEN}, got ${snaplen}`);
  }
  const bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
  if (!Number.isInteger(bufferSize) || bufferSize < MIN_BUFFER_SIZE || bufferSize > 2 ** 31 - 1) {
    throw new CaptureError(
      'CAPTURE_BAD_OPTION',
      `bufferSize must be an integer number of bytes from ${MIN_BUFFER_SIZE} to ${2 ** 31 - 1}, got ${bufferSize}`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new CaptureError(
      'CAPTURE_BAD_OPTION',
      `timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`,
    );
  }
  return new Capture(iface, filter, snaplen, bufferSize, {
    promiscuous: options.promiscuous ?? true,
    immediate: options.immediate ?? false,
    timeoutMs,
    onFrame: options.onFrame,
    onFrameView: options.onFrameView,
    onError: options.onError,
  });
}

class Capture implements LiveCapture {
  readonly iface: string;
  readonly filter: string;
  readonly snaplen: number;
  readonly bufferSize: number;
  readonly linktype: number;
  readonly timestampPrecision: 'micro' | 'nano';

  private readonly cap: AddonCap;
  /**
   * The buffer libpcap copies each packet into. It must stay referenced while the capture is open: the
   * unpatched addon kept only a raw pointer to it (the patch adds a persistent handle; this is the second
   * line of defence).
   */
  private readonly buffer: Buffer;
  private listeners: readonly FrameListener[] = [];
  private viewListeners: readonly FrameListener[] = [];
  private errorListeners: readonly CaptureErrorListener[] = [];
  private readonly iteratorEnds = new Set<(err?: CaptureError) => void>();
  private failure: CaptureError | undefined;
  private readonly received = new WrappingCounter();
  private readonly dropped = new WrappingCounter();
  private readonly ifDropped = new WrappingCounter();
  private queueDropped = 0;
  private finalStats: CaptureStats | undefined;
  private readonly foldTimer: NodeJS.Timeout;

  constructor(
    iface: string,
    filter: string,
    snaplen: number,
    bufferSize: number,
    settings: {
      promiscuous: boolean;
      immediate: boolean;
      timeoutMs: number;
      onFrame: FrameListener | undefined;
      onFrameView: FrameListener | undefined;
      onError: CaptureErrorListener | undefined;
    },
  ) {
    const { onFrame, onError } = settings;
    const { Cap } = loadAddon();
    this.iface = iface;
    this.filter = filter;
    this.snaplen = snaplen;
    this.bufferSize = bufferSize;
    this.cap = new Cap();
    this.buffer = Buffer.alloc(snaplen);
    if (onFrame) this.listeners = [onFrame];
    if (settings.onFrameView) this.viewListeners = [settings.onFrameView];
    if (onError) this.errorListeners = [onError];
    this.cap.on('packet', this.onPacket);
    this.cap.on('error', this.onAddonError);
    try {
      this.cap.open(iface, filter, bufferSize, this.buffer, {
        snaplen,
        promisc: settings.promiscuous,
        immediate: settings.immediate,
        timeout: settings.timeoutMs,
        tstampPrecision: 'nano',
      });
    } catch (err) {
      this.cap.removeAllListeners();
      const failure = err as AddonOpenError;
      throw translateOpenError(
        { message: failure.message, stage: failure.stage, pcapStatus: failure.pcapStatus },
        iface,
        filter,
        () => Cap.deviceList().map((d) => d.name),
      );
    }
    this.linktype = this.cap.linkType();
    this.timestampPrecision = this.cap.tstampPrecision();
    this.foldTimer = setInterval(() => this.readStats(), STATS_FOLD_INTERVAL_MS);
    this.foldTimer.unref();
  }

  get closed(): boolean {
    return this.finalStats !== undefined;
  }

  get error(): CaptureError | undefined {
    return this.failure;
  }

  // The addon has already closed its handle when it reports a read failure.
  private readonly onAddonError = (err: Error): void => {
    if (this.finalStats) return;
    const pcapMessage = err.message;
    const failure = new CaptureError(
      'CAPTURE_READ_FAILED',
      `capture on "${this.iface}" stopped: ${pcapMessage} (was the interface removed or taken down?)`,
      { iface: this.iface, pcapMessage, cause: err },
    );
    this.failure = failure;
    const iterators = this.iteratorEnds.size;
    this.finish(failure);
    const listeners = this.errorListeners;
    this.errorListeners = [];
    if (listeners.length === 0 && iterators === 0) throw failure;
    for (const l of listeners) l(failure);
  };

  // Hot path: one call per packet from inside libpcap's dispatch loop.
  private readonly onPacket = (
    nbytes: number,
    _truncated: boolean,
    tsSec: number,
    tsNsec: number,
    _caplen: number,
    len: number,
  ): void => {
    const listeners = this.listeners;
    const viewListeners = this.viewListeners;
    if ((listeners.length === 0 && viewListeners.length === 0) || this.finalStats !== undefined) return;
    if (viewListeners.length > 0) {
      // No copy: the view (and this frame object) is valid only until the listeners return. A plain
      // Uint8Array, not a Buffer: Buffer#slice() would alias, Uint8Array#slice() copies as expected.
      const view = this.frameOf(new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, nbytes), tsSec, tsNsec, len);
      for (let i = 0; i < viewListeners.length; i++) viewListeners[i](view);
    }
    if (listeners.length === 0) return;
    // The addon reuses this.buffer for the next packet: every frame gets its own copy.
    const bytes = Buffer.allocUnsafe(nbytes);
    this.buffer.copy(bytes, 0, 0, nbytes);
    const frame = this.frameOf(bytes, tsSec, tsNsec, len);
    for (let i = 0; i < listeners.length; i++) listeners[i](frame);
  };

  private frameOf(bytes: Uint8Array, tsSec: number, tsNsec: number, origlen: number): Frame {
    return {
      linktype: this.linktype,
      timestamp: tsSec + tsNsec / NANOS_PER_SECOND,
      tsSec,
      tsNsec,
      caplen: bytes.length,
      origlen,
      bytes,
    };
  }

  onError(listener: CaptureErrorListener): () => void {
    if (this.failure) {
      // Late subscribers still learn why the capture stopped.
      const failure = this.failure;
      queueMicrotask(() => listener(failure));
      return () => {};
    }
    this.errorListeners = [...this.errorListeners, listener];
    return () => {
      this.errorListeners = this.errorListeners.filter((l) => l !== listener);
    };
  }

  onFrame(listener: FrameListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  onFrameView(listener: FrameListener): () => void {
    this.viewListeners = [...this.viewListeners, listener];
    return () => {
      this.viewListeners = this.viewListeners.filter((l) => l !== listener);
    };
  }

  frames(options: FrameIteratorOptions = {}): AsyncIterableIterator<Frame> {
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) {
      throw new CaptureError('CAPTURE_BAD_OPTION', `maxQueue must be a positive integer, got ${maxQueue}`);
    }
    let queue: Frame[] = [];
    let head = 0;
    let waiter: { resolve: (result: IteratorResult<Frame>) => void; reject: (err: Error) => void } | undefined;
    let ended = this.closed;
    let failure = this.failure;

    const finish = (err?: CaptureError): void => {
      ended = true;
      failure = err;
      unsubscribe();
      this.iteratorEnds.delete(finish);
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        if (err) w.reject(err);
        else w.resolve({ value: undefined, done: true });
      }
    };
    const unsubscribe = this.onFrame((frame) => {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve({ value: frame, done: false });
      } else if (queue.length - head < maxQueue) {
        queue.push(frame);
      } else {
        this.queueDropped++;
      }
    });
    if (ended) unsubscribe();
    else this.iteratorEnds.add(finish);

    const iterator: AsyncIterableIterator<Frame> = {
      next: (): Promise<IteratorResult<Frame>> => {
        if (head < queue.length) {
          const value = queue[head++];
          // Compact now and then so a long-running consumer does not keep every consumed slot.
          if (head >= 1024 && head * 2 >= queue.length) {
            queue = queue.slice(head);
            head = 0;
          }
          return Promise.resolve({ value, done: false });
        }
        if (ended) {
          if (failure) {
            // Thrown once; afterwards the iterator is simply done.
            const err = failure;
            failure = undefined;
            return Promise.reject(err);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        if (waiter) {
          return Promise.reject(new Error('frames(): next() called again before the previous call settled'));
        }
        return new Promise((resolve, reject) => {
          waiter = { resolve, reject };
        });
      },
      return: (): Promise<IteratorResult<Frame>> => {
        finish();
        failure = undefined;
        queue = [];
        head = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return this.frames();
  }

  stats(): CaptureStats {
    return this.finalStats ?? this.readStats();
  }

  private readStats(): CaptureStats {
    if (this.finalStats) return this.finalStats;
    let raw;
    try {
      raw = this.cap.stats();
    } catch (err) {
      const pcapMessage = (err as Error).message;
      throw new CaptureError(
        'CAPTURE_STATS_FAILED',
        `cannot read capture counters on "${this.iface}": ${pcapMessage}`,
        {
          iface: this.iface,
          pcapMessage,
          cause: err,
        },
      );
    }
    return {
      received: this.received.update(raw.ps_recv),
      dropped: this.dropped.update(raw.ps_drop),
      ifDropped: this.ifDropped.update(raw.ps_ifdrop),
      queueDropped: this.queueDropped,
    };
  }

  close(): void {
    if (this.finalStats) return;
    this.finish(undefined);
    this.cap.close();
  }

  /** Freezes the counters, drops the frame listeners and ends the iterators (with `err` if it failed). */
  private finish(err: CaptureError | undefined): void {
    let last: CaptureStats;
    try {
      last = this.readStats();
    } catch {
      // After a read failure the handle is gone; keep the last folded values.
      last = {
        received: this.received.value,
        dropped: this.dropped.value,
        ifDropped: this.ifDropped.value,
        queueDropped: this.queueDropped,
      };
    }
    this.finalStats = last;
    clearInterval(this.foldTimer);
    this.listeners = [];
    this.viewListeners = [];
    for (const end of [...this.iteratorEnds]) end(err);
  }
}
