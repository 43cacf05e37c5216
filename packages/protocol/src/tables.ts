/**
 * Lookup tables of the CA protocol (reference §1, §3, §5, §6). Each table is written once as rows; the
 * name→number objects and number→name functions are derived from those rows so they cannot drift.
 */

// ---------------------------------------------------------------------------------------------------
// Ports, epoch, sizes

/** Default CA server port (UDP searches and TCP circuits), `EPICS_CA_SERVER_PORT`. */
export const CA_SERVER_PORT = 5064;
/** Default CA repeater port (beacons, registration), `EPICS_CA_REPEATER_PORT`. */
export const CA_REPEATER_PORT = 5065;
/** Protocol major version this package speaks (4) and the minor of EPICS 3.14.12+ (13). */
export const CA_MAJOR_VERSION = 4;
export const CA_MINOR_VERSION = 13;
/** Seconds from the Unix epoch to the EPICS epoch (1990-01-01 00:00:00 UTC). */
export const EPICS_EPOCH_OFFSET = 631152000;
/** Fixed field sizes of DBR payloads (§5.1). */
export const MAX_STRING_SIZE = 40;
export const MAX_UNITS_SIZE = 8;
export const MAX_ENUM_STRING_SIZE = 26;
export const MAX_ENUM_STATES = 16;

/** Search request `dt`: ask for a NOT_FOUND reply (10) or not (5). */
export const SearchReply = { DO_REPLY: 10, DONT_REPLY: 5 } as const;

/** Access-rights bits carried in ACCESS_RIGHTS `p2` (§3.7). */
export const AccessRights = { NONE: 0, READ: 1, WRITE: 2, READ_WRITE: 3 } as const;

/** EVENT_ADD mask bits (§3.9). DBE_LOG and DBE_ARCHIVE are the same bit. */
export const EventMask = { DBE_VALUE: 1, DBE_LOG: 2, DBE_ARCHIVE: 2, DBE_ALARM: 4, DBE_PROPERTY: 8 } as const;

