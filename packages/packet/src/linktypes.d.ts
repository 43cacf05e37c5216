/**
 * pcap LINKTYPE_ numbers (https://www.tcpdump.org/linktypes.html) and their names, from one table so that
 * numbers and names cannot drift.
 */
/** Link types the packet layer decodes. */
export declare const LINKTYPE: {
    /** BSD loopback: 4-byte address family in the capturing host's byte order. */
    readonly NULL: 0;
    readonly ETHERNET: 1;
    /** Raw IP as some BSDs' libpcap wrote it (DLT_RAW on them). */
    readonly RAW_12: 12;
    /** Raw IP as OpenBSD's libpcap wrote it. */
    readonly RAW_14: 14;
    readonly RAW: 101;
    /** OpenBSD loopback: 4-byte address family in network byte order (accepted in either). */
    readonly LOOP: 108;
    readonly LINUX_SLL: 113;
    readonly IPV4: 228;
    readonly IPV6: 229;
    readonly LINUX_SLL2: 276;
};
/** Name of a pcap link type, e.g. `linktypeName(113)` → `'LINUX_SLL'`; unknown numbers give `'LINKTYPE_<n>'`. */
export declare function linktypeName(linktype: number): string;
/** True when the packet layer can decode frames of this link type. */
export declare function isSupportedLinktype(linktype: number): boolean;
//# sourceMappingURL=linktypes.d.ts.map