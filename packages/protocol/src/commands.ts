/**
 * Command decoder (reference §3): a deframed {@link CaFrame} plus its role → a {@link CaCommand} named
 * like caproto's classes, with caproto's field names.
 */
import type { CaFrame, DbrMetadata, DecodedCommand, EmbeddedHeader, Role } from './types.js';
import { dbrParts, decodeDbrInto, readCString, type DbrParts, type DecodeDbrOptions } from './dbr.js';
import { payloadBuffer, payloadLength, payloadOffset } from './deframer.js';
import { EXTENDED_HEADER_SIZE, readHeader, u16 } from './header.js';
import { EventAddPayload, SEARCH_ADDRESS_USE_SOURCE, SearchReplyPayload } from './layout.js';
import { commandName, dbrTypeName, ecaName, ecaSeverity, ipv4ToString, AccessRights } from './tables.js';

/** caproto class names: [request, response] per command code ('' where that direction does not exist). */
const CLASS_ROWS: readonly (readonly [string, string])[] = [
  ['VersionRequest', 'VersionResponse'],
  ['EventAddRequest', 'EventAddResponse'],
  ['EventCancelRequest', 'EventCancelResponse'],
  ['ReadRequest', 'ReadResponse'],
  ['WriteRequest', ''],
  ['', ''],
  ['SearchRequest', 'SearchResponse'],
  ['', ''],
  ['EventsOffRequest', ''],
  ['EventsOnRequest', ''],
  ['ReadSyncRequest', 'ReadSyncResponse'],
  ['', 'ErrorResponse'],
  ['ClearChannelRequest', 'ClearChannelResponse'],
  ['', 'Beacon'],
  ['', 'NotFoundResponse'],
  ['ReadNotifyRequest', 'ReadNotifyResponse'],
  ['', ''],
  ['', 'RepeaterConfirmResponse'],
  ['CreateChanRequest', 'CreateChanResponse'],
  ['WriteNotifyRequest', 'WriteNotifyResponse'],
  ['ClientNameRequest', ''],
  ['HostNameRequest', ''],
  ['', 'AccessRightsResponse'],
  ['EchoRequest', 'EchoResponse'],
  ['RepeaterRegisterRequest', ''],
  ['', ''],
  ['', 'CreateChFailResponse'],
  ['', 'ServerDisconnResponse'],
];

/**
 * caproto class name of a command in a direction ('ReadNotifyResponse'); for one-directional commands
 * the existing class whatever the role; `undefined` for obsolete or unknown codes. Beacons are 'Beacon'.
 */
export function commandClassName(id: number, role: Role): string | undefined {
  const row = CLASS_ROWS[id];
  if (row === undefined) return undefined;
  const name = role === 'request' ? row[0] || row[1] : row[1] || row[0];
  return name || undefined;
}

/** Options of {@link decodeCommand}. */
export interface DecodeCommandOptions extends DecodeDbrOptions {
  /**
   * The message came in a UDP datagram: VERSION then carries a flag in `dt` and a sequence number in
   * `p1` (fields `flag`, `sequence`) instead of a priority.
   */
  udp?: boolean;
  /** Skip DBR payload decoding (`data`/`metadata` absent): for counting and routing at full speed. */
  skipData?: boolean;
  /**
   * A payload-less ID-1 message from the server is an EventCancelResponse (caproto's reading) unless
   * this is set, e.g. because the subscription was not cancelled: then it is an empty 4.13 update.
   */
  emptyEventIsUpdate?: boolean;
}

function dataTypeName(dt: number): string {
  return dbrTypeName(dt) ?? String(dt);
}

/** The ERROR payload's embedded header: now declared with the commands in types.ts. */
export type { EmbeddedHeader };

/**
 * A command while a helper below builds it: the helpers add fields one by one, so the fields are open
 * here. Their typed overloads say which {@link DecodedCommand} each call makes; the command tables in
 * commands.test.ts and the record schema test check that the bodies keep that promise.
 */