/** Names of the bits set in an EVENT_ADD mask, e.g. 5 → ['DBE_VALUE', 'DBE_ALARM']; unknown bits as hex. */
export function eventMaskNames(mask: number): string[] {
  const out: string[] = [];
  if (mask & EventMask.DBE_VALUE) out.push('DBE_VALUE');
  if (mask & EventMask.DBE_LOG) out.push('DBE_LOG');
  if (mask & EventMask.DBE_ALARM) out.push('DBE_ALARM');
  if (mask & EventMask.DBE_PROPERTY) out.push('DBE_PROPERTY');
  const rest = mask & ~0xf;
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

// Helper type: from a row table `[[name, ...], ...]` build `{ name: index }`.
type IndexOf<Rows extends readonly (readonly [string, ...unknown[]])[]> = {
  [K in keyof Rows & `${number}` as Rows[K][0]]: K extends `${infer N extends number}` ? N : never;
};

// Built by `Object.fromEntries`, not by stores into `{}`: V8 turns an object that gets more than a dozen
// properties by computed-key stores into a dictionary, and every `Command.X` or `DbrType.X` in optimised
// code then became a generic `LoadIC` call (a hash lookup) instead of a map check and a field load
// (session 17: 2-3 % of a `shark()` pass). `fromEntries` makes an object with fast properties.
function indexRows<Rows extends readonly (readonly [string, ...unknown[]])[]>(rows: Rows): IndexOf<Rows> {
  return Object.freeze(Object.fromEntries(rows.map((row, i) => [row[0], i]))) as IndexOf<Rows>;
}

// ---------------------------------------------------------------------------------------------------
// Commands (§3.0)

/** [name, obsolete]; the row index is the wire command code. */
const COMMAND_ROWS = [
  ['VERSION', false],
  ['EVENT_ADD', false],
  ['EVENT_CANCEL', false],
  ['READ', false],
  ['WRITE', false],
  ['SNAPSHOT', true],
  ['SEARCH', false],
  ['BUILD', true],
  ['EVENTS_OFF', false],
  ['EVENTS_ON', false],
  ['READ_SYNC', false],
  ['ERROR', false],
  ['CLEAR_CHANNEL', false],
  ['RSRV_IS_UP', false],
  ['NOT_FOUND', false],
  ['READ_NOTIFY', false],
  ['READ_BUILD', true],
  ['REPEATER_CONFIRM', false],
  ['CREATE_CHAN', false],
  ['WRITE_NOTIFY', false],
  ['CLIENT_NAME', false],
  ['HOST_NAME', false],
  ['ACCESS_RIGHTS', false],
  ['ECHO', false],
  ['REPEATER_REGISTER', false],
  ['SIGNAL', true],
  ['CREATE_CH_FAIL', false],
  ['SERVER_DISCONN', false],
] as const;

/** Command codes by name (`Command.SEARCH === 6`), without the `CA_PROTO_` prefix. */
export const Command = indexRows(COMMAND_ROWS);
/** Any command name of {@link Command}. */
export type CommandName = (typeof COMMAND_ROWS)[number][0];
/** Highest command code that exists (27). */
export const MAX_COMMAND = COMMAND_ROWS.length - 1;

/** Name of a command code ('SEARCH'), or `undefined` above 27. */
export function commandName(id: number): CommandName | undefined {
  const row = COMMAND_ROWS[id];
  return row === undefined ? undefined : row[0];
}

/** Command code of a name ('SEARCH' → 6; also accepts the 'CA_PROTO_' prefix), or `undefined`. */
export function commandId(name: string): number | undefined {
  const key = name.startsWith('CA_PROTO_') ? name.slice(9) : name;
  return Object.prototype.hasOwnProperty.call(Command, key) ? (Command as Record<string, number>)[key] : undefined;
}

/** True for 5 SNAPSHOT, 7 BUILD, 16 READ_BUILD, 25 SIGNAL: codes never sent by any peer. */
export function isObsoleteCommand(id: number): boolean {
  const row = COMMAND_ROWS[id];
  return row !== undefined && row[1];
}

/** True when `id` is a command a live peer may send (0..27 and not obsolete). */
export function isValidCommand(id: number): boolean {
  const row = COMMAND_ROWS[id];
  return row !== undefined && !row[1];
}

/** Commands whose header `dt` is a DBR type (so `dt ≤ 38` is checked by the deframer). */
const DBR_TYPED = new Uint8Array(MAX_COMMAND + 1);
for (const id of [1, 2, 3, 4, 15, 19]) DBR_TYPED[id] = 1;

/** True when the command's `dt` header field is a DBR type id. */
export function commandHasDbrType(id: number): boolean {
  return DBR_TYPED[id] === 1;
}

/**
 * Commands that carry no payload in either direction (§3.0, payload "–"). ECHO is left out: RSRV echoes
 * whatever an ECHO carried.
 */
const NO_PAYLOAD = new Uint8Array(MAX_COMMAND + 1);
for (const name of [
  'VERSION',
  'EVENT_CANCEL',
  'EVENTS_OFF',
  'EVENTS_ON',
  'READ_SYNC',
  'CLEAR_CHANNEL',
  'RSRV_IS_UP',
  'NOT_FOUND',
  'REPEATER_CONFIRM',
  'ACCESS_RIGHTS',
  'REPEATER_REGISTER',
  'CREATE_CH_FAIL',
  'SERVER_DISCONN',
] as const) {
  NO_PAYLOAD[Command[name]] = 1;
}

/**
 * Commands without a payload in one direction only (§3.6, §3.8, §3.10, §3.11): READ_NOTIFY and READ
 * requests, CREATE_CHAN and WRITE_NOTIFY replies. Where the decoder knows a circuit's roles for certain, a
 * payload on one of these means a damaged size that would swallow the messages after it.
 */
const NO_PAYLOAD_TO_SERVER = new Uint8Array(MAX_COMMAND + 1);
const NO_PAYLOAD_TO_CLIENT = new Uint8Array(MAX_COMMAND + 1);
NO_PAYLOAD_TO_SERVER[Command.READ_NOTIFY] = 1;
NO_PAYLOAD_TO_SERVER[Command.READ] = 1;
NO_PAYLOAD_TO_CLIENT[Command.CREATE_CHAN] = 1;
NO_PAYLOAD_TO_CLIENT[Command.WRITE_NOTIFY] = 1;

/** Which way a circuit's byte stream flows, once the decoder knows which end is the client. */
export type StreamDirection = 'to-server' | 'to-client';

/** True when the command carries no payload when sent in `direction` (see also {@link commandHasNoPayload}). */
export function commandHasNoPayloadTo(id: number, direction: StreamDirection): boolean {
  return (direction === 'to-server' ? NO_PAYLOAD_TO_SERVER : NO_PAYLOAD_TO_CLIENT)[id] === 1;
}

/** True when the command never carries a payload: one means a damaged header or lost sync. */
export function commandHasNoPayload(id: number): boolean {
  return NO_PAYLOAD[id] === 1;
}

// ---------------------------------------------------------------------------------------------------
// DBR types (§5.2, §5.3)

/** Value element kinds. */
export type DbrElementKind = 'string' | 'i16' | 'f32' | 'u16' | 'u8' | 'i32' | 'f64';
/** Metadata layouts. */
export type DbrMetaKind = 'plain' | 'sts' | 'time' | 'gr' | 'ctrl' | 'enum' | 'stsack';

/** [name, value offset (metadata size), metadata layout]; the row index is the DBR type id. */
const DBR_ROWS = [
  ['STRING', 0, 'plain'],
  ['SHORT', 0, 'plain'],
  ['FLOAT', 0, 'plain'],
  ['ENUM', 0, 'plain'],
  ['CHAR', 0, 'plain'],
  ['LONG', 0, 'plain'],
  ['DOUBLE', 0, 'plain'],
  ['STS_STRING', 4, 'sts'],
  ['STS_SHORT', 4, 'sts'],
  ['STS_FLOAT', 4, 'sts'],
  ['STS_ENUM', 4, 'sts'],
  ['STS_CHAR', 5, 'sts'],
  ['STS_LONG', 4, 'sts'],
  ['STS_DOUBLE', 8, 'sts'],
  ['TIME_STRING', 12, 'time'],
  ['TIME_SHORT', 14, 'time'],
  ['TIME_FLOAT', 12, 'time'],
  ['TIME_ENUM', 14, 'time'],
  ['TIME_CHAR', 15, 'time'],
  ['TIME_LONG', 12, 'time'],
  ['TIME_DOUBLE', 16, 'time'],
  // EPICS has no graphic/control string structure: 21 and 28 are laid out as STS_STRING.
  ['GR_STRING', 4, 'sts'],
  ['GR_SHORT', 24, 'gr'],
  ['GR_FLOAT', 40, 'gr'],
  ['GR_ENUM', 422, 'enum'],
  ['GR_CHAR', 19, 'gr'],
  ['GR_LONG', 36, 'gr'],
  ['GR_DOUBLE', 64, 'gr'],
  ['CTRL_STRING', 4, 'sts'],
  ['CTRL_SHORT', 28, 'ctrl'],
  ['CTRL_FLOAT', 48, 'ctrl'],
  ['CTRL_ENUM', 422, 'enum'],
  ['CTRL_CHAR', 21, 'ctrl'],
  ['CTRL_LONG', 44, 'ctrl'],
  ['CTRL_DOUBLE', 80, 'ctrl'],
  ['PUT_ACKT', 0, 'plain'],
  ['PUT_ACKS', 0, 'plain'],
  ['STSACK_STRING', 8, 'stsack'],
  ['CLASS_NAME', 0, 'plain'],
] as const;

/** DBR type ids by name without the `DBR_` prefix (`DbrType.TIME_DOUBLE === 20`). */
export const DbrType = indexRows(DBR_ROWS);
/** Any DBR type name of {@link DbrType}. */
export type DbrTypeName = (typeof DBR_ROWS)[number][0];
/** Highest DBR type id (38). */
export const MAX_DBR_TYPE = DBR_ROWS.length - 1;

const NATIVE_KINDS: readonly DbrElementKind[] = ['string', 'i16', 'f32', 'u16', 'u8', 'i32', 'f64'];
const KIND_SIZE: Readonly<Record<DbrElementKind, number>> = {
  string: MAX_STRING_SIZE,
  i16: 2,
  f32: 4,
  u16: 2,
  u8: 1,
  i32: 4,
  f64: 8,
};

// Derived per-id arrays, indexed by DBR type, for the hot paths.
const DBR_KIND: DbrElementKind[] = [];
const DBR_ELEMENT_SIZE: number[] = [];
const DBR_VALUE_OFFSET: number[] = [];
const DBR_META_KIND: DbrMetaKind[] = [];
DBR_ROWS.forEach(([, meta, layout], id) => {
  const kind: DbrElementKind =
    id <= DbrType.CTRL_DOUBLE ? NATIVE_KINDS[id % 7] : id <= DbrType.PUT_ACKS ? 'u16' : 'string';
  DBR_KIND.push(kind);
  DBR_ELEMENT_SIZE.push(KIND_SIZE[kind]);
  DBR_VALUE_OFFSET.push(meta);
  DBR_META_KIND.push(layout);
});

/** True for 0..38. */
export function isValidDbrType(type: number): boolean {
  return Number.isInteger(type) && type >= 0 && type <= MAX_DBR_TYPE;
}

/** Name of a DBR type without the `DBR_` prefix ('TIME_DOUBLE'), or `undefined` above 38. */
export function dbrTypeName(type: number): DbrTypeName | undefined {
  const row = DBR_ROWS[type];
  return row === undefined ? undefined : row[0];
}

/** DBR type id of a name ('TIME_DOUBLE' or 'DBR_TIME_DOUBLE'), or `undefined`. */
export function dbrTypeId(name: string): number | undefined {
  const key = name.startsWith('DBR_') ? name.slice(4) : name;
  return Object.prototype.hasOwnProperty.call(DbrType, key) ? (DbrType as Record<string, number>)[key] : undefined;
}

/**
 * Native (plain) type of a DBR type: `t % 7` for 0..34; PUT_ACKT/PUT_ACKS and the string kinds 37/38 are
 * their own natives (they have no plain counterpart). `undefined` above 38.
 */
export function dbrNativeType(type: number): number | undefined {
  if (!isValidDbrType(type)) return undefined;
  return type <= DbrType.CTRL_DOUBLE ? type % 7 : type;
}

/** Element kind of a DBR type's values. */
export function dbrElementKind(type: number): DbrElementKind | undefined {
  return DBR_KIND[type];
}

/** Size in bytes of one value element (40 for strings). */
export function dbrElementSize(type: number): number | undefined {
  return DBR_ELEMENT_SIZE[type];
}

/** Offset of the first value in the payload = size of the metadata (`dbr_value_offset`). */
export function dbrValueOffset(type: number): number | undefined {
  return DBR_VALUE_OFFSET[type];
}

/** Metadata layout of a DBR type. */
export function dbrMetaKind(type: number): DbrMetaKind | undefined {
  return DBR_META_KIND[type];
}

/**
 * Unpadded size of a DBR payload with `count` elements: meta + n·size (`dbr_size_n`). EPICS sizes count 0
 * as metadata only. `undefined` for unknown types.
 */
export function dbrSize(type: number, count: number): number | undefined {
  const size = DBR_ELEMENT_SIZE[type];
  if (size === undefined) return undefined;
  return DBR_VALUE_OFFSET[type] + Math.max(0, count) * size;
}

/** `n` rounded up to a multiple of 8 (CA payload alignment). */
export function alignedSize(n: number): number {
  return (n + 7) & ~7;
}

/** On-wire (8-aligned) payload size of a DBR payload with `count` elements. */
export function dbrAlignedSize(type: number, count: number): number | undefined {
  const s = dbrSize(type, count);
  return s === undefined ? undefined : alignedSize(s);
}

// ---------------------------------------------------------------------------------------------------
// ECA status codes (§6)

/** ECA severities (low 3 bits of a status code). */
const ECA_SEVERITY_ROWS = [['WARNING'], ['SUCCESS'], ['ERROR'], ['INFO'], ['SEVERE'], ['5'], ['FATAL'], ['7']] as const;
/** ECA severity codes by name. */
export const EcaSeverity = { WARNING: 0, SUCCESS: 1, ERROR: 2, INFO: 3, SEVERE: 4, FATAL: 6 } as const;
/** Name of an ECA severity (0..7). */
export function ecaSeverityName(severity: number): string {
  const row = ECA_SEVERITY_ROWS[severity & 7];
  return row[0];
}

type EcaSev = keyof typeof EcaSeverity;
/** [name without ECA_, severity, message, defunct]; the row index is the message number. */
const ECA_ROWS: readonly (readonly [string, EcaSev, string, boolean])[] = [
  ['NORMAL', 'SUCCESS', 'success', false],
  ['MAXIOC', 'ERROR', 'too many server connections', true],
  ['UKNHOST', 'ERROR', 'unknown host', true],
  ['UKNSERV', 'ERROR', 'unknown service', true],
  ['SOCK', 'ERROR', 'no socket', true],
  ['CONN', 'WARNING', 'cannot connect', true],
  ['ALLOCMEM', 'WARNING', 'out of memory', false],
  ['UKNCHAN', 'WARNING', 'unknown channel', true],
  ['UKNFIELD', 'WARNING', 'unsuitable record field', true],
  ['TOLARGE', 'WARNING', 'transfer exceeds buffer / max array bytes', false],
  ['TIMEOUT', 'WARNING', 'I/O timed out', false],
  ['NOSUPPORT', 'WARNING', 'not implemented', true],
  ['STRTOBIG', 'WARNING', 'string too long', true],
  ['DISCONNCHID', 'ERROR', 'channel disconnected', true],
  ['BADTYPE', 'ERROR', 'bad DBR type', false],
  ['CHIDNOTFND', 'INFO', 'channel not found', true],
  ['CHIDRETRY', 'INFO', 'some channels not found yet', true],
  ['INTERNAL', 'FATAL', 'internal failure / protocol violation', false],
  ['DBLCLFAIL', 'WARNING', 'local DB operation failed', true],
  ['GETFAIL', 'WARNING', 'read failed', false],
  ['PUTFAIL', 'WARNING', 'write failed', false],
  ['ADDFAIL', 'WARNING', 'subscription failed', true],
  ['BADCOUNT', 'WARNING', 'bad element count', false],
  ['BADSTR', 'ERROR', 'bad string', false],
  ['DISCONN', 'WARNING', 'circuit disconnected', false],
  ['DBLCHNL', 'WARNING', 'PV on several servers', false],
  ['EVDISALLOW', 'ERROR', 'not allowed inside a callback', false],
  ['BUILDGET', 'WARNING', 'get during search failed', true],
  ['NEEDSFP', 'WARNING', 'FP task option needed', true],
  ['OVEVFAIL', 'WARNING', 'event queue overflow', true],
  ['BADMONID', 'ERROR', 'bad subscription ID', false],
  ['NEWADDR', 'WARNING', 'channel moved', true],
  ['NEWCONN', 'INFO', 'new/resumed connection', true],
  ['NOCACTX', 'WARNING', 'no CA context', true],
  ['DEFUNCT', 'FATAL', 'obsolete feature / client too old', true],
  ['EMPTYSTR', 'WARNING', 'empty string', true],
  ['NOREPEATER', 'WARNING', 'repeater not started', true],
  ['NOCHANMSG', 'WARNING', 'search reply for unknown channel', true],
  ['DLCKREST', 'WARNING', 'resetting dead circuit', true],
  ['SERVBEHIND', 'WARNING', 'server not responding', true],
  ['NOCAST', 'WARNING', 'no broadcast interface', true],
  ['BADMASK', 'ERROR', 'bad event mask', false],
  ['IODONE', 'INFO', 'I/O done', false],
  ['IOINPROGRESS', 'INFO', 'I/O pending', false],
  ['BADSYNCGRP', 'ERROR', 'bad sync group', false],
  ['PUTCBINPROG', 'ERROR', 'put callback busy / timed out', false],
  ['NORDACCESS', 'WARNING', 'no read access', false],
  ['NOWTACCESS', 'WARNING', 'no write access', false],
  ['ANACHRONISM', 'ERROR', 'feature removed', false],
  ['NOSEARCHADDR', 'WARNING', 'empty search address list', false],
  ['NOCONVERT', 'WARNING', 'no sensible conversion', false],
  ['BADCHID', 'ERROR', 'bad channel id', false],
  ['BADFUNCPTR', 'ERROR', 'bad function pointer', false],
  ['ISATTACHED', 'WARNING', 'thread already attached', false],
  ['UNAVAILINSERV', 'WARNING', 'unsupported by service', false],
  ['CHANDESTROY', 'WARNING', 'channel destroyed by user', false],
  ['BADPRIORITY', 'ERROR', 'bad priority', false],
  ['NOTTHREADED', 'ERROR', 'preemptive callbacks off', false],
  ['16KARRAYCLIENT', 'WARNING', 'peer too old for > 16 KiB', false],
  ['CONNSEQTMO', 'WARNING', 'connect sequence aborted', false],
  ['UNRESPTMO', 'WARNING', 'circuit unresponsive', false],
];

/**
 * EPICS's own text of each ECA code (`ca_message()`, caerr.h), by message number; printed where a tool must
 * show what EPICS (and caproto) show, e.g. the `description` of caproto's `CAStatusCode`.
 */
const ECA_DESCRIPTIONS: readonly string[] = [
  'Normal successful completion',
  'Maximum simultaneous IOC connections exceeded',
  'Unknown internet host',
  'Unknown internet service',
  'Unable to allocate a new socket',
  'Unable to connect to internet host or service',
  'Unable to allocate additional dynamic memory',
  'Unknown IO channel',
  'Record field specified inappropriate for channel specified',
  'The requested data transfer is greater than available memory or EPICS_CA_MAX_ARRAY_BYTES',
  'User specified timeout on IO operation expired',
  'Sorry, that feature is planned but not supported at this time',
  'The supplied string is unusually large',
  'The request was ignored because the specified channel is disconnected',
  'The data type specifed is invalid',
  'Remote Channel not found',
  'Unable to locate all user specified channels',
  'Channel Access Internal Failure',
  'The requested local DB operation failed',
  'Channel read request failed',
  'Channel write request failed',
  'Channel subscription request failed',
  'Invalid element count requested',
  'Invalid string',
  'Virtual circuit disconnect',
  'Identical process variable name on multiple servers',
  'Request inappropriate within subscription (monitor) update callback',
  'Database value get for that channel failed during channel search',
  'Unable to initialize without the vxWorks VX_FP_TASKtask option set',
  'Event queue overflow has prevented first pass event after event add',
  'Bad event subscription (monitor) identifier',
  'Remote channel has new network address',
  'New or resumed network connection',
  'Specified task isnt a member of a CA context',
  'Attempt to use defunct CA feature failed',
  'The supplied string is empty',
  'Unable to spawn the CA repeater thread; auto reconnect will fail',
  'No channel id match for search reply; search reply ignored',
  'Reseting dead connection; will try to reconnect',
  'Server (IOC) has fallen behind or is not responding; still waiting',
  'No internet interface with broadcast available',
  'Invalid event selection mask',
  'IO operations have completed',
  'IO operations are in progress',
  'Invalid synchronous group identifier',
  'Put callback timed out',
  'Read access denied',
  'Write access denied',
  'Requested feature is no longer supported',
  'Empty PV search address list',
  'No reasonable data conversion between client and server types',
  'Invalid channel identifier',
  'Invalid function pointer',
  'Thread is already attached to a client context',
  'Not supported by attached service',
  'User destroyed channel',
  'Invalid channel priority',
  'Preemptive callback not enabled - additional threads may not join context',
  'Client’s protocol revision does not support transfers exceeding 16k bytes',
  'Virtual circuit connection sequence aborted',
  'Virtual circuit unresponsive',
];

/** One ECA status code. */
export interface EcaInfo {
  /** Full status code = (msgNo << 3) | severity. */
  code: number;
  msgNo: number;
  /** Name with the prefix, e.g. 'ECA_NORMAL'. */
  name: string;
  severity: number;
  severityName: string;
  message: string;
  /** EPICS's text for the code (`ca_message()`), e.g. 'Normal successful completion'. */
  description: string;
  /** Not produced by current EPICS. */
  defunct: boolean;
  /** Low bit of the code. */
  success: boolean;
}

const ECA_BY_CODE = new Map<number, EcaInfo>();
const ECA_BY_NAME = new Map<string, EcaInfo>();
ECA_ROWS.forEach(([name, sev, message, defunct], msgNo) => {
  const severity = EcaSeverity[sev];
  const code = (msgNo << 3) | severity;
  const info: EcaInfo = Object.freeze({
    code,
    msgNo,
    name: `ECA_${name}`,
    severity,
    severityName: sev,
    message,
    description: ECA_DESCRIPTIONS[msgNo],
    defunct,
    success: (code & 1) === 1,
  });
  ECA_BY_CODE.set(code, info);
  ECA_BY_NAME.set(info.name, info);
});

/** ECA status codes by name with the prefix (`Eca.ECA_NORMAL === 1`). */
export const Eca: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([...ECA_BY_NAME.values()].map((i) => [i.name, i.code])),
);
/** ECA_NORMAL (1): the success status of every reply. */
export const ECA_NORMAL = 1;

