/**
 * Public types of the CA wire layer: the contract with the decoder (conversation state), the
 * simulator (encoder) and the presenters. Change them only together with their users.
 */

/** One deframed CA message: the header, widened to 32-bit sizes, and a view of its payload. */
export interface CaFrame {
  command: number;
  /** Real payload size (the 32-bit one for extended headers), pad included. */
  payloadSize: number;
  dataType: number;
  /** Real data count (the 32-bit one for extended headers). */
  dataCount: number;
  parameter1: number;
  parameter2: number;
  /** 16 or 24. */
  headerSize: number;
  /**
   * The payload bytes, `payloadSize` long unless the message was cut by the capture (then shorter and
   * `truncated` is set). A view that is only valid during the callback: copy to keep it.
   */
  payload: Uint8Array;
  /** The whole message (header + payload) as a view, valid during the callback only. */
  bytes: Uint8Array;
  /** Set when the payload is shorter than `payloadSize` (snaplen cut or message over the size cap). */
  truncated?: boolean;
  /**
   * Anomalies that do not stop decoding: 'extended-header-dc16-nonzero', 'payload-over-cap' (payload
   * above the deframer's cap: only a prefix is kept), 'message-cut' (stream or datagram ended inside it).
   */
  anomalies?: string[];
}

/** Bytes the deframer could not read as CA messages. */
export interface CaFault {
  /**
   * What failed first: a §2.3 header check ('bad-command', 'obsolete-command', 'bad-alignment',
   * 'bad-data-type'), 'gap' (bytes lost before resynchronising), 'trailing-bytes' (a stream or datagram
   * ends inside a header), or for datagrams 'overrun' (a message runs past the end) and 'too-large'.
   */
  code: string;
  /** What was wrong, in words, with the offending values. */
  message: string;
  /** How many stream/datagram bytes this fault covers (skipped while resynchronising). */
  length: number;
  /** Up to 64 of the offending bytes (copied), for a hex dump. */
  sample: Uint8Array;
  /**
   * Where the covered bytes start: for a `Deframer`, the stream position (bytes pushed so far plus lost
   * bytes reported to `gap(n)`); for a datagram, the offset inside it.
   */
  offset?: number;
}

/** Direction of a message relative to the CA client/server roles. */
export type Role = 'request' | 'response';

/** How sure the role is: from transport state, from one-sided commands or IDs, or a header guess. */
export type RoleCertainty = 'certain' | 'inferred' | 'guess';

/** The typed arrays that hold decoded numeric DBR arrays of more than 256 elements (see {@link DbrValue.data}). */
export type DbrNumericArray = Float64Array | Float32Array | Int32Array | Int16Array | Uint16Array | Uint8Array;

/** A decoded DBR payload. */
export interface DbrValue {
  /** DBR type id 0..38 and its name without the DBR_ prefix, e.g. 'TIME_DOUBLE'. */
  dataType: number;
  dataTypeName: string;
  /** Elements actually decoded (≤ data_count; fewer when the payload is short). */
  count: number;
  /**
   * Values: numbers for numeric types, strings for STRING-like types, enum indexes (numbers) for ENUM.
   * Always array-like, also for one element (as caproto does): a plain array of strings for STRING-like
   * types, a plain array of numbers for numeric types with up to 256 elements (scalars above all), and a
   * typed array in host byte order for numeric types with more (waveforms): `Float64Array` for DOUBLE,
   * `Float32Array` FLOAT, `Int32Array` LONG, `Int16Array` SHORT, `Uint16Array` ENUM, `Uint8Array` CHAR.
   * Read it with index loops or `Array.from`; JSON forms print it as a plain array (see analysis's
   * `recordToJSON`), never `JSON.stringify` a typed array directly.
   */
  data: number[] | string[] | DbrNumericArray;
  /** Metadata of STS/TIME/GR/CTRL/STSACK types; absent for plain types. */
  metadata?: DbrMetadata;
  /**
   * ENUM kinds only, when state strings are known (GR/CTRL_ENUM metadata or the caller's): the string of
   * each value, or the index as a string when out of range.
   */
  enumLabels?: string[];
  /** Set when the payload was unusable or short: unknown type, cut metadata, fewer elements than counted. */
  problem?: string;
}

export interface DbrMetadata {
  status?: number;
  /** Alarm status name, e.g. 'HIHI', or the number as a string when unknown. */
  statusName?: string;
  severity?: number;
  /** 'NO_ALARM' | 'MINOR' | 'MAJOR' | 'INVALID' or the number as a string. */
  severityName?: string;
  /** EPICS timestamp converted to Unix seconds (absent for 0/0 = never set: then `timestampRaw` only). */
  timestamp?: number;
  /** Raw EPICS seconds past 1990 and nanoseconds. */
  secondsPastEpoch?: number;
  nanoseconds?: number;
  units?: string;
  precision?: number;
  upperDisplayLimit?: number;
  lowerDisplayLimit?: number;
  upperAlarmLimit?: number;
  upperWarningLimit?: number;
  lowerWarningLimit?: number;
  lowerAlarmLimit?: number;
  upperControlLimit?: number;
  lowerControlLimit?: number;
  /** GR/CTRL_ENUM: the valid state strings (no_str of them). */
  enumStrings?: string[];
  /** Raw no_str when out of 0..16. */
  enumStringCount?: number;
  /** STSACK_STRING. */
  ackt?: number;
  acks?: number;
}

/**
 * A decoded CA command. `name` is caproto's class name (e.g. 'SearchRequest', 'EventAddResponse',
 * 'Beacon'); `id` is the wire command code. The other fields are caproto's field names for that
 * command (`name`, `cid`, `sid`, `ioid`, `subscriptionid`, `data_type`, `data_count`, `status`, ...)
 * with numbers as numbers, IPv4 addresses as dotted quads, and DBR payloads as `data` (+ `metadata`).
 *
 * caproto calls the string field of four commands `name`, which collides with the class name here; they
 * are named instead: SearchRequest.name and CreateChanRequest.name → `pv`, ClientNameRequest.name →
 * `client_name`, HostNameRequest.name → `host_name`. Presenters that print caproto's repr map them back.
 */
export interface CaCommand {
  name: string;
  id: number;
  [field: string]: unknown;
}