interface Draft {
  name: string;
  id: number;
  [field: string]: unknown;
}

/** The decoded command of class `N`. */
type Made<N extends DecodedCommand['name']> = Extract<DecodedCommand, { name: N }>;

/** Class names of the commands that {@link bySid} makes with `ioid` in `p2`. */
type IoidName = 'ReadRequest' | 'ReadNotifyRequest' | 'ReadResponse' | 'WriteRequest' | 'WriteNotifyRequest';
/** Class names of the commands that {@link bySid} makes with `subscriptionid` in `p2`. */
type SubscriptionName = 'EventAddRequest' | 'EventCancelRequest' | 'EventCancelResponse';
/** Class names of the commands that carry a DBR payload after a `sid`. */
type SidDataName = 'ReadResponse' | 'WriteRequest' | 'WriteNotifyRequest';

function attachData(cmd: Draft, frame: CaFrame, options: DecodeCommandOptions | undefined): void {
  if (options?.skipData) return;
  const v = dbrOf(frame, options);
  cmd.data = v.data;
  if (v.metadata !== undefined) cmd.metadata = v.metadata as DbrMetadata;
  extraDataFields(cmd, v);
}

/**
 * The frame's DBR payload, decoded where it lies (no payload view is made for it), into a new
 * {@link DbrParts}. Not one object reused for every payload, as it was (to save its 56 bytes a message):
 * that object was old, so storing each payload's new values and metadata into it cost two write barriers
 * (old-to-new remembered-set entries), and it kept the last payload's arrays alive through every young GC,
 * which copied them and then promoted them to die in old space. Session 17, two warm `shark()` passes
 * over realistic-100mb's first 20 MB under callgrind: 1,009 → 952 M instructions (write barriers
 * 46 → 32 M, marking work about a third less).
 */
function dbrOf(frame: CaFrame, options: DecodeCommandOptions | undefined): DbrParts {
  const start = payloadOffset(frame);
  const end = start + payloadLength(frame);
  const out = dbrParts();
  decodeDbrInto(payloadBuffer(frame), start, end, frame.dataType, frame.dataCount, options, out);
  return out;
}

/** The rarely present DBR fields that follow `data` and `metadata`. */
function extraDataFields(cmd: Draft, v: DbrParts): void {
  if (v.enumLabels !== undefined) cmd.enum_labels = v.enumLabels;
  if (v.problem !== undefined) cmd.data_problem = v.problem;
}

/** A typed command addressed by `sid` in `p1` and a client id (`ioid`, `subscriptionid`) in `p2`. */
function bySid<N extends IoidName>(name: N, id: number, frame: CaFrame, p2Name: 'ioid'): Made<N>;
function bySid<N extends SubscriptionName>(name: N, id: number, frame: CaFrame, p2Name: 'subscriptionid'): Made<N>;
function bySid(name: string, id: number, frame: CaFrame, p2Name: 'ioid' | 'subscriptionid'): Draft;
function bySid(name: string, id: number, frame: CaFrame, p2Name: 'ioid' | 'subscriptionid'): Draft | DecodedCommand {
  // One literal per field set, in the order the generic build would add them: the per-message shape
  // is fixed and needs no property transitions.
  const dt = frame.dataType;
  return p2Name === 'ioid'
    ? {
        name,
        id,
        data_type: dt,
        data_type_name: dataTypeName(dt),
        data_count: frame.dataCount,
        sid: frame.parameter1,
        ioid: frame.parameter2,
      }
    : {
        name,
        id,
        data_type: dt,
        data_type_name: dataTypeName(dt),
        data_count: frame.dataCount,
        sid: frame.parameter1,
        subscriptionid: frame.parameter2,
      };
}