/** The ECA table entry for a code, or `undefined` when it is not a known code. */
export function ecaInfo(code: number): EcaInfo | undefined {
  return ECA_BY_CODE.get(code);
}

// Codes are below 512: a dense array beats the Map on the per-message path.
const ECA_NAME_BY_CODE: string[] = [];
for (const info of ECA_BY_CODE.values()) ECA_NAME_BY_CODE[info.code] = info.name;

/** 'ECA_NORMAL' for 1; unknown codes as 'ECA_UNKNOWN(<code>)'. */
export function ecaName(code: number): string {
  const name = code >= 0 && code < ECA_NAME_BY_CODE.length ? ECA_NAME_BY_CODE[code] : undefined;
  return name === undefined ? `ECA_UNKNOWN(${code})` : name;
}

/** Severity name of a status code's low 3 bits (also for unknown codes). */
export function ecaSeverity(code: number): string {
  return ecaSeverityName(code & 7);
}

/** Code of a name ('ECA_GETFAIL' or 'GETFAIL'), or `undefined`. */
export function ecaCode(name: string): number | undefined {
  return (ECA_BY_NAME.get(name.startsWith('ECA_') ? name : `ECA_${name}`) ?? undefined)?.code;
}

/** True when `code` is in the ECA table. */
export function isEcaCode(code: number): boolean {
  return ECA_BY_CODE.has(code);
}

