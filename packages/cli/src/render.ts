/**
 * Text of the record parts that `{command}`, `{ethernet}`, `{ip}` and `{transport}` print: caproto's
 * `ClassName(field=value, ...)` shape, fields in the order of caproto's constructor signatures.
 */
import type { CommandFields, DbrMetadata } from '@ca-shark/protocol';
import { caprotoCommand, CaprotoRepr } from './caproto-names.js';
import {
  accessRightsRepr,
  numericKindOf,
  writeCaStatus,
  writeChannelType,
  writeDbrData,
  writeDbrMetadata,
  writeMetadataValues,
} from './caproto-repr.js';
import { numpyShown, writeNumpyShown, type NumericKind } from './numpy-repr.js';
import { pyArray, pyRepr, writePyFloat, writePyString } from './pyrepr.js';
import { asString, encoded, type ArrayHoles, type TextBuffer } from './text-buffer.js';

/** The decoded command as the decoder gives it: caproto class `name`, wire `id` and caproto fields. */
export type CommandLike = CommandFields;

/**
 * A field named by the caproto-ordered tables below (caproto's names, some absent from a command): read
 * by name, as the tables are strings.
 */
function fieldValue(cmd: CommandLike, field: string): unknown {
  return (cmd as Readonly<Record<string, unknown>>)[field];
}

/**
 * Field order per class, as caproto's constructors take them. An entry `a|b` prints the first of the
 * alternative field names that the command has, under the first name.
 */
const FIELD_ORDER: Readonly<Record<string, readonly string[]>> = {
  // caproto's priority is the header's data type, which a UDP VERSION uses as a flag (decoded as `flag`).
  VersionRequest: ['priority|flag', 'version'],
  VersionResponse: ['version'],
  SearchRequest: ['name', 'cid', 'version', 'reply'],
  SearchResponse: ['port', 'ip', 'cid', 'version'],
  NotFoundResponse: ['version', 'cid'],
  EchoRequest: [],
  EchoResponse: [],
  EchoRequestOrResponse: [],
  Beacon: ['version', 'server_port', 'beacon_id', 'address'],
  RsrvIsUpResponse: ['version', 'server_port', 'beacon_id', 'address'],
  RepeaterConfirmResponse: ['repeater_address'],
  RepeaterRegisterRequest: ['client_address'],
  EventAddRequest: ['data_type', 'data_count', 'sid', 'subscriptionid', 'low', 'high', 'to', 'mask'],
  EventAddRequestOrResponse: ['data_type', 'data_count', 'sid', 'subscriptionid', 'low', 'high', 'to', 'mask'],
  EventAddResponse: ['data', 'data_type', 'data_count', 'status|status_code', 'subscriptionid', 'metadata'],
  EventCancelRequest: ['data_type', 'sid', 'subscriptionid'],
  EventCancelResponse: ['data_type', 'sid', 'subscriptionid', 'data_count'],
  ReadRequest: ['data_type', 'data_count', 'sid', 'ioid'],
  ReadResponse: ['data', 'data_type', 'data_count', 'sid|cid', 'ioid', 'metadata'],
  WriteRequest: ['data', 'data_type', 'data_count', 'sid', 'ioid|cid', 'metadata'],
  EventsOffRequest: [],
  EventsOnRequest: [],
  ReadSyncRequest: [],
  ReadSyncResponse: [],
  ErrorResponse: ['original_request', 'cid', 'status|status_code', 'error_message|message'],
  ClearChannelRequest: ['sid', 'cid'],
  ClearChannelResponse: ['sid', 'cid'],
  ClearChannelRequestOrResponse: ['sid', 'cid'],
  ReadNotifyRequest: ['data_type', 'data_count', 'sid', 'ioid'],
  ReadNotifyResponse: ['data', 'data_type', 'data_count', 'status', 'ioid', 'metadata'],
  CreateChanRequest: ['name', 'cid', 'version'],
  CreateChanResponse: ['data_type', 'data_count', 'cid', 'sid'],
  WriteNotifyRequest: ['data', 'data_type', 'data_count', 'sid', 'ioid', 'metadata'],
  WriteNotifyResponse: ['data_type', 'data_count', 'status', 'ioid'],
  ClientNameRequest: ['name'],
  HostNameRequest: ['name'],
  AccessRightsResponse: ['cid', 'access_rights'],
  CreateChFailResponse: ['cid'],
  ServerDisconnResponse: ['cid'],
  Malformed: ['reason', 'code', 'length', 'hex|sample'],
};