/** {@link bySid} followed by the DBR payload's fields. */
function bySidWithData<N extends SidDataName>(
  name: N,
  id: number,
  frame: CaFrame,
  options: DecodeCommandOptions | undefined,
): Made<N>;
function bySidWithData(
  name: string,
  id: number,
  frame: CaFrame,
  options: DecodeCommandOptions | undefined,
): Draft | DecodedCommand {
  if (options?.skipData) return bySid(name, id, frame, 'ioid');
  const v = dbrOf(frame, options);
  const dt = frame.dataType;
  const dtName = dataTypeName(dt);
  const cmd: Draft =
    v.metadata === undefined
      ? {
          name,
          id,
          data_type: dt,
          data_type_name: dtName,
          data_count: frame.dataCount,
          sid: frame.parameter1,
          ioid: frame.parameter2,
          data: v.data,
        }
      : {
          name,
          id,
          data_type: dt,
          data_type_name: dtName,
          data_count: frame.dataCount,
          sid: frame.parameter1,
          ioid: frame.parameter2,
          data: v.data,
          metadata: v.metadata,
        };
  extraDataFields(cmd, v);
  return cmd;
}

/** A typed reply with an ECA status in `p1` and a client id in `p2`. */
function statusReply<N extends 'WriteNotifyResponse'>(name: N, id: number, frame: CaFrame, p2Name: 'ioid'): Made<N>;
function statusReply(name: string, id: number, frame: CaFrame, p2Name: 'ioid' | 'subscriptionid'): Draft;
function statusReply(
  name: string,
  id: number,
  frame: CaFrame,
  p2Name: 'ioid' | 'subscriptionid',
): Draft | DecodedCommand {
  const status = frame.parameter1;
  if ((status & 1) === 0) return failedStatusReply(name, id, frame, p2Name);
  const dt = frame.dataType;
  const dtName = dataTypeName(dt);
  const statusName = ecaName(status);
  const severity = ecaSeverity(status);
  return p2Name === 'ioid'
    ? {
        name,
        id,
        data_type: dt,
        data_type_name: dtName,
        data_count: frame.dataCount,
        status,
        status_name: statusName,
        severity,
        ioid: frame.parameter2,
      }
    : {
        name,
        id,
        data_type: dt,
        data_type_name: dtName,
        data_count: frame.dataCount,
        status,
        status_name: statusName,
        severity,
        subscriptionid: frame.parameter2,
      };
}

/** {@link statusReply} followed by the DBR payload's fields. */
function statusReplyWithData<N extends 'ReadNotifyResponse'>(
  name: N,
  id: number,
  frame: CaFrame,
  p2Name: 'ioid',
  options: DecodeCommandOptions | undefined,
): Made<N>;
function statusReplyWithData<N extends 'EventAddResponse'>(
  name: N,
  id: number,
  frame: CaFrame,
  p2Name: 'subscriptionid',
  options: DecodeCommandOptions | undefined,
): Made<N>;
function statusReplyWithData(
  name: string,
  id: number,
  frame: CaFrame,
  p2Name: 'ioid' | 'subscriptionid',
  options: DecodeCommandOptions | undefined,
): Draft | DecodedCommand {
  const status = frame.parameter1;
  if ((status & 1) === 0 || options?.skipData) {
    const cmd = statusReply(name, id, frame, p2Name);
    attachData(cmd, frame, options);
    return cmd;
  }
  const v = dbrOf(frame, options);
  const dt = frame.dataType;
  const dtName = dataTypeName(dt);
  const statusName = ecaName(status);
  const severity = ecaSeverity(status);
  const dc = frame.dataCount;
  const p2 = frame.parameter2;
  const data = v.data;
  const metadata = v.metadata;
  let cmd: Draft;
  if (p2Name === 'ioid') {
    cmd =
      metadata === undefined
        ? {
            name,
            id,
            data_type: dt,
            data_type_name: dtName,
            data_count: dc,
            status,
            status_name: statusName,
            severity,
            ioid: p2,
            data,
          }
        : {
            name,
            id,
            data_type: dt,
            data_type_name: dtName,
            data_count: dc,
            status,
            status_name: statusName,
            severity,
            ioid: p2,
            data,
            metadata,
          };
  } else {
    cmd =
      metadata === undefined
        ? {
            name,
            id,
            data_type: dt,
            data_type_name: dtName,
            data_count: dc,
            status,
            status_name: statusName,
            severity,
            subscriptionid: p2,
            data,
          }
        : {
            name,
            id,
            data_type: dt,
            data_type_name: dtName,
            data_count: dc,
            status,
            status_name: statusName,
            severity,
            subscriptionid: p2,
            data,
            metadata,
          };
  }
  extraDataFields(cmd, v);
  return cmd;
}

