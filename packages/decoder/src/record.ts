import type { Ipv4Record, LinkRecord, PacketProblem, TransportRecord } from '@ca-shark/packet';
import type { CaCommand, CaCommandJSON, MalformedCommand, Role, RoleCertainty } from '@ca-shark/protocol';

/** The `command` of a record made from bytes that are not a CA message (declared with the commands). */
export type { MalformedCommand };

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
 * One Channel Access message (or one malformed run of bytes) with everything the conversation state
 * knows about it. The CLI prints it and its NDJSON output is this object as JSON.
 */
export interface CaRecord {
  /**
   * Frame number (1-based) of the packet that completed the message.
   * @asType integer
   * @minimum 1
   */
  frame: number;
  /** Capture time of that packet, Unix seconds. */
  timestamp: number;
  /**
   * pcapng interface the completing packet came from (0 for classic pcap and live capture).
   * @asType integer
   * @minimum 0
   */
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
  /**
   * TCP flow id of the circuit (absent for UDP).
   * @asType integer
   * @minimum 0
   */
  circuit?: number;
  /** For a response: the request it answers. */
  request?: RequestRef;
  /** For a response with `request`: seconds since that request. */
  latency?: number;
  /** Server endpoint "ip:port" of the conversation when known (for beacons and search replies: the advertised TCP endpoint). */
  server?: string;
  /** Client endpoint "ip:port" of the conversation when known. */
  client?: string;
  /**
   * Message size on the wire: header + payload, pad included (for Malformed: bytes covered).
   * @asType integer
   * @minimum 0
   */
  size: number;
  /** Set when the capture cut the message (snaplen) or it exceeded the size cap. */
  truncated?: boolean;
  /** Copy of the message bytes, only with the `keepBytes` option. */
  raw?: Uint8Array;
}

/** A packet-layer problem, passed on unchanged (see `onProblem`). */
export type DecoderProblem = PacketProblem;

/**
 * A record in its JSON form: what `ca-shark --json` prints and the daemon sends (analysis's `recordToJSON`).
 * DBR values are plain arrays with non-finite floats as `null`, byte fields are lower-case hex, and fields
 * that are `undefined` are left out. `packages/cli/schema/record.schema.json` is generated from this type.
 */
export interface CaRecordJSON extends Omit<CaRecord, 'ip' | 'command' | 'raw'> {
  /** IPv4 header of the completing packet; `options` as hex. */
  ip: Omit<Ipv4Record, 'options'> & {
    /**
     * Hex of the option bytes, when the header is longer than 20 bytes.
     * @pattern ^([0-9a-f]{2})*$
     */
    options?: string;
  };
  /** The decoded message (see {@link CaCommand}), DBR values in JSON form. */
  command: CaCommandJSON;
  /**
   * Hex of the message bytes, only with the `keepBytes` option (`ca-shark --raw`).
   * @pattern ^([0-9a-f]{2})*$
   */
  raw?: string;
}