/** One argument of a class: its alternative field names, and its `name=` text first and after others. */
interface FieldSpec {
  readonly names: readonly string[];
  readonly first: Uint8Array;
  readonly next: Uint8Array;
  /** How its value prints (see {@link fieldKind}). */
  readonly kind: FieldKind;
  /**
   * For a data type or status argument, `name=` and the value's repr as one text, by value: first and
   * after others (these are printed on most lines, and nearly always with one of a few values). Indexed
   * by the value (data types are below 40, ECA codes below 512): an array read, not a `Map` lookup.
   */
  readonly valuesFirst: KeptTexts | null;
  readonly valuesNext: KeptTexts | null;
}
/** Texts kept by small integer value ({@link MAX_KEPT_VALUE} values at most, {@link MAX_KEPT_VALUES} of them). */
interface KeptTexts {
  texts: (Uint8Array | undefined)[];
  size: number;
}
/** Values of one argument whose text is kept with its name (bounds the texts on odd captures). */
const MAX_KEPT_VALUES = 64;
/** Values above this (or not integers) are written in two parts every time. */
const MAX_KEPT_VALUE = 1023;

/** How a field's value prints: decided once per field name, not by comparing names on every line. */
const enum FieldKind {
  Other,
  DataType,
  AccessRights,
  Status,
  Float,
  Data,
  Metadata,
  OriginalRequest,
  /** caproto's `name`, which the decoder keeps under other names (see {@link caprotoField}). */
  Name,
}
const FIELD_KINDS: ReadonlyMap<string, FieldKind> = new Map([
  ['data_type', FieldKind.DataType],
  ['access_rights', FieldKind.AccessRights],
  // Every command with a `status` argument in caproto holds an ECA code there.
  ['status', FieldKind.Status],
  ['low', FieldKind.Float],
  ['high', FieldKind.Float],
  ['to', FieldKind.Float],
  ['data', FieldKind.Data],
  ['metadata', FieldKind.Metadata],
  ['original_request', FieldKind.OriginalRequest],
  ['name', FieldKind.Name],
]);
function fieldKind(field: string): FieldKind {
  return FIELD_KINDS.get(field) ?? FieldKind.Other;
}

/** A class of {@link FIELD_ORDER}: its `ClassName(` and its arguments (one `Map` lookup per line). */
interface ClassSpec {
  readonly opening: Uint8Array;
  readonly fields: readonly FieldSpec[];
  /** Its index in {@link DATA_LAYOUTS}, or -1. */
  readonly layout: number;
  /** Which fields are its layout's third and fourth arguments. */
  readonly reader: LayoutReader;
}

/**
 * The classes whose arguments start `data, data_type, data_count` and two integers (the status or sid,
 * and the client's id), then `metadata`: the replies and writes that carry a value, most lines of a
 * capture; and those whose arguments are `data_type, data_count` and two such integers alone (read
 * requests, write replies, channel creation replies). On two threads the text of these arguments is
 * written by the other thread (split.ts) from a few numbers: {@link writeDataLayout}.
 */
