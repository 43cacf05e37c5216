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

/**
 * Metadata of a DBR payload. `Float` is the type of the limits, which are IEEE floats for FLOAT and DOUBLE
 * kinds: `number` in memory (NaN and infinities included), `number | null` in the JSON form.
 */
export interface DbrMetadata<Float = number> {
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
  upperDisplayLimit?: Float;
  lowerDisplayLimit?: Float;
  upperAlarmLimit?: Float;
  upperWarningLimit?: Float;
  lowerWarningLimit?: Float;
  lowerAlarmLimit?: Float;
  upperControlLimit?: Float;
  lowerControlLimit?: Float;
  /** GR/CTRL_ENUM: the valid state strings (no_str of them). */
  enumStrings?: string[];
  /** Raw no_str when out of 0..16. */
  enumStringCount?: number;
  /** STSACK_STRING. */
  ackt?: number;
  acks?: number;
}

/**
 * @asType integer
 * @minimum 0
 * @maximum 65535
 */
type U16 = number;
/**
 * @asType integer
 * @minimum 0
 * @maximum 4294967295
 */
type U32 = number;
/** An IPv4 address as a dotted quad, e.g. '10.0.0.1'. */
type DottedQuad = string;

/** In-memory DBR values: {@link DbrValue.data}; floats may be NaN or infinite. */
export interface InMemoryValues {
  data: DbrValue['data'];
  float: number;
}

/**
 * The JSON form of DBR values (what `recordToJSON` writes): waveforms as plain arrays, non-finite floats
 * as `null`.
 */
export interface JSONValues {
  data: (number | null)[] | string[];
  float: number | null;
}

/** How a command holds decoded DBR values: {@link InMemoryValues} or {@link JSONValues}. */
export interface ValueForm {
  data: unknown;
  float: unknown;
}

/** Fields every command decoded from a CA message has. */
interface Decoded {
  /** Set when the capture cut the message (snaplen) or it exceeded the deframer's size cap. */
  truncated?: boolean;
  /**
   * Set when the message came with the 24-byte extended header (§2.2): the payload is then the record's
   * `size` minus 24, not minus 16.
   */
  extended?: true;
}

/** A command whose `dt`/`dc` header fields are a DBR type and count. */
interface Typed extends Decoded {
  /** DBR type id (0..38; other values are passed on). */
  data_type: U16;
  /** DBR type name without `DBR_`, e.g. 'TIME_DOUBLE', or the number as a string when unknown. */
  data_type_name: string;
  /** Element count. */
  data_count: U32;
}

/** A reply carrying an ECA status code (`p1`). */
interface WithStatus {
  /** ECA status code; bit 0 set means success. */
  status: U32;
  /** ECA name of `status`, e.g. 'ECA_NORMAL'. */
  status_name: string;
  /** ECA severity of `status`: 'SUCCESS', 'WARNING', 'ERROR', 'INFO', 'SEVERE', 'FATAL' (or a digit). */
  severity: string;
  /** Set when the status is unsuccessful: the payload is then zeros, not values (§5.6). */
  failed?: true;
}

/** The decoded DBR payload of a command that carries values; absent when decoding skipped data. */
interface WithData<F extends ValueForm> {
  data?: F['data'];
  /** STS/TIME/GR/CTRL/STSACK metadata; absent for plain types. */
  metadata?: DbrMetadata<F['float']>;
  /** ENUM kinds with known state strings: the string of each value (see {@link DbrValue.enumLabels}). */
  enum_labels?: string[];
  /** What was wrong with the payload (see {@link DbrValue.problem}). */
  data_problem?: string;
}

/** VERSION from the client (§3.1). */
export interface VersionRequest extends Decoded {
  name: 'VersionRequest';
  id: 0;
  /** CA minor protocol version. */
  version: U32;
  /** TCP only: circuit priority (0..99). */
  priority?: U16;
  /** TCP only: the header's `p1`, reserved (0 from libca; caproto-shark reads it as a direction flag). */
  parameter1?: U32;
  /** UDP only: 1 when `sequence` is valid. */
  flag?: U16;
  /** UDP only: search sequence number. */
  sequence?: U32;
}

/** VERSION from the server (§3.1). */
export interface VersionResponse extends Decoded {
  name: 'VersionResponse';
  id: 0;
  version: U32;
  /** TCP only: the header's `dt` as the server sent it (RSRV 0; the spec and caproto servers 1). */
  priority?: U16;
  /** TCP only: the header's `p1`, reserved (0 from RSRV; the spec and caproto servers 1). */
  parameter1?: U32;
  /** UDP only: 1 when `sequence` is valid. */
  flag?: U16;
  /** UDP only: the client's search sequence number, echoed. */
  sequence?: U32;
}