/** The generic build of a status reply, for unsuccessful statuses (which add `failed`). */
function failedStatusReply(name: string, id: number, frame: CaFrame, p2Name: 'ioid' | 'subscriptionid'): Draft {
  const cmd = typed(name, id, frame);
  statusFields(cmd, frame.parameter1);
  cmd[p2Name] = frame.parameter2;
  return cmd;
}

/** A command whose `dt`/`dc` are a DBR type and count (`data_type`, `data_type_name`, `data_count`). */
function typed<N extends 'CreateChanResponse'>(name: N, id: number, frame: CaFrame): Made<N>;
function typed(name: string, id: number, frame: CaFrame): Draft;
function typed(name: string, id: number, frame: CaFrame): Draft | DecodedCommand {
  return {
    name,
    id,
    data_type: frame.dataType,
    data_type_name: dataTypeName(frame.dataType),
    data_count: frame.dataCount,
  };
}

function statusFields(cmd: Draft, status: number): void {
  cmd.status = status;
  cmd.status_name = ecaName(status);
  cmd.severity = ecaSeverity(status);
  // Low bit clear = unsuccessful: a zero-filled payload then means "failed", not zeros (§5.6).
  if ((status & 1) === 0) cmd.failed = true;
}

/**
 * Decodes one frame as a command of the given role (§3). Shared command codes (0, 1, 3, 6, 10, 12, 15,
 * 18, 19, 23) use `role`; one-directional ones decode as their only class whatever `role` says. Never
 * throws: short payloads give undefined fields and a `problem`; unknown/obsolete codes give
 * `{ name: 'Unknown', ... raw header }`.
 *
 * Field notes: `name` is the class name, so caproto's `name` field is `pv` (SearchRequest,
 * CreateChanRequest), `client_name` (ClientNameRequest) and `host_name` (HostNameRequest).
 * WriteRequest's `ioid` is `p2` as caproto names it, but libca puts the CID there (§3.10);
 * ReadResponse's `sid` is `p1`, which RSRV fills with the CID (§3.11); SearchResponse's `ip` is
 * '255.255.255.255' when the server means "use the datagram's source address" (`use_source_address`).
 */
export function decodeCommand(frame: CaFrame, role: Role, options?: DecodeCommandOptions): DecodedCommand {
  const cmd = decodeFrequent(frame, role, options);
  if (frame.truncated) cmd.truncated = true;
  if (frame.headerSize === EXTENDED_HEADER_SIZE) cmd.extended = true;
  return cmd;
}

/**
 * The commands of steady traffic (monitor updates, reads, writes). Apart from {@link decodeOther} on
 * purpose: TurboFan deoptimises a function when a branch it never ran is reached, and a capture meets its
 * rare commands (errors, beacons, ...) late; with them in one big switch, each first sighting recompiled
 * the whole decoder (~125 ms under load, three times a run), while it ran unoptimised.
 */
