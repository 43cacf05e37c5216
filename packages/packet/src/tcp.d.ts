import type { PacketEvent, PacketInfo } from './types.js';
export declare const TCP_FIN = 1;
export declare const TCP_SYN = 2;
export declare const TCP_RST = 4;
export declare const TCP_ACK = 16;
/** Limits and timeouts of the TCP reassembler (times in seconds of capture time). */
export interface TcpOptions {
    /** Out-of-order bytes held per direction (default 4 MiB) before the hole is declared a gap. */
    maxBufferPerDirection?: number;
    /** Out-of-order bytes held over all connections (default 64 MiB). */
    maxBufferTotal?: number;
    /** Out-of-order segments held per direction (default 4096). */
    maxSegmentsPerDirection?: number;
    /** How long a hole may stay open before it is reported as a gap (default 10 s). */
    gapTimeout?: number;
    /** A connection without packets for this long is closed with reason 'timeout' (default 600 s). */
    idleTimeout?: number;
    /** How long a closed connection is remembered so that late packets do not reopen it (default 30 s). */
    closedLinger?: number;
    /** Connections tracked at once (default 65536); beyond it the least recently active are evicted. */
    maxFlows?: number;
}
/** Counters of the TCP reassembler. */
export interface TcpStats {
    /** Connections currently tracked (open or lingering after close). */
    flows: number;
    /** Connections ever seen. */
    flowsTotal: number;
    flowsClosed: number;
    flowsTimedOut: number;
    flowsEvicted: number;
    segments: number;
    /** Stream bytes delivered. */
    bytes: number;
    /** Bytes dropped because they had been delivered already (retransmissions, overlaps). */
    duplicateBytes: number;
    /** Segments that arrived ahead of a hole and were buffered. */
    outOfOrderSegments: number;
    /** Out-of-order bytes held right now. */
    bufferedBytes: number;
    gaps: number;
    /** Stream bytes the capture never saw (sum of gap lengths). */
    gapBytes: number;
}
/** Where the reassembler gets packet records and sends events. */
export interface TcpSink {
    /** The record of the packet being processed (built on demand). */
    current(): PacketInfo;
    emit(event: PacketEvent): void;
}
export declare class TcpReassembler {
    private readonly sink;
    readonly stats: TcpStats;
    private readonly maxPerDir;
    private readonly maxTotal;
    private readonly maxSegs;
    private readonly gapTimeout;
    private readonly idleTimeout;
    private readonly closedLinger;
    private readonly maxFlows;
    /** lower endpoint key → higher endpoint key → connection; endpoint key = ip × 65536 + port. */
    private readonly table;
    private nextId;
    private now;
    private lastSweep;
    /** The flow whose packet is being processed: its events use the current packet record. */
    private active;
    constructor(sink: TcpSink, options?: TcpOptions);
    /**
     * One TCP segment. `payload` holds the captured data; `missing` counts payload bytes the IP header
     * announced but the capture cut off (snaplen).
     */
    segment(now: number, src: number, sport: number, dst: number, dport: number, seq: number, flags: number, payload: Uint8Array, missing: number): void;
    private process;
    private data;
    /** Insert the parts of a segment not yet buffered (earlier bytes win), copying them. */
    private buffer;
    /** Deliver buffered segments that the stream has reached. */
    private drain;
    private updateHole;
    /** Declare the first hole of a direction a gap and deliver what follows it. */
    private flushOne;
    private flushHoles;
    private gap;
    private deliver;
    private info;
    /** Report holes that stayed open longer than the gap timeout. */
    private checkHoles;
    private checkDone;
    private close;
    private remove;
    /**
     * Let capture time pass: expire idle connections and report holes open too long. Events raised here
     * carry the last packet record of their connection.
     */
    advance(now: number): void;
    /**
     * End of capture: deliver what is still buffered (after explicit gaps). Connections whose both sides sent
     * FIN close; the others stay open.
     */
    flush(): void;
    /** Evict the least recently active eighth of the connections to make room. */
    private evict;
}
//# sourceMappingURL=tcp.d.ts.map