// ---------------------------------------------------------------------------------------------------
// Alarms (§5.5)

const ALARM_SEVERITY_ROWS = [['NO_ALARM'], ['MINOR'], ['MAJOR'], ['INVALID']] as const;
/** Alarm severities by name. */
export const AlarmSeverity = indexRows(ALARM_SEVERITY_ROWS);

const ALARM_STATUS_ROWS = [
  ['NO_ALARM'],
  ['READ'],
  ['WRITE'],
  ['HIHI'],
  ['HIGH'],
  ['LOLO'],
  ['LOW'],
  ['STATE'],
  ['COS'],
  ['COMM'],
  ['TIMEOUT'],
  ['HWLIMIT'],
  ['CALC'],
  ['SCAN'],
  ['LINK'],
  ['SOFT'],
  ['BAD_SUB'],
  ['UDF'],
  ['DISABLE'],
  ['SIMM'],
  ['READ_ACCESS'],
  ['WRITE_ACCESS'],
] as const;
/** Alarm status conditions by name (not ECA codes). */
export const AlarmStatus = indexRows(ALARM_STATUS_ROWS);

/** 'MAJOR' for 2; other values as their decimal string. */
export function alarmSeverityName(severity: number): string {
  const row = ALARM_SEVERITY_ROWS[severity];
  return row === undefined ? String(severity) : row[0];
}

/** 'HIHI' for 3; other values as their decimal string. */
export function alarmStatusName(status: number): string {
  const row = ALARM_STATUS_ROWS[status];
  return row === undefined ? String(status) : row[0];
}

// ---------------------------------------------------------------------------------------------------
// IPv4 helpers (addresses travel as big-endian u32)

/** 0x0A00010B → '10.0.1.11'. */
export function ipv4ToString(addr: number): string {
  return `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** '10.0.1.11' → 0x0A00010B; throws on a malformed address. */
export function ipv4FromString(addr: string): number {
  const parts = addr.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${addr}`);
  let out = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new RangeError(`not an IPv4 address: ${addr}`);
    out = out * 256 + n;
  }
  return out;
}