function decodeFrequent(frame: CaFrame, role: Role, options: DecodeCommandOptions | undefined): DecodedCommand {
  const id = frame.command;
  const req = role === 'request';
  let cmd: DecodedCommand;
  switch (id) {
    case 1:
      if (req) {
        const p = frame.payload;
        if (p.length >= EventAddPayload.SIZE) {
          const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
          cmd = {
            name: 'EventAddRequest',
            id,
            data_type: frame.dataType,
            data_type_name: dataTypeName(frame.dataType),
            data_count: frame.dataCount,
            sid: frame.parameter1,
            subscriptionid: frame.parameter2,
            low: v.getFloat32(EventAddPayload.LOW),
            high: v.getFloat32(EventAddPayload.HIGH),
            to: v.getFloat32(EventAddPayload.TO),
            mask: v.getUint16(EventAddPayload.MASK),
          };
        } else {
          cmd = bySid('EventAddRequest', id, frame, 'subscriptionid');
          cmd.problem = `EVENT_ADD request payload of ${p.length} bytes, expected ${EventAddPayload.SIZE}`;
        }
      } else if (frame.payloadSize === 0 && !options?.emptyEventIsUpdate) {
        cmd = bySid('EventCancelResponse', id, frame, 'subscriptionid');
      } else {
        cmd = statusReplyWithData('EventAddResponse', id, frame, 'subscriptionid', options);
      }
      break;
    case 3:
      cmd = req ? bySid('ReadRequest', id, frame, 'ioid') : bySidWithData('ReadResponse', id, frame, options);
      break;
    case 4:
      cmd = bySidWithData('WriteRequest', id, frame, options);
      break;
    case 15:
      if (req) {
        cmd = bySid('ReadNotifyRequest', id, frame, 'ioid');
      } else {
        cmd = statusReplyWithData('ReadNotifyResponse', id, frame, 'ioid', options);
      }
      break;
    case 19:
      if (req) {
        cmd = bySidWithData('WriteNotifyRequest', id, frame, options);
      } else {
        cmd = statusReply('WriteNotifyResponse', id, frame, 'ioid');
      }
      break;
    default:
      cmd = decodeOther(frame, role, options);
  }
  return cmd;
}

/**
 * The commands of connection set-up and name resolution (searches, beacons, channel creation), frequent
 * at the start of a capture and when an IOC restarts. The rarer ones are in {@link decodeRare}, apart on
 * purpose: they run too seldom for TurboFan to optimise them, so it no longer compiles their builders into
 * this function, which the search storm at the start of a capture makes hot (it took more compile time
 * than any other function of a one-shot shark() run).
 */
function decodeOther(frame: CaFrame, role: Role, options: DecodeCommandOptions | undefined): DecodedCommand {
  const id = frame.command;
  const dt = frame.dataType;
  const dc = frame.dataCount;
  const p1 = frame.parameter1;
  const p2 = frame.parameter2;
  const req = role === 'request';
  let cmd: DecodedCommand;
  switch (id) {
    case 0:
      if (options?.udp) {
        cmd = { name: req ? 'VersionRequest' : 'VersionResponse', id, version: dc, flag: dt, sequence: p1 };
      } else {
        // p1 is reserved on TCP but kept: caproto-shark names a VERSION by it (cli/src/caproto-names.ts).
        cmd = { name: req ? 'VersionRequest' : 'VersionResponse', id, priority: dt, version: dc, parameter1: p1 };
      }
      break;
    case 6:
      if (req) {
        cmd = {
          name: 'SearchRequest',
          id,
          pv: readCString(frame.payload, 0, frame.payload.length),
          cid: p1,
          version: dc,
          reply: dt,
        };
      } else {
        const p = frame.payload;
        cmd = {
          name: 'SearchResponse',
          id,
          port: dt,
          ip: ipv4ToString(p1),
          ip_raw: p1,
          use_source_address: p1 === SEARCH_ADDRESS_USE_SOURCE,
          cid: p2,
          // libca reads the minor only when at least 2 bytes are there; TCP replies have none.
          version: p.length >= SearchReplyPayload.VERSION + 2 ? u16(p, SearchReplyPayload.VERSION) : undefined,
        };
      }
      break;
    case 13:
      cmd = {
        name: 'Beacon',
        id,
        version: dt,
        server_port: dc,
        beacon_id: p1,
        address: ipv4ToString(p2),
        address_raw: p2,
      };
      break;
    case 14:
      cmd = { name: 'NotFoundResponse', id, reply: dt, reply_flag: dt, version: dc, cid: p1 };
      break;
    case 18:
      if (req) {
        cmd = {
          name: 'CreateChanRequest',
          id,
          pv: readCString(frame.payload, 0, frame.payload.length),
          cid: p1,
          version: p2,
        };
      } else {
        cmd = typed('CreateChanResponse', id, frame);
        cmd.cid = p1;
        cmd.sid = p2;
      }
      break;
    case 22:
      cmd = {
        name: 'AccessRightsResponse',
        id,
        cid: p1,
        access_rights: p2,
        read: (p2 & AccessRights.READ) !== 0,
        write: (p2 & AccessRights.WRITE) !== 0,
      };
      break;
    default:
      cmd = decodeRare(frame, role);
  }
  return cmd;
}

