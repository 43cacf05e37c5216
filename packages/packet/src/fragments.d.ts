/** Limits of the fragment reassembler. */
export interface FragmentOptions {
    /** Datagrams being reassembled at once (default 256); beyond it the oldest is dropped. */
    maxDatagrams?: number;
    /** Fragment bytes held in total (default 4 MiB); beyond it the oldest datagrams are dropped. */
    maxBytes?: number;
    /** Seconds of capture time a datagram may stay incomplete (default 30, as Linux's ipfrag_time). */
    timeout?: number;
}
/** Receives problems found while reassembling. */
export type FragmentProblemSink = (code: string, message: string) => void;
export declare class FragmentReassembler {
    private readonly onProblem;
    private readonly maxDatagrams;
    private readonly maxBytes;
    private readonly timeout;
    /** Insertion order = age order, which eviction and expiry rely on. */
    private readonly pending;
    private bytes;
    constructor(options: FragmentOptions, onProblem: FragmentProblemSink);
    /** Datagrams currently incomplete. */
    get inFlight(): number;
    /** Fragment bytes currently held. */
    get heldBytes(): number;
    /**
     * Add one fragment: `buf[ip, ip+hl)` is its header, `buf[ip+hl, end)` its payload, `offset` the fragment
     * offset in bytes. Returns the whole datagram (header + payload, total length and fragment fields fixed)
     * when this fragment completed it, else undefined.
     */
    add(buf: Uint8Array, ip: number, hl: number, end: number, src: number, dst: number, id: number, proto: number, offset: number, more: boolean, now: number): Uint8Array | undefined;
    /** Drop datagrams older than the timeout (capture time `now`), reporting each. */
    expire(now: number): void;
    /** End of input: report and drop every incomplete datagram. */
    flush(): void;
    private insert;
    private bound;
    private drop;
    private complete;
}
//# sourceMappingURL=fragments.d.ts.map