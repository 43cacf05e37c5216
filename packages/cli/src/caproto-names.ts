/**
 * The class caproto-shark prints for a message, and that class's fields, from the decoded command.
 *
 * caproto-shark names a message from its header alone (caproto/sync/shark.py): VERSION by `p1` (0 request,
 * 1 response), CLEAR_CHANNEL and ECHO as "request or response", EVENT_ADD, SEARCH, READ, READ_NOTIFY,
 * WRITE_NOTIFY and CREATE_CHAN by payload size, READ_SYNC always as a request. ca-shark's decoder knows
 * the direction from the circuit and names the command by it (`command.name`, kept in `--json` and in
 * `{command.name}`); the default text prints caproto-shark's class instead, so that the two tools' lines
 * are identical. Where caproto-shark would read the payload as another class's (a 16-byte EVENT_ADD
 * reply's DBR value as a request's deadbands; a SEARCH, CREATE_CHAN, READ, READ_NOTIFY or WRITE_NOTIFY
 * whose payload contradicts its direction), its text cannot be rebuilt from the decoded fields:
 * ca-shark's own class and fields are kept.
 */
import type { CommandFields } from '@ca-shark/protocol';
import { EventAddPayload, EXTENDED_HEADER_SIZE, HEADER_SIZE } from '@ca-shark/protocol';

/**
 * A field value that caproto-shark prints as this text: the `(repr: ...)` of a property that raises when
 * caproto reads it from the header it was given.
 */
export class CaprotoRepr {
  constructor(readonly text: string) {}
}

/** What a SearchResponse without payload (a TCP reply) prints for caproto's `version`, which reads 2 bytes. */
const NO_VERSION = new CaprotoRepr('(repr: Buffer size too small (0 instead of at least 2 bytes))');
/** What caproto's EventAddResponse prints for `data` and `metadata` when the payload is empty. */
const NO_PAYLOAD = new CaprotoRepr('(repr: tuple index out of range)');

/**
 * caproto-shark reads a 16-byte EVENT_ADD with `p1` above this as a request (a reply's `p1` is an ECA
 * status; caproto-shark's bound) and with `p1` up to it as "request or response".
 */
export const CAPROTO_EVENT_ADD_SID_MIN = 60;

/** caproto's VERSION `p1` values: 0 reads as a request, 1 as a response, anything else is not decoded. */
const VERSION_REQUEST_P1 = 0;
const VERSION_RESPONSE_P1 = 1;

/**
 * A command as caproto-shark sees it: its class `name` and fields under the decoder's names (as
 * render.ts's field lists read them); values may be {@link CaprotoRepr}.
 */
export type CaprotoCommand = CommandFields;

/**
 * The payload size in the message's header: the record's `size` less the header. `undefined` when the
 * size is not known (a command rendered on its own).
 */
export function payloadSize(cmd: CommandFields, size: number | undefined): number | undefined {
  if (size === undefined) return undefined;
  return size - (cmd.extended === true ? EXTENDED_HEADER_SIZE : HEADER_SIZE);
}

/** A view with the decoder's fields under another class name (both classes take the same fields). */
function renamed(cmd: CommandFields, name: string): CaprotoCommand {
  return { ...cmd, name };
}

/** A view made of the given fields (the class reads header fields the decoder named otherwise). */
function view(fields: Readonly<Record<string, unknown>>): CaprotoCommand {
  // CaprotoRepr values are no command field's type: render.ts prints them before looking at the type.
  return fields as CaprotoCommand;
}

/**
 * The command as caproto-shark prints it: `cmd` itself when caproto-shark prints the decoder's class with
 * its fields, otherwise a view naming caproto-shark's class with that class's fields. `size` is the
 * record's (header and payload); without it the classes chosen by payload size stay the decoder's.
 */
