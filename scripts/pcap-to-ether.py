#!/usr/bin/env python3
"""Rewrite a classic pcap so that caproto-shark can read it: Linux cooked (SLL, link type 113) frames get an
Ethernet header with the same EtherType and zero MAC addresses; Ethernet files pass unchanged. caproto-shark
(through dpkt) reads only classic pcap and parses every frame as Ethernet. Timestamps and the IP packets
are copied byte for byte. Usage: pcap-to-ether.py IN.pcap OUT.pcap"""
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
SLL_HEADER = 16
SLL_PROTOCOL_OFFSET = 14
ETHER_HEADER_MACS = bytes(12)
PCAP_MAGIC_LE = 0xA1B2C3D4
GLOBAL_HEADER = struct.Struct('<IHHiIII')
RECORD_HEADER = struct.Struct('<IIII')


def main(src: str, dst: str) -> None:
    data = open(src, 'rb').read()
    magic, vmaj, vmin, zone, sigfigs, snaplen, linktype = GLOBAL_HEADER.unpack_from(data, 0)
    if magic != PCAP_MAGIC_LE:
        sys.exit(f'{src}: not a little-endian microsecond pcap (convert with editcap -F pcap first)')
    if linktype not in (LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL):
        sys.exit(f'{src}: link type {linktype} is neither Ethernet nor Linux cooked')
    out = [GLOBAL_HEADER.pack(magic, vmaj, vmin, zone, sigfigs, snaplen, LINKTYPE_ETHERNET)]
    pos = GLOBAL_HEADER.size
    while pos < len(data):
        sec, usec, caplen, origlen = RECORD_HEADER.unpack_from(data, pos)
        pos += RECORD_HEADER.size
        frame = data[pos:pos + caplen]
        pos += caplen
        if linktype == LINKTYPE_LINUX_SLL:
            ether = ETHER_HEADER_MACS + frame[SLL_PROTOCOL_OFFSET:SLL_HEADER]
            frame = ether + frame[SLL_HEADER:]
            delta = len(ether) - SLL_HEADER
            caplen += delta
            origlen += delta
        out.append(RECORD_HEADER.pack(sec, usec, caplen, origlen))
        out.append(frame)
    open(dst, 'wb').write(b''.join(out))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
