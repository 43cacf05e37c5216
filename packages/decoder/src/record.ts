import type { Ipv4Record, LinkRecord, PacketProblem, TransportRecord } from '@ca-shark/packet';
import type { CaCommand, Role, RoleCertainty } from '@ca-shark/protocol';

/** The message a response answers: enough to find it again in the record stream. */
export interface RequestRef {
  /** Frame number of the packet that completed the request. */
  frame: number;
  /** Capture time of that packet (Unix seconds). */
  timestamp: number;
  /** The request's command name, e.g. 'ReadNotifyRequest'. */
  command: string;
}

/**
 * The `command` of a record made from bytes that are not a CA message: a deframer fault (bad header,
 * over-size message, bytes skipped while resynchronising after a gap) or a UDP datagram that its
 * messages do not fill exactly.
 */
export interface MalformedCommand extends CaCommand {
  name: 'Malformed';
  id: -1;
  /** What was wrong, in words. */
  reason: string;
  /** Machine-readable fault code from the deframer ('bad-command', 'gap', 'too-large', ...). */
  code: string;
  /** Bytes covered by the fault. */
  length: number;
  /** Hex of up to 64 of the offending bytes. */
  hex: string;
}

/**
 * One Channel Access message (or one malformed run of bytes) with everything the conversation state
 * knows about it. The CLI prints it and its NDJSON output is this object as JSON.
 */
export interface CaRecord {
  /** Frame number (1-based) of the packet that completed the message. */
  frame: number;
  /** Capture time of that packet, Unix seconds. */
  timestamp: number;
  /** pcapng interface the completing packet came from (0 for classic pcap and live capture). */
  interfaceId: number;
  /** IPv4 source and destination, dotted quads. */
  src: string;
  dst: string;
  /** Link layer of the completing packet. */
  ethernet: LinkRecord;
  /** IPv4 header of the completing packet. */
  ip: Ipv4Record;
  /** UDP or TCP header of the completing packet (`protocol`, `sport`, `dport`, ...). */
  transport: TransportRecord;
  /** The decoded message: caproto class `name`, wire `id`, and caproto's field names. */
  command: CaCommand;
  /** PV (channel) name the message is about, when it is about one and the name is known. */
  pv: string | null;
  /**
   * Request (client → server) or response (server → client). For a Malformed record on a flow whose
   * direction is unknown it is a guess from the ports (the higher port taken as the client).
   */
  role: Role;
  /** 'certain' from transport state, 'inferred' from one-sided commands or IDs, 'guess' from headers. */
  role_certainty: RoleCertainty;
  /** TCP flow id of the circuit (absent for UDP). */
  circuit?: number;
  /** For a response: the request it answers. */
  request?: RequestRef;
  /** For a response with `request`: seconds since that request. */
  latency?: number;
  /** Server endpoint "ip:port" of the conversation when known (for beacons and search replies: the advertised TCP endpoint). */
  server?: string;
  /** Client endpoint "ip:port" of the conversation when known. */
  client?: string;
  /** Message size on the wire: header + payload, pad included (for Malformed: bytes covered). */
  size: number;
  /** Set when the capture cut the message (snaplen) or it exceeded the size cap. */
  truncated?: boolean;
  /** Copy of the message bytes, only with the `keepBytes` option. */
  raw?: Uint8Array;
}

/** A packet-layer problem, passed on unchanged (see `onProblem`). */
export type DecoderProblem = PacketProblem;
