import { type FragmentOptions } from './fragments.js';
import { type CaptureHeader, type CaptureInterface, type CaptureReaderOptions } from './reader.js';
import { type TcpOptions, type TcpStats } from './tcp.js';
import type { PacketEvent } from './types.js';
/** Options of {@link PacketPipeline}. */
export interface PacketPipelineOptions {
    /** Receives every event, in capture order, synchronously. */
    onEvent: (event: PacketEvent) => void;
    /** Called once the capture format is known (not for live frames). */
    onHeader?: (header: CaptureHeader) => void;
    /** Called for each capture interface description. */
    onInterface?: (iface: CaptureInterface) => void;
    reader?: CaptureReaderOptions;
    tcp?: TcpOptions;
    fragments?: FragmentOptions;
    /**
     * Decode TCP and UDP (default true). When false the pipeline stops after IPv4: only counters and
     * problems come out (for throughput measurements and pure statistics).
     */
    transport?: boolean;
}
/** Counters of a {@link PacketPipeline}. */
export interface PacketStats {
    /** Frames seen (packet records and live frames). */
    frames: number;
    /** Captured bytes of those frames. */
    bytes: number;
    ipv4: number;
    /** IPv6 packets: recognised and skipped (CA is IPv4). */
    ipv6: number;
    /** Frames that carry neither IPv4 nor IPv6 (ARP, LLDP, ...). */
    nonIp: number;
    /** IPv4 packets that are neither TCP nor UDP (ICMP, ...). */
    otherIp: number;
    /** Frames of link types the layer does not decode. */
    unsupportedLink: number;
    udp: number;
    tcp: number;
    /** Frames cut short by the snapshot length (caplen < origlen) where that hid bytes the layers needed. */
    truncated: number;
    /** Frames with a bad header or length. */
    malformed: number;
    /** Problem events emitted (reader, link, IP, fragments). */
    problems: number;
    /** IPv4 fragments received. */
    fragments: number;
    /** Datagrams rebuilt from fragments. */
    reassembled: number;
    /** Gaps reported in TCP streams (same as tcp.gaps). */
    tcpGaps: number;
    /** TCP reassembly counters. */
    tcpStats: TcpStats;
}
/**
 * Turns capture bytes into packet events. Feed a capture with `pushCapture(chunk)` / `end()`, or live frames
 * with `pushFrame(...)`; events arrive synchronously through `options.onEvent`.
 */
export declare class PacketPipeline {
    private readonly onEvent;
    private readonly reader;
    private readonly frags;
    private readonly tcpR;
    private readonly decodeTransport;
    private readonly counters;
    private readonly loc;
    private readonly reportedLinks;
    private captureStarted;
    private liveFrames;
    private ended;
    private now;
    private cur;
    private curInfo;
    private ipBuf;
    private ipOff;
    private ipHl;
    private ipSrc;
    private ipDst;
    private l4Proto;
    constructor(options: PacketPipelineOptions);
    /** The capture header once known (undefined for live frames). */
    get header(): CaptureHeader | undefined;
    /** A snapshot of the counters. */
    get stats(): PacketStats;
    /** Feed the next chunk of a pcap / pcapng capture (an empty chunk marks the input as a capture). */
    pushCapture(chunk: Uint8Array): void;
    /**
     * Feed one live frame (e.g. from libpcap). Frames are numbered in the order pushed.
     * @param linktype pcap LINKTYPE_ of the interface
     * @param timestamp seconds since the Unix epoch
     * @param bytes the captured bytes
     * @param origlen length on the wire (default: bytes.length)
     */
    pushFrame(linktype: number, timestamp: number, bytes: Uint8Array, origlen?: number): void;
    /** End of input: reports a truncated capture, incomplete fragments, and flushes buffered TCP data. */
    end(): void;
    private frame;
    private decode;
    private ipv4;
    private tcp;
    private udp;
    private bad;
    /** Emit a problem about the current frame. */
    private report;
    /** The record of the packet being decoded (built once, on first use). */
    private current;
}
//# sourceMappingURL=pipeline.d.ts.map