export interface DataLayout {
  /** `ClassName(data=`, or `ClassName(data_type=` for a layout without data. */
  readonly opening: Uint8Array;
  /** Whether its first argument is `data`. */
  readonly data: boolean;
  readonly dataType: FieldSpec;
  readonly dataCount: FieldSpec;
  readonly third: FieldSpec;
  readonly fourth: FieldSpec;
  /** `, metadata=None`, which a layout with data also writes when there is no metadata ({@link METADATA_NONE}). */
  readonly metadataNone: Uint8Array | null;
  /** `, metadata=`, before a structure that a layout with data writes too ({@link METADATA_STRUCT}). */
  readonly metadataNext: Uint8Array | null;
}
/**
 * Added to a layout's index in a hole: the hole ends with `, metadata=None` too (the sixth argument of a
 * layout with data, null or absent on most lines).
 */
export const METADATA_NONE = 1 << 16;
/**
 * Added to a layout's index in a hole: the hole ends with `, metadata=` and the command's metadata
 * structure, from the numbers after the layout's four (caproto-repr's `metadataValues`): TIME, STS, GR and
 * CTRL structures, not those with enum strings or STSACK's fields (those the main thread writes).
 */
export const METADATA_STRUCT = 1 << 17;
/** A hole's layout index without {@link METADATA_NONE} and {@link METADATA_STRUCT}. */
const LAYOUT_INDEX = METADATA_NONE - 1;
/** The arguments a {@link DataLayout} with data writes... */
const DATA_LAYOUT_FIELDS = 5;
/** ...and one without. */
const NUMBERS_LAYOUT_FIELDS = 4;
/** How the main thread reads a layout's third and fourth arguments: by name, one load per shape. */
const enum LayoutReader {
  None,
  StatusSubscription,
  StatusIoid,
  SidIoid,
  CidSid,
}
const LAYOUT_READERS: Readonly<Record<string, LayoutReader>> = {
  'status|status_code,subscriptionid': LayoutReader.StatusSubscription,
  'status,ioid': LayoutReader.StatusIoid,
  'sid|cid,ioid': LayoutReader.SidIoid,
  'sid,ioid|cid': LayoutReader.SidIoid,
  'sid,ioid': LayoutReader.SidIoid,
  'cid,sid': LayoutReader.CidSid,
};

/** The {@link DataLayout} of each class that has one, in {@link FIELD_ORDER}'s order (both threads build the same). */
export const DATA_LAYOUTS: DataLayout[] = [];

function fieldSpec(spec: string): FieldSpec {
  const names = spec.split('|');
  const kind = fieldKind(names[0]);
  const kept = kind === FieldKind.DataType || kind === FieldKind.Status;
  return {
    names,
    first: encoded(names[0] + '='),
    next: encoded(', ' + names[0] + '='),
    kind,
    valuesFirst: kept ? { texts: [], size: 0 } : null,
    valuesNext: kept ? { texts: [], size: 0 } : null,
  };
}

function classSpec(cls: string, order: readonly string[]): ClassSpec {
  const fields = order.map(fieldSpec);
  const data =
    order.length === DATA_LAYOUT_FIELDS + 1 && order[0] === 'data' && order[DATA_LAYOUT_FIELDS] === 'metadata';
  const numbers = order.length === NUMBERS_LAYOUT_FIELDS;
  const at = data ? 1 : 0;
  const reader =
    (data || numbers) && order[at] === 'data_type' && order[at + 1] === 'data_count'
      ? (LAYOUT_READERS[order[at + 2] + ',' + order[at + 3]] ?? LayoutReader.None)
      : LayoutReader.None;
  let layout = -1;
  if (reader !== LayoutReader.None) {
    layout = DATA_LAYOUTS.length;
    DATA_LAYOUTS.push({
      opening: encoded(cls + (data ? '(data=' : '(data_type=')),
      data,
      dataType: fields[at],
      dataCount: fields[at + 1],
      third: fields[at + 2],
      fourth: fields[at + 3],
      metadataNone: data ? encoded(', ' + order[DATA_LAYOUT_FIELDS] + '=None') : null,
      metadataNext: data ? fields[DATA_LAYOUT_FIELDS].next : null,
    });
  }
  return { opening: encoded(cls + '('), fields, layout, reader };
}

