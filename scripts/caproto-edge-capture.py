#!/usr/bin/env python3
"""Write packages/cli/fixtures/caproto/caproto-names.pcap: CA messages that caproto-shark names by its
header heuristics differently from their direction (caproto/sync/shark.py), one per TCP segment so that
caproto-shark reads each, for src/caproto-compat.test.ts. Needs dpkt (Debian: python3-dpkt).

    python3 scripts/caproto-edge-capture.py OUT.pcap
"""
import socket
import struct
import sys

import dpkt

CLIENT, SERVER = socket.inet_aton('10.0.0.1'), socket.inet_aton('10.0.0.2')
CLIENT_PORT, SERVER_PORT, UDP_CLIENT_PORT = 40000, 5064, 50000
DOUBLE, STRING, CTRL_ENUM, TIME_LONG, TIME_DOUBLE = 6, 0, 31, 19, 20


def header(command, payload_size, data_type, data_count, p1, p2):
    return struct.pack('>HHHHII', command, payload_size, data_type, data_count, p1, p2)


# (sender, message, what caproto-shark makes of it)
TCP_MESSAGES = [
    ('c', header(0, 0, 0, 13, 0, 0), 'VERSION request: VersionRequest'),
    ('s', header(0, 0, 0, 13, 0, 0), "RSRV's VERSION reply (p1 = 0): VersionRequest"),
    ('s', header(0, 0, 1, 13, 1, 0), "caproto's VERSION reply (p1 = 1): VersionResponse"),
    ('s', header(6, 0, 5064, 0, 0xFFFFFFFF, 7), 'TCP search reply (no payload): version fails to read'),
    ('s', header(1, 0, DOUBLE, 5, 1, 3), "RSRV's cancel confirmation keeping the count: empty EventAddResponse"),
    ('s', header(1, 0, TIME_DOUBLE, 1, 2, 4), 'the same, TIME_DOUBLE'),
    ('s', header(1, 0, STRING, 1, 2, 5), 'the same, STRING'),
    ('s', header(1, 0, CTRL_ENUM, 3, 2, 6), 'the same, CTRL_ENUM'),
    ('s', header(15, 0, DOUBLE, 0, 1, 9), 'empty-array READ_NOTIFY reply: ReadNotifyRequest'),
    ('c', header(19, 0, DOUBLE, 0, 4, 10), 'count-0 WRITE_NOTIFY request: WriteNotifyResponse'),
    ('s', header(3, 0, DOUBLE, 0, 4, 10), 'empty READ reply: ReadRequest'),
    ('s', header(10, 0, 0, 0, 0, 0), 'READ_SYNC reply: ReadSyncRequest'),
    ('c', header(12, 0, 0, 0, 3, 4), 'CLEAR_CHANNEL request: ClearChannelRequestOrResponse'),
    ('s', header(12, 0, 0, 0, 3, 4), 'CLEAR_CHANNEL reply: ClearChannelRequestOrResponse'),
    ('c', header(23, 0, 0, 0, 0, 0), 'ECHO request: EchoRequestOrResponse'),
    ('s', header(23, 0, 0, 0, 0, 0), 'ECHO reply: EchoRequestOrResponse'),
    ('c', header(1, 16, DOUBLE, 1, 70, 2) + struct.pack('>fffHH', 0, 0, 0, 5, 0), 'EVENT_ADD, sid 70: EventAddRequest'),
    ('c', header(1, 16, DOUBLE, 1, 3, 12) + struct.pack('>fffHH', 0, 0, 0, 5, 0), 'EVENT_ADD, sid 3: OrResponse'),
    ('s', header(1, 16, TIME_LONG, 1, 1, 2) + bytes(12) + struct.pack('>i', 7),
     '16-byte update: read as a request (the one message ca-shark cannot print as caproto-shark does)'),
    ('c', header(1, 0, DOUBLE, 0, 8, 11), 'payload-less count-0 EVENT_ADD: EventCancelResponse'),
]

UDP_DATAGRAMS = [
    ('c', header(0, 0, 1, 13, 0, 0) + header(6, 8, 5, 13, 1, 1) + b'pv:a\0\0\0\0',
     'search sequence 0: VersionRequest(priority=1)'),
    ('s', header(0, 0, 1, 13, 0, 0) + header(6, 8, SERVER_PORT, 0, 0xFFFFFFFF, 1) + struct.pack('>H', 13) + bytes(6),
     'reply echoing sequence 0: VersionRequest'),
    ('c', header(0, 0, 1, 13, 1, 0) + header(6, 8, 5, 13, 2, 2) + b'pv:b\0\0\0\0',
     'search sequence 1: VersionResponse'),
]


def ethernet(src, dst, transport, proto):
    ip = dpkt.ip.IP(src=src, dst=dst, p=proto, data=transport, ttl=64)
    ip.len = 20 + len(bytes(transport))
    return bytes(dpkt.ethernet.Ethernet(src=b'\x02' * 6, dst=b'\x04' * 6, type=0x0800, data=ip))


def main(out):
    writer = dpkt.pcap.Writer(open(out, 'wb'))
    time = 1.0
    seq = {'c': 1000, 's': 5000}

    def tcp(who, flags, data=b''):
        nonlocal time
        src, dst, sport, dport = ((CLIENT, SERVER, CLIENT_PORT, SERVER_PORT) if who == 'c'
                                  else (SERVER, CLIENT, SERVER_PORT, CLIENT_PORT))
        other = 's' if who == 'c' else 'c'
        segment = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq[who], ack=seq[other], flags=flags, data=data,
                               win=65535)
        writer.writepkt(ethernet(src, dst, segment, dpkt.ip.IP_PROTO_TCP), time)
        time += 0.001
        seq[who] += len(data) + (1 if flags & dpkt.tcp.TH_SYN else 0)

    tcp('c', dpkt.tcp.TH_SYN)
    tcp('s', dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK)
    tcp('c', dpkt.tcp.TH_ACK)
    for who, message, _ in TCP_MESSAGES:
        tcp(who, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, message)
    for who, datagram, _ in UDP_DATAGRAMS:
        src, dst, sport, dport = ((CLIENT, SERVER, UDP_CLIENT_PORT, SERVER_PORT) if who == 'c'
                                  else (SERVER, CLIENT, SERVER_PORT, UDP_CLIENT_PORT))
        udp = dpkt.udp.UDP(sport=sport, dport=dport, data=datagram)
        udp.ulen = 8 + len(datagram)
        writer.writepkt(ethernet(src, dst, udp, dpkt.ip.IP_PROTO_UDP), time)
        time += 0.001
    writer.close()


if __name__ == '__main__':
    main(sys.argv[1])
