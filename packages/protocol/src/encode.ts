/**
 * CA encoder: headers, DBR payloads and one typed builder per command (field names are caproto's).
 * Used by the simulator, tests and benches; the inverse of the decoders.
 */
import type { DbrMetadata } from './types.js';
import { EXTENDED_HEADER_SIZE, EXTENDED_MARKER, HEADER_SIZE, HeaderOffset, STANDARD_LIMIT } from './header.js';
import {
  alignedSize,
  CA_MINOR_VERSION,
  Command,
  dbrElementKind,
  dbrElementSize,
  dbrMetaKind,
  dbrValueOffset,
  ECA_NORMAL,
  EPICS_EPOCH_OFFSET,
  EventMask,
  ipv4FromString,
  MAX_ENUM_STATES,
  MAX_ENUM_STRING_SIZE,
  MAX_STRING_SIZE,
  MAX_UNITS_SIZE,
  SearchReply,
} from './tables.js';
import { EventAddPayload, LIMIT_FIELDS, MetaOffset, SEARCH_ADDRESS_USE_SOURCE, SearchReplyPayload } from './layout.js';

/** Header fields of a message to encode; omitted numbers are 0. */
export interface MessageFields {
  command: number;
  dataType?: number;
  dataCount?: number;
  parameter1?: number;
  parameter2?: number;
}

/** Knobs for building unusual (but real) messages in tests. */
export interface EncodeMessageOptions {
  /** Force (true) or forbid (false) the 24-byte extended header; default: as EPICS does. */
  extended?: boolean;
  /** Write this 16-bit data count marker in an extended header instead of 0 (an anomaly). */
  extendedDc16?: number;
  /** Do not pad the payload to 8 (produces a malformed message, for tests). */
  noPad?: boolean;
}

const textEncoder = new TextEncoder();

/**
 * Encodes one message: the payload is zero-padded to a multiple of 8 and the extended 24-byte header is
 * used when the aligned payload or the count is ≥ 0xFFFF (as libca/RSRV do).
 */
export function encodeMessage(fields: MessageFields, payload?: Uint8Array, options?: EncodeMessageOptions): Uint8Array {
  const raw = payload?.length ?? 0;
  const ps = options?.noPad ? raw : alignedSize(raw);
  const dc = fields.dataCount ?? 0;
  const extended = options?.extended ?? (ps >= STANDARD_LIMIT || dc >= STANDARD_LIMIT);
  const hs = extended ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
  if (!extended && (ps > 0xffff || dc > 0xffff)) {
    throw new RangeError(`payload size ${ps} / count ${dc} needs an extended header`);
  }
  const out = new Uint8Array(hs + ps);
  const v = new DataView(out.buffer);
  v.setUint16(HeaderOffset.COMMAND, fields.command);
  v.setUint16(HeaderOffset.DATA_TYPE, fields.dataType ?? 0);
  v.setUint32(HeaderOffset.PARAMETER1, (fields.parameter1 ?? 0) >>> 0);
  v.setUint32(HeaderOffset.PARAMETER2, (fields.parameter2 ?? 0) >>> 0);
  if (extended) {
    v.setUint16(HeaderOffset.PAYLOAD_SIZE, EXTENDED_MARKER);
    v.setUint16(HeaderOffset.DATA_COUNT, options?.extendedDc16 ?? 0);
    v.setUint32(HeaderOffset.EXT_PAYLOAD_SIZE, ps);
    v.setUint32(HeaderOffset.EXT_DATA_COUNT, dc);
  } else {
    v.setUint16(HeaderOffset.PAYLOAD_SIZE, ps);
    v.setUint16(HeaderOffset.DATA_COUNT, dc);
  }
  if (payload) out.set(payload, hs);
  return out;
}

/** Concatenates messages (e.g. several commands in one datagram or segment). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `name` as UTF-8 + NUL, zero-padded to a multiple of 8 (names in SEARCH, CREATE_CHAN, CLIENT/HOST_NAME). */
export function encodeString(name: string): Uint8Array {
  const b = textEncoder.encode(name);
  const out = new Uint8Array(alignedSize(b.length + 1));
  out.set(b);
  return out;
}