/** {@link FIELD_ORDER} split once. */
const CLASS_SPECS: ReadonlyMap<string, ClassSpec> = new Map(
  Object.entries(FIELD_ORDER).map(([cls, order]) => [cls, classSpec(cls, order)]),
);
const PV_FIRST = encoded('pv=');
const PV_NEXT = encoded(', pv=');
const NONE = encoded('None');

/** Fields never printed as arguments: identity and the decoder's helper names of other fields. */
const HIDDEN_FIELDS = new Set([
  'name',
  'id',
  'pv',
  'host_name',
  'client_name',
  'severity',
  'data_type_name',
  'status_name',
  'status_severity',
  'access_rights_name',
]);
/** Commands whose caproto `name` argument is the PV name (the decoder's `name` is the class name). */
const PV_NAME_COMMANDS = new Set(['SearchRequest', 'CreateChanRequest']);

/**
 * The value of caproto's field `field` on a decoded command. caproto's `name` field clashes with the
 * class `name`, so the decoder stores it as `pv` (SearchRequest, CreateChanRequest), `host_name`
 * (HostNameRequest) or `client_name` (ClientNameRequest); this maps it back. A PV name the decoder did
 * not keep falls back to the record's `pv`.
 */
export function caprotoField(cmd: CommandLike, field: string, pv: string | null | undefined): unknown {
  if (field === 'name') {
    if (PV_NAME_COMMANDS.has(cmd.name)) return cmd.pv ?? pv ?? undefined;
    if (cmd.name === 'HostNameRequest') return cmd.host_name;
    if (cmd.name === 'ClientNameRequest') return cmd.client_name;
    return undefined;
  }
  return fieldValue(cmd, field);
}

/** The host or user name carried by a HostNameRequest / ClientNameRequest, or null. */
export function textName(cmd: CommandLike): string | null {
  const v = caprotoField(cmd, 'name', null);
  return typeof v === 'string' ? v : null;
}

/**
 * caproto-style repr of a command, e.g. `SearchRequest(name='rpi:color', cid=24593, version=13, reply=5)`,
 * with `pv='...'` appended for messages about a PV whose fields do not already name it. The class is the
 * one caproto-shark prints (caproto-names.ts), chosen by payload size too when the record's `size` is given.
 */
export function renderCommand(decoded: CommandLike, pv: string | null | undefined, size?: number): string {
  return asString((out) => writeCommand(out, decoded, pv, size));
}

/**
 * {@link renderCommand} under the command's own `name`: for the decoder's command, its direction-resolved
 * class (`{decoded}`, `--decoder-names`) rather than caproto-shark's.
 */
export function renderCommandClass(cmd: CommandLike, pv: string | null | undefined): string {
  return asString((out) => writeCommandClass(out, cmd, pv));
}

/** {@link renderCommand}, written into `out` (the default line's path: no string per part). */
export function writeCommand(
  out: TextBuffer,
  decoded: CommandLike,
  pv: string | null | undefined,
  size?: number,
): void {
  writeCommandClass(out, caprotoCommand(decoded, size), pv);
}

