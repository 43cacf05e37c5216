import type { LinkRecord } from './types.js';
export declare const ETHERTYPE_IPV4 = 2048;
export declare const ETHERTYPE_IPV6 = 34525;
/** Result of {@link locateNetwork}: where the network layer starts and what it is. */
export interface NetworkLocation {
    /** Offset of the network-layer header in the frame, or -1 when the frame is too short for its link header. */
    offset: number;
    /** EtherType of the payload (0x0800 IPv4, 0x86dd IPv6, other values: not IP; 0 when unknown). */
    ethertype: number;
}
/**
 * Find the network layer of a frame. Returns false for link types the layer does not decode
 * (then `out` is untouched). Allocation-free; `out` is reused by the caller.
 */
export declare function locateNetwork(linktype: number, data: Uint8Array, out: NetworkLocation): boolean;
/** Build the public link record of a frame (the frame must have passed {@link locateNetwork}). */
export declare function linkRecord(linktype: number, data: Uint8Array): LinkRecord;
//# sourceMappingURL=link.d.ts.map