function writeFixedString(out: Uint8Array, offset: number, size: number, s: string): void {
  const b = textEncoder.encode(s);
  // A value that fills the whole field has no terminator on the wire: that is legal CA.
  out.set(b.length > size ? b.subarray(0, size) : b, offset);
}

function toEpicsTime(meta: DbrMetadata): [number, number] {
  if (meta.secondsPastEpoch !== undefined || meta.nanoseconds !== undefined) {
    return [meta.secondsPastEpoch ?? 0, meta.nanoseconds ?? 0];
  }
  if (meta.timestamp === undefined) return [0, 0];
  let secs = Math.floor(meta.timestamp);
  let nsec = Math.round((meta.timestamp - secs) * 1e9);
  if (nsec >= 1e9) {
    secs += 1;
    nsec -= 1e9;
  }
  return [Math.max(0, secs - EPICS_EPOCH_OFFSET), nsec];
}

type Value = number | string;

function writeValue(v: DataView, bytes: Uint8Array, kind: string, o: number, value: Value): void {
  switch (kind) {
    case 'string':
      writeFixedString(bytes, o, MAX_STRING_SIZE, String(value));
      return;
    case 'i16':
      v.setInt16(o, Number(value));
      return;
    case 'u16':
      v.setUint16(o, Number(value));
      return;
    case 'u8':
      v.setUint8(o, Number(value));
      return;
    case 'i32':
      v.setInt32(o, Number(value));
      return;
    case 'f32':
      v.setFloat32(o, Number(value));
      return;
    case 'f64':
      v.setFloat64(o, Number(value));
      return;
  }
}

/** Options of {@link encodeDbr}. */
export interface EncodeDbrOptions {
  /** Do not round the size up to 8 (to build `dbr_size_n`-exact bytes). */
  noPad?: boolean;
}

/**
 * Encodes a DBR payload of any of the 39 types: metadata (status, severity, time, units, precision,
 * limits, enum strings, ackt/acks, as the type has them) then `values.length` elements. Strings are
 * NUL-padded to 40 bytes; the result is zero-padded to 8 unless `noPad`. Throws on unknown types.
 */