/** {@link renderCommandClass}, written into `out`. */
function writeCommandClass(out: TextBuffer, cmd: CommandLike, pv: string | null | undefined): void {
  const cls = CLASS_SPECS.get(cmd.name);
  const specs = cls?.fields;
  let first = true;
  let from = 0;
  const holes = out.holes;
  if (cls === undefined) {
    out.text(cmd.name);
    out.byte(OPEN_PAREN);
  } else if (cls.layout >= 0 && holes !== null && (from = dataLayoutHole(out, holes, cls, cmd)) > 0) {
    first = false;
  } else out.raw(cls.opening);
  let namesPv = false;
  if (specs !== undefined) {
    for (let i = from; i < specs.length; i++) {
      const spec = specs[i];
      const alternatives = spec.names;
      const kind = spec.kind;
      let value: unknown;
      for (let j = 0; j < alternatives.length; j++) {
        value = kind === FieldKind.Name ? caprotoField(cmd, alternatives[j], pv) : fieldValue(cmd, alternatives[j]);
        if (value !== undefined) break;
      }
      if (value === undefined && !(kind === FieldKind.Metadata && 'data' in cmd)) continue;
      if (kind === FieldKind.Name && value === pv) namesPv = true;
      const values = first ? spec.valuesFirst : spec.valuesNext;
      if (values !== null && typeof value === 'number') {
        const text =
          (value >= 0 && value <= MAX_KEPT_VALUE ? values.texts[value] : undefined) ??
          keepValueText(values, first ? spec.first : spec.next, kind, value, cmd);
        if (text !== null) {
          out.raw(text);
          first = false;
          continue;
        }
      }
      out.raw(first ? spec.first : spec.next);
      writeField(out, kind, value, cmd);
      first = false;
    }
  } else {
    for (const k in cmd) {
      const v = fieldValue(cmd, k);
      if (HIDDEN_FIELDS.has(k) || v === undefined) continue;
      out.text(first ? k + '=' : ', ' + k + '=');
      writeField(out, fieldKind(k), v, cmd);
      first = false;
    }
  }
  if (typeof pv === 'string' && !namesPv) {
    out.raw(first ? PV_FIRST : PV_NEXT);
    writePyString(out, pv);
  }
  out.byte(CLOSE_PAREN);
}
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/**
 * Leaves the arguments of `cmd` that its {@link DataLayout} covers (and its `ClassName(`) as a hole for the
 * other thread, when they are what {@link writeDataLayout} writes: a numeric payload of at least
 * `holes.minItems` items (what writeField would leave as a hole anyway), a data type, and integers where
 * writeField writes an integer's digits; and `metadata=None` after them when there is no metadata, or the
 * metadata structure when numbers carry it (see {@link METADATA_STRUCT}). Returns the number of arguments
 * left to the other thread: 0 (nothing written) otherwise, or when the batch is full.
 */
function dataLayoutHole(out: TextBuffer, holes: ArrayHoles, cls: ClassSpec, cmd: CommandLike): number {
  const dataType = cmd.data_type;
  const dataCount = cmd.data_count;
  if (typeof dataType !== 'number' || !Number.isSafeInteger(dataCount)) return 0;
  let third: unknown;
  let fourth: unknown;
  const reader = cls.reader;
  if (reader === LayoutReader.StatusSubscription) {
    third = cmd.status;
    fourth = cmd.subscriptionid;
  } else if (reader === LayoutReader.StatusIoid) {
    third = cmd.status;
    fourth = cmd.ioid;
  } else if (reader === LayoutReader.SidIoid) {
    third = cmd.sid;
    fourth = cmd.ioid;
  } else {
    third = cmd.cid;
    fourth = cmd.sid;
  }
  // A status of any number prints as writeCaStatus writes it; a sid and the ids as integers only.
  if (typeof third !== 'number' || !Number.isSafeInteger(fourth)) return 0;
  if (reader !== LayoutReader.StatusSubscription && reader !== LayoutReader.StatusIoid && !Number.isSafeInteger(third))
    return 0;
  const count = dataCount as number;
  const id = fourth as number;
  if (!DATA_LAYOUTS[cls.layout].data) {
    return holes.addData(out.length, NO_ITEMS, 0, 'f64', cls.layout, dataType, count, third, id)
      ? NUMBERS_LAYOUT_FIELDS
      : 0;
  }
  const data = cmd.data;
  if (!Array.isArray(data) && !ArrayBuffer.isView(data)) return 0;
  const kind = numericKindOf(dataType);
  if (kind === undefined) return 0;
  const items = data as ArrayLike<number>;
  const n = items.length;
  if (n < holes.minItems) return 0;
  const shown = numpyShown(items);
  const at = out.length;
  // writeField prints both as None (the command has `data`, so an absent one is printed too).
  const metadata = cmd.metadata;
  if (metadata === null || metadata === undefined) {
    return holes.addData(at, shown, n, kind, cls.layout + METADATA_NONE, dataType, count, third, id)
      ? DATA_LAYOUT_FIELDS + 1
      : 0;
  }
  // A structure writeField would print with writeDbrMetadata goes into the hole too, when numbers carry it.
  if (
    typeof metadata === 'object' &&
    !(metadata instanceof CaprotoRepr) &&
    holes.addData(at, shown, n, kind, cls.layout + METADATA_STRUCT, dataType, count, third, id, metadata as DbrMetadata)
  )
    return DATA_LAYOUT_FIELDS + 1;
  return holes.addData(at, shown, n, kind, cls.layout, dataType, count, third, id) ? DATA_LAYOUT_FIELDS : 0;
}
const NO_ITEMS = new Float64Array(0);