/** EVENT_ADD from the client: subscribe (§3.9). */
export interface EventAddRequest extends Typed {
  name: 'EventAddRequest';
  id: 1;
  sid: U32;
  subscriptionid: U32;
  /** Deadband fields, absent when the payload is short (then `problem`). */
  low?: number;
  high?: number;
  to?: number;
  /** DBE_* bits: 1 value, 2 log, 4 alarm, 8 property. */
  mask?: U16;
  /** Why the subscription fields are missing. */
  problem?: string;
}

/** EVENT_ADD from the server: a monitor update (§3.9). */
export interface EventAddResponse<F extends ValueForm = InMemoryValues> extends Typed, WithStatus, WithData<F> {
  name: 'EventAddResponse';
  id: 1;
  subscriptionid: U32;
}

/** EVENT_CANCEL from the client (§3.9). */
export interface EventCancelRequest extends Typed {
  name: 'EventCancelRequest';
  id: 2;
  sid: U32;
  subscriptionid: U32;
}

/** The server's confirmation of EVENT_CANCEL: command 1 without payload (§3.9). */
export interface EventCancelResponse extends Typed {
  name: 'EventCancelResponse';
  id: 1;
  sid: U32;
  subscriptionid: U32;
}

/** READ from the client (obsolete, §3.11). */
export interface ReadRequest extends Typed {
  name: 'ReadRequest';
  id: 3;
  sid: U32;
  ioid: U32;
}

/** READ reply (obsolete); RSRV puts the CID in `sid` (§3.11). */
export interface ReadResponse<F extends ValueForm = InMemoryValues> extends Typed, WithData<F> {
  name: 'ReadResponse';
  id: 3;
  sid: U32;
  ioid: U32;
}

/** WRITE without reply (§3.10); libca puts the CID in `ioid`. */
export interface WriteRequest<F extends ValueForm = InMemoryValues> extends Typed, WithData<F> {
  name: 'WriteRequest';
  id: 4;
  sid: U32;
  ioid: U32;
}

/** SEARCH from a client (§3.2). */
export interface SearchRequest extends Decoded {
  name: 'SearchRequest';
  id: 6;
  /** The PV name searched for (caproto: `name`). */
  pv: string;
  cid: U32;
  /** CA minor version of the client. */
  version: U32;
  /** 5 = don't reply when not found, 10 = do reply. */
  reply: U16;
}

/** SEARCH reply from a server (§3.2). */
export interface SearchResponse extends Decoded {
  name: 'SearchResponse';
  id: 6;
  /** The server's TCP port. */
  port: U16;
  /** The server's address; '255.255.255.255' when `use_source_address`. */
  ip: DottedQuad;
  /** The header value behind `ip`. */
  ip_raw: U32;
  /** The server means "connect to the datagram's source address". */
  use_source_address: boolean;
  cid: U32;
  /** The server's CA minor version: UDP replies only (TCP replies carry none). */
  version?: U16;
}

/** EVENTS_OFF: stop sending monitor updates (§3.12). */
export interface EventsOffRequest extends Decoded {
  name: 'EventsOffRequest';
  id: 8;
}

/** EVENTS_ON: resume monitor updates (§3.12). */
export interface EventsOnRequest extends Decoded {
  name: 'EventsOnRequest';
  id: 9;
}

/** READ_SYNC from the client (obsolete, §3.11). */
export interface ReadSyncRequest extends Decoded {
  name: 'ReadSyncRequest';
  id: 10;
}

/** READ_SYNC from the server (obsolete, §3.11). */
export interface ReadSyncResponse extends Decoded {
  name: 'ReadSyncResponse';
  id: 10;
}

/** Decoded view of the request header embedded in an ERROR payload. */
export interface EmbeddedHeader {
  command: U16;
  command_name: string;
  /** caproto request class of the failed command, e.g. 'ReadNotifyRequest'. */
  request_name: string;
  payload_size: U32;
  data_type: U16;
  data_count: U32;
  parameter1: U32;
  parameter2: U32;
  /** 16, or 24 for an extended header. */
  header_size: U16;
}

/** ERROR from the server (§3.15). */
export interface ErrorResponse extends Decoded {
  name: 'ErrorResponse';
  id: 11;
  /** The failed request's header; absent when the payload has none (then `problem`). */
  original_request?: EmbeddedHeader;
  cid: U32;
  /** ECA code of the error. */
  status_code: U32;
  status_name: string;
  severity: string;
  error_message: string;
  problem?: string;
}

/** CLEAR_CHANNEL from the client (§3.14). */
export interface ClearChannelRequest extends Decoded {
  name: 'ClearChannelRequest';
  id: 12;
  sid: U32;
  cid: U32;
}

