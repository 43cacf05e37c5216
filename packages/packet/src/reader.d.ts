import type { PacketProblem } from './types.js';
/** One interface (pcapng IDB; classic pcap has exactly one). */
export interface CaptureInterface {
    /** Interface id within its section (what EPBs refer to). */
    id: number;
    /** 0-based section number (pcapng files may concatenate sections). */
    section: number;
    linktype: number;
    linktypeName: string;
    /** 0 when the file says "no limit". */
    snaplen: number;
    /** Timestamp ticks per second (1e6 for µs, 1e9 for ns, 2^n for power-of-two resolutions). */
    tsUnitsPerSecond: number;
    /** Seconds added to every timestamp (pcapng `if_tsoffset`). */
    tsOffset: number;
    name?: string;
}
/** What the file header says. For pcapng it grows as interface blocks arrive. */
export interface CaptureHeader {
    format: 'pcap' | 'pcapng';
    /** Format version, e.g. '2.4' (pcap) or '1.0' (pcapng, of the current section). */
    version: string;
    byteOrder: 'little' | 'big';
    /** Snapshot length: the global one (pcap) or that of the first interface (pcapng, 0 before any). */
    snaplen: number;
    /** 'us' or 'ns' for pcap; for pcapng that of the first interface ('us', 'ns', 'ms', '10^-n' or '2^-n'). */
    timestampPrecision: string;
    /** Interfaces in order of appearance (all sections, first 1024). */
    interfaces: CaptureInterface[];
    /** Number of pcapng sections seen (1 for pcap). */
    sections: number;
}
/** A captured frame as the file holds it. */
export interface CaptureFrame {
    type: 'frame';
    /** 1-based frame number (every packet record counts). */
    frame: number;
    section: number;
    interfaceId: number;
    linktype: number;
    /** Seconds since the Unix epoch. */
    timestamp: number;
    caplen: number;
    origlen: number;
    /** The captured bytes. Never overwritten later (it may be a view into the pushed chunk). */
    data: Uint8Array;
}
/** Receives what a {@link CaptureReader} finds, in file order. */
export interface CaptureHandler {
    frame(frame: CaptureFrame): void;
    problem(problem: PacketProblem): void;
    /** Called once the format is known (after the pcap header / first section header). */
    header?(header: CaptureHeader): void;
    /** Called for every interface description (pcap: once, with the global header). */
    interface?(iface: CaptureInterface): void;
}
export interface CaptureReaderOptions {
    /** Largest record / block accepted, in bytes (default 16 MiB); larger means corrupt input. */
    maxRecordBytes?: number;
}
/**
 * Incremental capture reader: `push(chunk)` as bytes arrive, `end()` at EOF. Problems (not a capture,
 * corrupt lengths, truncated file) are reported to the handler, never thrown.
 */
export declare class CaptureReader {
    private readonly handler;
    private mode;
    private le;
    private nanos;
    private caplenLimit;
    private readonly maxRecord;
    private frames;
    private section;
    private ifaces;
    private hdr;
    /** Bytes of a unit that straddles chunks, and how many of them are filled. */
    private pend;
    private pendLen;
    /** Bytes the unit at the head of the unconsumed input needs in total (valid while pendLen > 0). */
    private need;
    private total;
    private lastTs;
    constructor(handler: CaptureHandler, options?: CaptureReaderOptions);
    /** The header once known (pcapng: updated as interfaces appear). */
    get header(): CaptureHeader | undefined;
    /** Packet records seen so far. */
    get frameCount(): number;
    /** Bytes pushed so far. */
    get bytesPushed(): number;
    /** Bytes held back waiting for the rest of a record. */
    get bufferedBytes(): number;
    /** Feed the next chunk of the capture. Frames complete in it are delivered before this returns. */
    push(input: Uint8Array): void;
    /** The input is complete: report a truncated final record or an input too short to be a capture. */
    end(): void;
    /** Read through a call so that control-flow narrowing does not assume the mode is unchanged. */
    private stopped;
    private dropPending;
    /** Keep filling the pending unit: new size `need`, `used` bytes of it consumed already (always 0). */
    private grow;
    private problem;
    private stop;
    /** Parse whole units from buf[off, end); returns the offset of the first unconsumed byte. */
    private parse;
    private unknownMagic;
    private pcapHeader;
    private block;
    private sectionHeader;
    private interfaceBlock;
}
//# sourceMappingURL=reader.d.ts.map