/**
 * The text of a {@link DataLayout} hole (`layout` is its index, plus {@link METADATA_NONE} when it ends with
 * `metadata=None` or {@link METADATA_STRUCT} with a structure): what the main thread's
 * {@link writeCommandClass} writes for the arguments the layout covers, with the same constant texts and
 * writers (see {@link keepValueText}). Its numbers are `values[at]` on: the data type, count, third and
 * fourth argument, then the structure's; returns how many it read.
 */
export function writeDataLayout(
  out: TextBuffer,
  layout: number,
  shown: ArrayLike<number>,
  n: number,
  kind: NumericKind,
  values: Float64Array,
  at: number,
): number {
  const dataType = values[at];
  const dataCount = values[at + 1];
  const third = values[at + 2];
  const fourth = values[at + 3];
  const l = DATA_LAYOUTS[layout & LAYOUT_INDEX];
  out.raw(l.opening);
  if (l.data) {
    writeNumpyShown(out, shown, n, kind);
    out.raw(l.dataType.next);
  }
  writeChannelType(out, dataType);
  out.raw(l.dataCount.next);
  out.int(dataCount);
  out.raw(l.third.next);
  if (l.third.kind === FieldKind.Status) writeCaStatus(out, third);
  else out.int(third);
  out.raw(l.fourth.next);
  out.int(fourth);
  if ((layout & METADATA_NONE) !== 0 && l.metadataNone !== null) out.raw(l.metadataNone);
  else if ((layout & METADATA_STRUCT) !== 0 && l.metadataNext !== null) {
    out.raw(l.metadataNext);
    return LAYOUT_NUMBERS + writeMetadataValues(out, values, at + LAYOUT_NUMBERS, dataType);
  }
  return LAYOUT_NUMBERS;
}
/** The numbers of a layout's hole before its structure's: data type, count, third and fourth argument. */
export const LAYOUT_NUMBERS = 4;

/**
 * `name=` and the repr of `value` as one text, kept in `values` for the next lines; null (the caller
 * writes the two parts) once `values` holds {@link MAX_KEPT_VALUES} values.
 */
function keepValueText(
  values: KeptTexts,
  name: Uint8Array,
  kind: FieldKind,
  value: number,
  cmd: CommandLike,
): Uint8Array | null {
  if (values.size >= MAX_KEPT_VALUES || !Number.isInteger(value) || value < 0 || value > MAX_KEPT_VALUE) return null;
  const text = asString((out) => {
    out.raw(name);
    writeField(out, kind, value, cmd);
  });
  const bytes = encoded(text);
  values.texts[value] = bytes;
  values.size++;
  return bytes;
}

/** DBR types whose values caproto prints as floats. */
function isFloatType(typeName: unknown): boolean {
  return typeof typeName === 'string' && (typeName.endsWith('DOUBLE') || typeName.endsWith('FLOAT'));
}

/**
 * One `field=value` value, as caproto's repr of the field's Python value: enums as `<ChannelType.X: n>`,
 * statuses as `CAStatusCode(...)`, payloads as numpy arrays, metadata as caproto's DBR structure.
 */