/** CLEAR_CHANNEL confirmation from the server (§3.14). */
export interface ClearChannelResponse extends Decoded {
  name: 'ClearChannelResponse';
  id: 12;
  sid: U32;
  cid: U32;
}

/** RSRV_IS_UP: a server beacon (§3.4). */
export interface Beacon extends Decoded {
  name: 'Beacon';
  id: 13;
  version: U16;
  server_port: U32;
  beacon_id: U32;
  /** The server's address; '0.0.0.0' means the datagram's source. */
  address: DottedQuad;
  address_raw: U32;
}

/** NOT_FOUND: a server does not have the PV searched for (§3.3). */
export interface NotFoundResponse extends Decoded {
  name: 'NotFoundResponse';
  id: 14;
  reply: U16;
  reply_flag: U16;
  version: U32;
  cid: U32;
}

/** READ_NOTIFY from the client (§3.8). */
export interface ReadNotifyRequest extends Typed {
  name: 'ReadNotifyRequest';
  id: 15;
  sid: U32;
  ioid: U32;
}

/** READ_NOTIFY reply (§3.8). */
export interface ReadNotifyResponse<F extends ValueForm = InMemoryValues> extends Typed, WithStatus, WithData<F> {
  name: 'ReadNotifyResponse';
  id: 15;
  ioid: U32;
}

/** REPEATER_CONFIRM from the CA repeater (§3.5). */
export interface RepeaterConfirmResponse extends Decoded {
  name: 'RepeaterConfirmResponse';
  id: 17;
  repeater_address: DottedQuad;
}

/** CREATE_CHAN from the client (§3.6). */
export interface CreateChanRequest extends Decoded {
  name: 'CreateChanRequest';
  id: 18;
  /** The PV name (caproto: `name`). */
  pv: string;
  cid: U32;
  /** CA minor version of the client. */
  version: U32;
}

/** CREATE_CHAN reply: the channel's native type and count (§3.6). */
export interface CreateChanResponse extends Typed {
  name: 'CreateChanResponse';
  id: 18;
  cid: U32;
  sid: U32;
}

/** WRITE_NOTIFY from the client (§3.10). */
export interface WriteNotifyRequest<F extends ValueForm = InMemoryValues> extends Typed, WithData<F> {
  name: 'WriteNotifyRequest';
  id: 19;
  sid: U32;
  ioid: U32;
}

/** WRITE_NOTIFY reply (§3.10). */
export interface WriteNotifyResponse extends Typed, WithStatus {
  name: 'WriteNotifyResponse';
  id: 19;
  ioid: U32;
}

/** CLIENT_NAME: the client's user name (§3.13). */
export interface ClientNameRequest extends Decoded {
  name: 'ClientNameRequest';
  id: 20;
  /** The user name (caproto: `name`). */
  client_name: string;
}

/** HOST_NAME: the client's host name (§3.13). */
export interface HostNameRequest extends Decoded {
  name: 'HostNameRequest';
  id: 21;
  /** The host name (caproto: `name`). */
  host_name: string;
}

/** ACCESS_RIGHTS from the server (§3.7). */
export interface AccessRightsResponse extends Decoded {
  name: 'AccessRightsResponse';
  id: 22;
  cid: U32;
  /** Bits: 1 read, 2 write. */
  access_rights: U32;
  read: boolean;
  write: boolean;
}

/** ECHO from the client (§3.12). */
export interface EchoRequest extends Decoded {
  name: 'EchoRequest';
  id: 23;
}

/** ECHO from the server (§3.12). */
export interface EchoResponse extends Decoded {
  name: 'EchoResponse';
  id: 23;
}

/** REPEATER_REGISTER from a client to its CA repeater (§3.5). */
export interface RepeaterRegisterRequest extends Decoded {
  name: 'RepeaterRegisterRequest';
  id: 24;
  /** The client's address; `null` for libca's empty registration datagram (then `empty`). */
  client_address: DottedQuad | null;
  /** Set for an empty datagram, which libca also sends to register. */
  empty?: true;
}

/** CREATE_CH_FAIL: the server cannot create the channel (§3.7). */
export interface CreateChFailResponse extends Decoded {
  name: 'CreateChFailResponse';
  id: 26;
  cid: U32;
}

/** SERVER_DISCONN: the server dropped the channel (§3.7). */
export interface ServerDisconnResponse extends Decoded {
  name: 'ServerDisconnResponse';
  id: 27;
  cid: U32;
}

/** A message with an obsolete or unknown command code: its raw header. */
export interface UnknownCommand extends Decoded {
  name: 'Unknown';
  /** The wire command code. */
  id: U16;
  /** The code's name from the command table, or the number as a string. */
  command_name: string;
  payload_size: U32;
  data_type: U16;
  data_count: U32;
  parameter1: U32;
  parameter2: U32;
}

