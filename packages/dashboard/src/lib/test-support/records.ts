/**
 * Complete {@link RecordJSON}s for tests and the e2e fake daemon: the packet-layer parts (link, IPv4,
 * TCP/UDP headers) every decoder record carries, filled with plausible values around the parts a test
 * cares about (endpoints, command, PV).
 */
import type { CommandJSON, RecordJSON } from '../contract.js';

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
/** CA header size: the default `size` of a record without payload. */
const CA_HEADER = 16;
const TTL = 64;
/** ACK|PSH, as on a CA circuit's data segments. */
const TCP_ACK_PSH = 0x18;
const TCP_WINDOW = 512;

/** The parts of a record a test chooses; the rest gets defaults. */
export interface RecordSketch extends Partial<Omit<RecordJSON, 'transport' | 'command'>> {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  udp?: boolean;
  command: CommandJSON;
}

/** The packet-layer and bookkeeping fields of a record (everything but its command and PV). */
export function packetParts(
  s: Pick<RecordSketch, 'src' | 'dst' | 'sport' | 'dport' | 'udp' | 'size'>,
): Pick<RecordJSON, 'interfaceId' | 'src' | 'dst' | 'ethernet' | 'ip' | 'transport' | 'size'> {
  const size = s.size ?? CA_HEADER;
  const l4 = s.udp === true ? UDP_HEADER : TCP_HEADER;
  return {
    interfaceId: 0,
    src: s.src,
    dst: s.dst,
    ethernet: { type: 'ethernet', linktype: LINKTYPE_ETHERNET, ethertype: ETHERTYPE_IPV4 },
    ip: {
      version: 4,
      hl: IPV4_HEADER,
      tos: 0,
      len: IPV4_HEADER + l4 + size,
      id: 0,
      flags: 0,
      offset: 0,
      ttl: TTL,
      p: s.udp === true ? IPPROTO_UDP : IPPROTO_TCP,
      sum: 0,
      src: s.src,
      dst: s.dst,
    },
    transport:
      s.udp === true
        ? { protocol: 'udp', sport: s.sport, dport: s.dport, ulen: UDP_HEADER + size, sum: 0 }
        : {
            protocol: 'tcp',
            sport: s.sport,
            dport: s.dport,
            seq: 0,
            ack: 0,
            off: TCP_HEADER,
            flags: TCP_ACK_PSH,
            win: TCP_WINDOW,
            sum: 0,
            urp: 0,
          },
    size,
  };
}

/** A complete record: the sketch's fields over defaults (frame 1, time 0, request role, no PV). */
export function fullRecord(s: RecordSketch): RecordJSON {
  const { sport: _sport, dport: _dport, udp: _udp, ...rest } = s;
  return {
    frame: 1,
    timestamp: 0,
    pv: null,
    role: 'request',
    role_certainty: 'certain',
    ...rest,
    ...packetParts(s),
  };
}
