/**
 * pcap LINKTYPE_ numbers (https://www.tcpdump.org/linktypes.html) and their names, from one table so that
 * numbers and names cannot drift.
 */
/** Link types the packet layer decodes. */
export const LINKTYPE = {
    /** BSD loopback: 4-byte address family in the capturing host's byte order. */
    NULL: 0,
    ETHERNET: 1,
    /** Raw IP as some BSDs' libpcap wrote it (DLT_RAW on them). */
    RAW_12: 12,
    /** Raw IP as OpenBSD's libpcap wrote it. */
    RAW_14: 14,
    RAW: 101,
    /** OpenBSD loopback: 4-byte address family in network byte order (accepted in either). */
    LOOP: 108,
    LINUX_SLL: 113,
    IPV4: 228,
    IPV6: 229,
    LINUX_SLL2: 276,
};
const NAMES = [
    [0, 'NULL'],
    [1, 'ETHERNET'],
    [3, 'AX25'],
    [6, 'IEEE802_5'],
    [7, 'ARCNET_BSD'],
    [8, 'SLIP'],
    [9, 'PPP'],
    [10, 'FDDI'],
    [12, 'RAW (DLT 12)'],
    [14, 'RAW (DLT 14)'],
    [50, 'PPP_HDLC'],
    [51, 'PPP_ETHER'],
    [100, 'ATM_RFC1483'],
    [101, 'RAW'],
    [104, 'C_HDLC'],
    [105, 'IEEE802_11'],
    [107, 'FRELAY'],
    [108, 'LOOP'],
    [113, 'LINUX_SLL'],
    [114, 'LTALK'],
    [117, 'PFLOG'],
    [119, 'IEEE802_11_PRISM'],
    [122, 'IP_OVER_FC'],
    [127, 'IEEE802_11_RADIOTAP'],
    [138, 'APPLE_IP_OVER_IEEE1394'],
    [143, 'DOCSIS'],
    [147, 'USER0'],
    [163, 'IEEE802_11_AVS'],
    [189, 'USB_LINUX'],
    [192, 'PPI'],
    [195, 'IEEE802_15_4_WITHFCS'],
    [197, 'ERF'],
    [201, 'BLUETOOTH_HCI_H4_WITH_PHDR'],
    [220, 'USB_LINUX_MMAPPED'],
    [227, 'CAN_SOCKETCAN'],
    [228, 'IPV4'],
    [229, 'IPV6'],
    [239, 'NFLOG'],
    [240, 'NETANALYZER'],
    [249, 'USBPCAP'],
    [251, 'BLUETOOTH_LE_LL'],
    [252, 'WIRESHARK_UPPER_PDU'],
    [263, 'DBUS'],
    [274, 'NETLINK'],
    [276, 'LINUX_SLL2'],
];
const BY_NUMBER = new Map(NAMES);
/** Name of a pcap link type, e.g. `linktypeName(113)` → `'LINUX_SLL'`; unknown numbers give `'LINKTYPE_<n>'`. */
export function linktypeName(linktype) {
    return BY_NUMBER.get(linktype) ?? `LINKTYPE_${linktype}`;
}
/** True when the packet layer can decode frames of this link type. */
export function isSupportedLinktype(linktype) {
    switch (linktype) {
        case LINKTYPE.NULL:
        case LINKTYPE.ETHERNET:
        case LINKTYPE.RAW_12:
        case LINKTYPE.RAW_14:
        case LINKTYPE.RAW:
        case LINKTYPE.LOOP:
        case LINKTYPE.LINUX_SLL:
        case LINKTYPE.IPV4:
        case LINKTYPE.IPV6:
        case LINKTYPE.LINUX_SLL2:
            return true;
        default:
            return false;
    }
}
//# sourceMappingURL=linktypes.js.map