/**
 * The `command` of a record made from bytes that are not a CA message: a deframer fault (bad header,
 * over-size message, bytes skipped while resynchronising after a gap) or a UDP datagram that its
 * messages do not fill exactly. Made by the decoder, never by {@link decodeCommand}.
 */
export interface MalformedCommand {
  name: 'Malformed';
  id: -1;
  /** What was wrong, in words. */
  reason: string;
  /** Machine-readable fault code from the deframer ('bad-command', 'gap', 'too-large', ...). */
  code: string;
  /**
   * Bytes covered by the fault.
   * @asType integer
   * @minimum 0
   */
  length: number;
  /**
   * Hex of up to 64 of the offending bytes.
   * @pattern ^([0-9a-f]{2})*$
   */
  hex: string;
}

/**
 * What {@link decodeCommand} makes of one CA message: one interface per caproto class, told apart by
 * `name`, plus {@link UnknownCommand}. `F` says how DBR values are held (in memory, or the JSON form).
 * @discriminator name
 */
export type DecodedCommand<F extends ValueForm = InMemoryValues> =
  | VersionRequest
  | VersionResponse
  | EventAddRequest
  | EventAddResponse<F>
  | EventCancelRequest
  | EventCancelResponse
  | ReadRequest
  | ReadResponse<F>
  | WriteRequest<F>
  | SearchRequest
  | SearchResponse
  | EventsOffRequest
  | EventsOnRequest
  | ReadSyncRequest
  | ReadSyncResponse
  | ErrorResponse
  | ClearChannelRequest
  | ClearChannelResponse
  | Beacon
  | NotFoundResponse
  | ReadNotifyRequest
  | ReadNotifyResponse<F>
  | RepeaterConfirmResponse
  | CreateChanRequest
  | CreateChanResponse
  | WriteNotifyRequest<F>
  | WriteNotifyResponse
  | ClientNameRequest
  | HostNameRequest
  | AccessRightsResponse
  | EchoRequest
  | EchoResponse
  | RepeaterRegisterRequest
  | CreateChFailResponse
  | ServerDisconnResponse
  | UnknownCommand;

/**
 * The command of a record: a decoded CA command or a {@link MalformedCommand}, told apart by `name`
 * (caproto's class name, e.g. 'SearchRequest', 'EventAddResponse', 'Beacon'); `id` is the wire command
 * code. The other fields are caproto's field names for that command, with numbers as numbers, IPv4
 * addresses as dotted quads, and DBR payloads as `data` (+ `metadata`). Narrow with a `switch` on `name`
 * (or {@link CommandOf}) to read them.
 *
 * caproto calls the string field of four commands `name`, which collides with the class name here; they
 * are named instead: SearchRequest.name and CreateChanRequest.name → `pv`, ClientNameRequest.name →
 * `client_name`, HostNameRequest.name → `host_name`. Presenters that print caproto's repr map them back.
 * @discriminator name
 */
export type CaCommand<F extends ValueForm = InMemoryValues> = DecodedCommand<F> | MalformedCommand;

/** A command class name: 'SearchRequest', ..., 'Unknown', 'Malformed'. */
export type CommandName = CaCommand['name'];

/** The command interface of class `N`, e.g. `CommandOf<'SearchRequest'>`. */
export type CommandOf<N extends CommandName, F extends ValueForm = InMemoryValues> = Extract<CaCommand<F>, { name: N }>;

/** A command in the JSON form (`--json`, the daemon's WebSocket records). */
export type CaCommandJSON = CaCommand<JSONValues>;

/** A command in either form: for code that only reads and accepts both. */
type AnyFormCommand = CaCommand<ValueForm>;

/** Every field name that some command has ('cid', 'pv', 'host_name', 'data', ...). */
export type CommandField = AnyFormCommand extends infer C ? (C extends unknown ? keyof C : never) : never;

/** The types field `K` has across the commands that have it. */
type CommandFieldType<K extends CommandField> = AnyFormCommand extends infer C
  ? C extends unknown
    ? K extends keyof C
      ? C[K]
      : never
    : never
  : never;

/**
 * Any command seen as the fields of all commands, each optional and typed as the union of its types in
 * the commands that have it: for code that reads a field without narrowing on `name` first (counting
 * `cid`s, reading a `status` wherever there is one). A command of either form is one, and so is a looser
 * record made from JSON; a misspelt field is a compile error. Narrow a {@link CaCommand} on `name`
 * instead where the class is known.
 */
export type CommandFields = { readonly name: string; readonly id?: number } & {
  readonly [K in Exclude<CommandField, 'name' | 'id'>]?: CommandFieldType<K>;
};