export function encodeDbr(
  dataType: number,
  values: readonly Value[],
  metadata?: DbrMetadata,
  options?: EncodeDbrOptions,
): Uint8Array {
  const kind = dbrElementKind(dataType);
  const metaKind = dbrMetaKind(dataType);
  const valueOffset = dbrValueOffset(dataType);
  const size = dbrElementSize(dataType);
  if (kind === undefined || metaKind === undefined || valueOffset === undefined || size === undefined) {
    throw new RangeError(`unknown DBR type ${dataType}`);
  }
  const raw = valueOffset + values.length * size;
  const out = new Uint8Array(options?.noPad ? raw : alignedSize(raw));
  const v = new DataView(out.buffer);
  const m = metadata ?? {};
  if (metaKind === 'stsack') {
    v.setUint16(MetaOffset.STATUS, m.status ?? 0);
    v.setUint16(MetaOffset.SEVERITY, m.severity ?? 0);
    v.setUint16(MetaOffset.ACKT, m.ackt ?? 0);
    v.setUint16(MetaOffset.ACKS, m.acks ?? 0);
  } else if (metaKind !== 'plain') {
    v.setInt16(MetaOffset.STATUS, m.status ?? 0);
    v.setInt16(MetaOffset.SEVERITY, m.severity ?? 0);
  }
  if (metaKind === 'time') {
    const [secs, nsec] = toEpicsTime(m);
    v.setUint32(MetaOffset.TIME_SECONDS, secs >>> 0);
    v.setUint32(MetaOffset.TIME_NANOSECONDS, nsec >>> 0);
  } else if (metaKind === 'gr' || metaKind === 'ctrl') {
    const isFloat = kind === 'f32' || kind === 'f64';
    if (isFloat) v.setInt16(MetaOffset.PRECISION, m.precision ?? 0);
    writeFixedString(out, isFloat ? MetaOffset.FLOAT_UNITS : MetaOffset.INT_UNITS, MAX_UNITS_SIZE, m.units ?? '');
    const nLimits = metaKind === 'ctrl' ? 8 : 6;
    let o = isFloat ? MetaOffset.FLOAT_LIMITS : MetaOffset.INT_LIMITS;
    for (let i = 0; i < nLimits; i++) {
      writeValue(v, out, kind, o, m[LIMIT_FIELDS[i]] ?? 0);
      o += size;
    }
  } else if (metaKind === 'enum') {
    const strs = m.enumStrings ?? [];
    v.setInt16(MetaOffset.ENUM_NO_STR, m.enumStringCount ?? Math.min(strs.length, MAX_ENUM_STATES));
    for (let i = 0; i < Math.min(strs.length, MAX_ENUM_STATES); i++) {
      writeFixedString(out, MetaOffset.ENUM_STRINGS + i * MAX_ENUM_STRING_SIZE, MAX_ENUM_STRING_SIZE, strs[i]);
    }
  }
  let o = valueOffset;
  for (const value of values) {
    writeValue(v, out, kind, o, value);
    o += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One builder per command. Field names follow caproto; `version` defaults to 13 (EPICS 3.14.12+).

/** An IPv4 address as a dotted quad or a big-endian u32. */
export type Ipv4 = string | number;
function ip(a: Ipv4 | undefined): number {
  if (a === undefined) return 0;
  return typeof a === 'number' ? a >>> 0 : ipv4FromString(a);
}

/** DBR data given to the builders of messages that carry values. */
export interface DataFields {
  /** Values (numbers, strings for string types). Omit for a zero-filled payload (failed replies). */
  data?: readonly Value[];
  data_type: number;
  /** Header count; defaults to `data.length` (1 when there is no data). */
  data_count?: number;
  metadata?: DbrMetadata;
}

function dataPayload(f: DataFields): { payload: Uint8Array; count: number } {
  const count = f.data_count ?? f.data?.length ?? 1;
  if (f.data !== undefined) return { payload: encodeDbr(f.data_type, f.data, f.metadata), count };
  const size = (dbrValueOffset(f.data_type) ?? 0) + Math.max(0, count) * (dbrElementSize(f.data_type) ?? 0);
  return { payload: new Uint8Array(alignedSize(size)), count };
}

function headerOnly(command: number, dataType = 0, dataCount = 0, p1 = 0, p2 = 0, ext?: boolean): Uint8Array {
  return encodeMessage(
    { command, dataType, dataCount, parameter1: p1, parameter2: p2 },
    undefined,
    ext === undefined ? undefined : { extended: ext },
  );
}

/** The original request of an ERROR: its header bytes (16 or 24; a longer message is cut to its header). */
export type ErrorOriginal = Uint8Array | MessageFields;

function originalHeader(original: ErrorOriginal): Uint8Array {
  if (original instanceof Uint8Array) {
    const hs =
      original.length >= 4 && ((original[2] << 8) | original[3]) === EXTENDED_MARKER
        ? EXTENDED_HEADER_SIZE
        : HEADER_SIZE;
    return original.subarray(0, Math.min(hs, original.length));
  }
  const m = encodeMessage(original);
  return m.subarray(
    0,
    m.length >= EXTENDED_HEADER_SIZE && m[2] === 0xff && m[3] === 0xff ? EXTENDED_HEADER_SIZE : HEADER_SIZE,
  );
}

/**
 * Typed builders, one per command and direction, returning the encoded message. Field names are
 * caproto's. `extended` on header-only replies forces the 24-byte header (as EPICS does for counts ≥ 0xFFFF).
 */
export const build = {
  /** TCP VERSION C→S (priority, minor). With `sequence`: the UDP form (`dt` = 1 flag, `p1` = sequence). */
  versionRequest(f: { priority?: number; version?: number; sequence?: number } = {}): Uint8Array {
    return f.sequence === undefined
      ? headerOnly(Command.VERSION, f.priority ?? 0, f.version ?? CA_MINOR_VERSION)
      : headerOnly(Command.VERSION, 1, f.version ?? CA_MINOR_VERSION, f.sequence);
  },
  /**
   * VERSION S→C. Default RSRV TCP shape (`dt = p1 = 0`); `sequence` gives the UDP form (`dt` = 1, `p1` =
   * echoed sequence); `caproto: true` gives caproto's TCP shape (`dt = 1, p1 = 1`).
   */
  versionResponse(f: { version?: number; sequence?: number; caproto?: boolean } = {}): Uint8Array {
    const version = f.version ?? CA_MINOR_VERSION;
    if (f.sequence !== undefined) return headerOnly(Command.VERSION, 1, version, f.sequence);
    return f.caproto ? headerOnly(Command.VERSION, 1, version, 1) : headerOnly(Command.VERSION, 0, version);
  },
  /** SEARCH request: name payload, `dt` = reply flag (default DONT_REPLY), `p1 = p2 = cid`. */
  searchRequest(f: { name: string; cid: number; version?: number; reply?: number }): Uint8Array {
    return encodeMessage(
      {
        command: Command.SEARCH,
        dataType: f.reply ?? SearchReply.DONT_REPLY,
        dataCount: f.version ?? CA_MINOR_VERSION,
        parameter1: f.cid,
        parameter2: f.cid,
      },
      encodeString(f.name),
    );
  },
  /**
   * SEARCH reply: `dt` = TCP port, `p1` = server IPv4 (default 0xFFFFFFFF = "use the source address"),
   * `p2` = cid, payload = u16 minor + pad. `tcp: true` gives the payload-less TCP (4.12+) form.
   */
  searchResponse(f: { port?: number; ip?: Ipv4; cid: number; version?: number; tcp?: boolean }): Uint8Array {
    const header = {
      command: Command.SEARCH,
      dataType: f.port ?? 5064,
      dataCount: 0,
      parameter1: f.ip === undefined ? SEARCH_ADDRESS_USE_SOURCE : ip(f.ip),
      parameter2: f.cid,
    };
    if (f.tcp) return encodeMessage(header);
    const payload = new Uint8Array(SearchReplyPayload.SIZE);
    new DataView(payload.buffer).setUint16(SearchReplyPayload.VERSION, f.version ?? CA_MINOR_VERSION);
    return encodeMessage(header, payload);
  },
  /** NOT_FOUND: copy of the request header without payload (`dt` = reply flag, `p1 = p2 = cid`). */
  notFoundResponse(f: { reply?: number; version?: number; cid: number }): Uint8Array {
    return headerOnly(Command.NOT_FOUND, f.reply ?? SearchReply.DO_REPLY, f.version ?? CA_MINOR_VERSION, f.cid, f.cid);
  },
  /** RSRV_IS_UP: `dt` = minor, `dc` = TCP port, `p1` = beacon counter, `p2` = address (0 = use source). */
  beacon(f: { version?: number; server_port?: number; beacon_id?: number; address?: Ipv4 }): Uint8Array {
    return headerOnly(
      Command.RSRV_IS_UP,
      f.version ?? CA_MINOR_VERSION,
      f.server_port ?? 5064,
      f.beacon_id ?? 0,
      ip(f.address),
    );
  },
  /** REPEATER_REGISTER (the 16-byte form; libca usually sends an empty datagram instead). */
  repeaterRegisterRequest(f: { client_address?: Ipv4 } = {}): Uint8Array {
    return headerOnly(Command.REPEATER_REGISTER, 0, 0, 0, ip(f.client_address));
  },
  /** REPEATER_CONFIRM: `p2` = client address as seen by the repeater. */
  repeaterConfirmResponse(f: { repeater_address?: Ipv4 } = {}): Uint8Array {
    return headerOnly(Command.REPEATER_CONFIRM, 0, 0, 0, ip(f.repeater_address));
  },
  /** EVENT_ADD request with the 16-byte payload (low/high/to deprecated, mask). */
  eventAddRequest(f: {
    data_type: number;
    data_count?: number;
    sid: number;
    subscriptionid: number;
    low?: number;
    high?: number;
    to?: number;
    mask?: number;
  }): Uint8Array {
    const payload = new Uint8Array(EventAddPayload.SIZE);
    const v = new DataView(payload.buffer);
    v.setFloat32(EventAddPayload.LOW, f.low ?? 0);
    v.setFloat32(EventAddPayload.HIGH, f.high ?? 0);
    v.setFloat32(EventAddPayload.TO, f.to ?? 0);
    v.setUint16(EventAddPayload.MASK, f.mask ?? EventMask.DBE_VALUE | EventMask.DBE_ALARM);
    return encodeMessage(
      {
        command: Command.EVENT_ADD,
        dataType: f.data_type,
        dataCount: f.data_count ?? 1,
        parameter1: f.sid,
        parameter2: f.subscriptionid,
      },
      payload,
    );
  },
  /** EVENT_ADD update S→C: `p1` = status (default ECA_NORMAL), `p2` = subscription id. */
  eventAddResponse(f: DataFields & { status?: number; subscriptionid: number }): Uint8Array {
    const { payload, count } = dataPayload(f);
    return encodeMessage(
      {
        command: Command.EVENT_ADD,
        dataType: f.data_type,
        dataCount: count,
        parameter1: f.status ?? ECA_NORMAL,
        parameter2: f.subscriptionid,
      },
      payload,
    );
  },
  /** EVENT_CANCEL C→S (ID 2). */
  eventCancelRequest(f: { data_type: number; data_count?: number; sid: number; subscriptionid: number }): Uint8Array {
    return headerOnly(Command.EVENT_CANCEL, f.data_type, f.data_count ?? 0, f.sid, f.subscriptionid);
  },
  /** Cancel confirmation S→C: ID 1, `ps = 0`, `p1` = sid (RSRV keeps the EVENT_ADD count in `dc`). */
  eventCancelResponse(f: {
    data_type: number;
    data_count?: number;
    sid: number;
    subscriptionid: number;
    extended?: boolean;
  }): Uint8Array {
    return headerOnly(Command.EVENT_ADD, f.data_type, f.data_count ?? 0, f.sid, f.subscriptionid, f.extended);
  },
  /** READ (obsolete) request. */
  readRequest(f: { data_type: number; data_count?: number; sid: number; ioid: number }): Uint8Array {
    return headerOnly(Command.READ, f.data_type, f.data_count ?? 1, f.sid, f.ioid);
  },
  /** READ (obsolete) reply; RSRV puts the CID in `p1` (caproto calls it `sid`). */
  readResponse(f: DataFields & { sid: number; ioid: number }): Uint8Array {
    const { payload, count } = dataPayload(f);
    return encodeMessage(
      { command: Command.READ, dataType: f.data_type, dataCount: count, parameter1: f.sid, parameter2: f.ioid },
      payload,
    );
  },
  /** WRITE C→S; libca puts the CID in `p2` (caproto: `ioid`). */
  writeRequest(f: DataFields & { sid: number; ioid: number }): Uint8Array {
    const { payload, count } = dataPayload(f);
    return encodeMessage(
      { command: Command.WRITE, dataType: f.data_type, dataCount: count, parameter1: f.sid, parameter2: f.ioid },
      payload,
    );
  },
  eventsOffRequest(): Uint8Array {
    return headerOnly(Command.EVENTS_OFF);
  },
  eventsOnRequest(): Uint8Array {
    return headerOnly(Command.EVENTS_ON);
  },
  readSyncRequest(): Uint8Array {
    return headerOnly(Command.READ_SYNC);
  },
  /** RSRV's echo of READ_SYNC. */
  readSyncResponse(): Uint8Array {
    return headerOnly(Command.READ_SYNC);
  },
  /** ERROR with caproto's field names: the original request's header, `p1` = cid, `p2` = status. */
  errorResponse(f: {
    original_request: ErrorOriginal;
    cid: number;
    status_code: number;
    error_message: string;
  }): Uint8Array {
    const hdr = originalHeader(f.original_request);
    const text = textEncoder.encode(f.error_message);
    const payload = new Uint8Array(hdr.length + text.length + 1);
    payload.set(hdr);
    payload.set(text, hdr.length);
    return encodeMessage({ command: Command.ERROR, parameter1: f.cid, parameter2: f.status_code }, payload);
  },
  /** Shorthand of {@link build.errorResponse}. */
  error(f: { original: ErrorOriginal; cid: number; status: number; message: string }): Uint8Array {
    return build.errorResponse({
      original_request: f.original,
      cid: f.cid,
      status_code: f.status,
      error_message: f.message,
    });
  },
  clearChannelRequest(f: { sid: number; cid: number }): Uint8Array {
    return headerOnly(Command.CLEAR_CHANNEL, 0, 0, f.sid, f.cid);
  },
  clearChannelResponse(f: { sid: number; cid: number }): Uint8Array {
    return headerOnly(Command.CLEAR_CHANNEL, 0, 0, f.sid, f.cid);
  },
  readNotifyRequest(f: { data_type: number; data_count?: number; sid: number; ioid: number }): Uint8Array {
    return headerOnly(Command.READ_NOTIFY, f.data_type, f.data_count ?? 1, f.sid, f.ioid);
  },
  /** READ_NOTIFY reply: `p1` = status (default ECA_NORMAL), `p2` = ioid; no `data` ⇒ zero-filled. */
  readNotifyResponse(f: DataFields & { status?: number; ioid: number }): Uint8Array {
    const { payload, count } = dataPayload(f);
    return encodeMessage(
      {
        command: Command.READ_NOTIFY,
        dataType: f.data_type,
        dataCount: count,
        parameter1: f.status ?? ECA_NORMAL,
        parameter2: f.ioid,
      },
      payload,
    );
  },
  /** CREATE_CHAN request: name payload, `p1` = cid, `p2` = client minor. */
  createChanRequest(f: { name: string; cid: number; version?: number }): Uint8Array {
    return encodeMessage(
      { command: Command.CREATE_CHAN, parameter1: f.cid, parameter2: f.version ?? CA_MINOR_VERSION },
      encodeString(f.name),
    );
  },
  /** CREATE_CHAN reply: native type and count, `p1` = cid, `p2` = sid. */
  createChanResponse(f: { data_type: number; data_count: number; cid: number; sid: number }): Uint8Array {
    return headerOnly(Command.CREATE_CHAN, f.data_type, f.data_count, f.cid, f.sid);
  },
  writeNotifyRequest(f: DataFields & { sid: number; ioid: number }): Uint8Array {
    const { payload, count } = dataPayload(f);
    return encodeMessage(
      { command: Command.WRITE_NOTIFY, dataType: f.data_type, dataCount: count, parameter1: f.sid, parameter2: f.ioid },
      payload,
    );
  },
  /** WRITE_NOTIFY reply: `p1` = status, `p2` = ioid; extended header when the count is ≥ 0xFFFF. */
  writeNotifyResponse(f: { data_type: number; data_count?: number; status?: number; ioid: number }): Uint8Array {
    return headerOnly(Command.WRITE_NOTIFY, f.data_type, f.data_count ?? 1, f.status ?? ECA_NORMAL, f.ioid);
  },
  clientNameRequest(f: { name: string }): Uint8Array {
    return encodeMessage({ command: Command.CLIENT_NAME }, encodeString(f.name));
  },
  hostNameRequest(f: { name: string }): Uint8Array {
    return encodeMessage({ command: Command.HOST_NAME }, encodeString(f.name));
  },
  /** ACCESS_RIGHTS: `p1` = cid, `p2` = bits (1 read, 2 write). */
  accessRightsResponse(f: { cid: number; access_rights: number }): Uint8Array {
    return headerOnly(Command.ACCESS_RIGHTS, 0, 0, f.cid, f.access_rights);
  },
  echoRequest(): Uint8Array {
    return headerOnly(Command.ECHO);
  },
  echoResponse(): Uint8Array {
    return headerOnly(Command.ECHO);
  },
  createChFailResponse(f: { cid: number }): Uint8Array {
    return headerOnly(Command.CREATE_CH_FAIL, 0, 0, f.cid);
  },
  serverDisconnResponse(f: { cid: number }): Uint8Array {
    return headerOnly(Command.SERVER_DISCONN, 0, 0, f.cid);
  },
};