/** Every command but those of {@link decodeFrequent} and {@link decodeOther}. */
function decodeRare(frame: CaFrame, role: Role): DecodedCommand {
  const { command: id, parameter1: p1, parameter2: p2 } = frame;
  const req = role === 'request';
  let cmd: DecodedCommand;
  switch (id) {
    case 2:
      cmd = bySid('EventCancelRequest', id, frame, 'subscriptionid');
      break;
    case 8:
      cmd = { name: 'EventsOffRequest', id };
      break;
    case 9:
      cmd = { name: 'EventsOnRequest', id };
      break;
    case 10:
      cmd = { name: req ? 'ReadSyncRequest' : 'ReadSyncResponse', id };
      break;
    case 11: {
      const p = frame.payload;
      const h = readHeader(p, 0);
      let original: EmbeddedHeader | undefined;
      let text = '';
      if (h !== undefined) {
        original = {
          command: h.command,
          command_name: commandName(h.command) ?? String(h.command),
          request_name: commandClassName(h.command, 'request') ?? 'Unknown',
          payload_size: h.payloadSize,
          data_type: h.dataType,
          data_count: h.dataCount,
          parameter1: h.parameter1,
          parameter2: h.parameter2,
          header_size: h.headerSize,
        };
        text = readCString(p, h.headerSize, p.length - h.headerSize);
      }
      cmd = {
        name: 'ErrorResponse',
        id,
        original_request: original,
        cid: p1,
        status_code: p2,
        status_name: ecaName(p2),
        severity: ecaSeverity(p2),
        error_message: text,
      };
      if (original === undefined) cmd.problem = `ERROR payload of ${p.length} bytes has no embedded header`;
      break;
    }
    case 12:
      cmd = { name: req ? 'ClearChannelRequest' : 'ClearChannelResponse', id, sid: p1, cid: p2 };
      break;
    case 17:
      cmd = { name: 'RepeaterConfirmResponse', id, repeater_address: ipv4ToString(p2) };
      break;
    case 20:
      cmd = { name: 'ClientNameRequest', id, client_name: readCString(frame.payload, 0, frame.payload.length) };
      break;
    case 21:
      cmd = { name: 'HostNameRequest', id, host_name: readCString(frame.payload, 0, frame.payload.length) };
      break;
    case 23:
      cmd = { name: req ? 'EchoRequest' : 'EchoResponse', id };
      break;
    case 24:
      cmd = { name: 'RepeaterRegisterRequest', id, client_address: ipv4ToString(p2) };
      break;
    case 26:
      cmd = { name: 'CreateChFailResponse', id, cid: p1 };
      break;
    case 27:
      cmd = { name: 'ServerDisconnResponse', id, cid: p1 };
      break;
    default:
      cmd = {
        name: 'Unknown',
        id,
        command_name: commandName(id) ?? String(id),
        payload_size: frame.payloadSize,
        data_type: frame.dataType,
        data_count: frame.dataCount,
        parameter1: p1,
        parameter2: p2,
      };
  }
  return cmd;
}