export function caprotoCommand(cmd: CommandFields, size: number | undefined): CaprotoCommand {
  switch (cmd.name) {
    case 'VersionRequest':
    case 'VersionResponse':
      return versionCommand(cmd);
    case 'ClearChannelRequest':
    case 'ClearChannelResponse':
      return renamed(cmd, 'ClearChannelRequestOrResponse');
    case 'EchoRequest':
    case 'EchoResponse':
      return renamed(cmd, 'EchoRequestOrResponse');
    case 'ReadSyncResponse':
      return renamed(cmd, 'ReadSyncRequest');
    default:
      break;
  }
  const ps = payloadSize(cmd, size);
  if (ps === undefined) return cmd;
  switch (cmd.name) {
    case 'EventAddRequest':
      if (ps === EventAddPayload.SIZE) {
        return (cmd.sid ?? 0) > CAPROTO_EVENT_ADD_SID_MIN ? cmd : renamed(cmd, 'EventAddRequestOrResponse');
      }
      if (ps === 0 && cmd.data_count === 0) return cancelResponse(cmd, cmd.sid);
      return cmd;
    case 'EventAddResponse':
      return ps === 0 && cmd.data_count === 0 ? cancelResponse(cmd, cmd.status) : cmd;
    case 'EventCancelResponse':
      // RSRV's confirmation keeps the subscription's count; caproto-shark then reads an empty update.
      if (cmd.data_count === 0) return cmd;
      return view({
        name: 'EventAddResponse',
        id: cmd.id,
        data: NO_PAYLOAD,
        data_type: cmd.data_type,
        data_count: cmd.data_count,
        status: cmd.sid,
        subscriptionid: cmd.subscriptionid,
        metadata: NO_PAYLOAD,
      });
    case 'ReadResponse':
      return ps === 0 ? headerOnly('ReadRequest', cmd, cmd.sid) : cmd;
    case 'ReadNotifyResponse':
      // A 4.13 server's empty-array reply of a plain type has no payload: caproto-shark reads a request.
      return ps === 0 ? headerOnly('ReadNotifyRequest', cmd, cmd.status) : cmd;
    case 'WriteNotifyRequest':
      return ps === 0
        ? view({
            name: 'WriteNotifyResponse',
            id: cmd.id,
            data_type: cmd.data_type,
            data_count: cmd.data_count,
            status: cmd.sid,
            ioid: cmd.ioid,
          })
        : cmd;
    case 'SearchResponse':
      return ps === 0 && cmd.version === undefined ? view({ ...cmd, version: NO_VERSION }) : cmd;
    default:
      return cmd;
  }
}

/** caproto-shark's VERSION: by `p1` (UDP: the sequence number), with the header's `dt` as the priority. */
function versionCommand(cmd: CommandFields): CaprotoCommand {
  const p1 = cmd.sequence ?? cmd.parameter1;
  const dt = cmd.priority ?? cmd.flag;
  if (p1 === VERSION_REQUEST_P1 && dt !== undefined) {
    return cmd.name === 'VersionRequest' && cmd.priority !== undefined
      ? cmd
      : view({ name: 'VersionRequest', id: cmd.id, priority: dt, version: cmd.version });
  }
  if (p1 === VERSION_RESPONSE_P1) {
    return cmd.name === 'VersionResponse' ? cmd : view({ name: 'VersionResponse', id: cmd.id, version: cmd.version });
  }
  // caproto-shark cannot decode it (and ignores the sender from then on): ca-shark's own name stays.
  return cmd;
}

/** EVENT_ADD's cancel confirmation as caproto-shark reads any payload-less, count-0 EVENT_ADD. */
function cancelResponse(cmd: CommandFields, p1: number | undefined): CaprotoCommand {
  return view({
    name: 'EventCancelResponse',
    id: cmd.id,
    data_type: cmd.data_type,
    sid: p1,
    subscriptionid: cmd.subscriptionid,
    data_count: cmd.data_count,
  });
}

/** A payload-less READ / READ_NOTIFY read as caproto-shark's request: `p1` becomes the `sid`. */
function headerOnly(name: string, cmd: CommandFields, p1: number | undefined): CaprotoCommand {
  return view({ name, id: cmd.id, data_type: cmd.data_type, data_count: cmd.data_count, sid: p1, ioid: cmd.ioid });
}