function writeField(out: TextBuffer, kind: FieldKind, value: unknown, cmd: CommandLike): void {
  if (value instanceof CaprotoRepr) return out.text(value.text);
  if (typeof value === 'number') {
    if (kind === FieldKind.DataType) return writeChannelType(out, value);
    if (kind === FieldKind.AccessRights) return out.text(accessRightsRepr(value));
    if (kind === FieldKind.Status) return writeCaStatus(out, value);
    if (kind === FieldKind.Float) return writePyFloat(out, value);
    // Most arguments are ids and counts: their digits are written as they are.
    if (kind !== FieldKind.Data && kind !== FieldKind.Metadata && Number.isSafeInteger(value)) return out.int(value);
  }
  const dataType = cmd.data_type;
  if (kind === FieldKind.Data) {
    if (typeof dataType === 'number' && (Array.isArray(value) || ArrayBuffer.isView(value))) {
      if (writeDbrData(out, value as ArrayLike<unknown>, dataType)) return;
    }
    const floats = isFloatType(cmd.data_type_name);
    // Typed arrays (numeric payloads may be decoded into them) print as lists, a Uint8Array included.
    if (Array.isArray(value) || ArrayBuffer.isView(value))
      return out.text(pyArray(value as ArrayLike<unknown>, floats));
    return out.text(pyRepr(value, floats ? FLOATS : INTEGERS));
  }
  if (kind === FieldKind.Metadata) {
    if (value === null || value === undefined || typeof value !== 'object') return out.raw(NONE);
    if (typeof dataType === 'number') return writeDbrMetadata(out, value as DbrMetadata, dataType);
  }
  if (kind === FieldKind.OriginalRequest && value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['name'] === 'string') return writeCommand(out, o as CommandLike, undefined);
    // The decoder gives the failed request's header: print it as that request's class with its header fields.
    if (typeof o['request_name'] === 'string') {
      const fields = ['data_type', 'data_count', 'parameter1', 'parameter2'].filter((k) => o[k] !== undefined);
      return out.text(`${o['request_name']}(${fields.map((k) => `${k}=${pyRepr(o[k])}`).join(', ')})`);
    }
  }
  // A string's repr is pyRepr's, written without building it (addresses, PV and host names).
  if (typeof value === 'string') return writePyString(out, value);
  out.text(pyRepr(value));
}

const FLOATS = { floats: true };
const INTEGERS = { floats: false };

/** `Name(k=v, ...)` for a plain object (link, IP and transport records). */
export function renderObject(
  className: string,
  obj: Readonly<Record<string, unknown>>,
  hide: ReadonlySet<string> = new Set(),
): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || hide.has(k)) continue;
    parts.push(`${k}=${pyRepr(v)}`);
  }
  return `${className}(${parts.join(', ')})`;
}

const LINK_CLASS: Readonly<Record<string, string>> = {
  ethernet: 'Ethernet',
  sll: 'SLL',
  sll2: 'SLL2',
  null: 'Loopback',
  loop: 'Loopback',
  raw: 'Raw',
};

/** `{ethernet}`: the link-layer record, e.g. `Ethernet(src='..', dst='..', ethertype=2048)`. */
export function renderLink(link: Readonly<Record<string, unknown>>): string {
  const type = typeof link['type'] === 'string' ? link['type'] : 'link';
  return renderObject(LINK_CLASS[type] ?? 'Link', link, new Set(['type']));
}

/** `{ip}`: the IPv4 header, e.g. `IP(len=76, id=10227, ..., src='192.168.86.21', dst='...')`. */
export function renderIp(ip: Readonly<Record<string, unknown>>): string {
  return renderObject('IP', ip);
}

/** `{transport}`: `UDP(sport=.., dport=.., ulen=.., sum=..)` or `TCP(...)`. */
export function renderTransport(t: Readonly<Record<string, unknown>>): string {
  const cls = t['protocol'] === 'tcp' ? 'TCP' : t['protocol'] === 'udp' ? 'UDP' : 'Transport';
  return renderObject(cls, t, new Set(['protocol']));
}
