/**
 * CA message header (reference §2): offsets, plausibility checks and a reader. Everything is big-endian.
 */
import type { CaFrame } from './types.js';
import {
  type StreamDirection,
  commandHasDbrType,
  commandHasNoPayload,
  commandHasNoPayloadTo,
  dbrElementSize,
  dbrValueOffset,
  isObsoleteCommand,
  MAX_COMMAND,
  MAX_DBR_TYPE,
} from './tables.js';

/** Offsets inside a header. */
export const HeaderOffset = {
  COMMAND: 0,
  PAYLOAD_SIZE: 2,
  DATA_TYPE: 4,
  DATA_COUNT: 6,
  PARAMETER1: 8,
  PARAMETER2: 12,
  /** Extended header only: u32 real payload size. */
  EXT_PAYLOAD_SIZE: 16,
  /** Extended header only: u32 real data count. */
  EXT_DATA_COUNT: 20,
} as const;

/** Standard header size. */
export const HEADER_SIZE = 16;
/** Extended (4.9+) header size. */
export const EXTENDED_HEADER_SIZE = 24;
/** `payload_size` marker of an extended header. */
export const EXTENDED_MARKER = 0xffff;
/** Largest size/count a standard header can carry; at or above it the extended header is used. */
export const STANDARD_LIMIT = 0xffff;
/** Largest payload before protocol 4.9 (16384-byte messages). */
export const LEGACY_MAX_PAYLOAD = 16368;

/** A CA header with sizes widened to 32 bits: the header fields of a {@link CaFrame}. */
export type CaHeader = Pick<
  CaFrame,
  'command' | 'payloadSize' | 'dataType' | 'dataCount' | 'parameter1' | 'parameter2' | 'headerSize'
> & {
  /** Extended header whose 16-bit count marker was not 0 (tolerated like libca/RSRV do). */
  dc16NonZero?: boolean;
};

/** @internal big-endian u16 at `o` (caller checked bounds). */
export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** @internal big-endian u32 at `o` (caller checked bounds). */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * Reads the header starting at `offset`. Returns `undefined` when fewer than 16 bytes (or 24 for an
 * extended header) are available. Does not check plausibility: see {@link headerFault}.
 */
export function readHeader(bytes: Uint8Array, offset = 0): CaHeader | undefined {
  const avail = bytes.length - offset;
  if (offset < 0 || avail < HEADER_SIZE) return undefined;
  const ps16 = u16(bytes, offset + HeaderOffset.PAYLOAD_SIZE);
  const dc16 = u16(bytes, offset + HeaderOffset.DATA_COUNT);
  const h: CaHeader = {
    command: u16(bytes, offset + HeaderOffset.COMMAND),
    payloadSize: ps16,
    dataType: u16(bytes, offset + HeaderOffset.DATA_TYPE),
    dataCount: dc16,
    parameter1: u32(bytes, offset + HeaderOffset.PARAMETER1),
    parameter2: u32(bytes, offset + HeaderOffset.PARAMETER2),
    headerSize: HEADER_SIZE,
  };
  if (ps16 === EXTENDED_MARKER) {
    if (avail < EXTENDED_HEADER_SIZE) return undefined;
    h.payloadSize = u32(bytes, offset + HeaderOffset.EXT_PAYLOAD_SIZE);
    h.dataCount = u32(bytes, offset + HeaderOffset.EXT_DATA_COUNT);
    h.headerSize = EXTENDED_HEADER_SIZE;
    if (dc16 !== 0) h.dc16NonZero = true;
  }
  return h;
}

/** Codes of {@link headerFault}. */
export type HeaderFaultCode =
  | 'bad-command'
  | 'obsolete-command'
  | 'bad-alignment'
  | 'bad-data-type'
  | 'unexpected-payload'
  | 'payload-exceeds-type';

/** EVENT_ADD request payload: the mask structure (§3.2), whatever the channel's type and count. */
const EVENT_ADD_REQUEST_PAYLOAD = 16;

/**
 * Largest payload a DBR of `dataType` × `dataCount` takes: metadata plus values, padded to 8 (servers send
 * less for short strings, never more). `undefined` for types without a fixed layout.
 */
function dbrPayloadBound(dataType: number, dataCount: number): number | undefined {
  const offset = dbrValueOffset(dataType);
  const element = dbrElementSize(dataType);
  if (offset === undefined || element === undefined) return undefined;
  return (offset + Math.max(dataCount, 1) * element + 7) & ~7;
}

/**
 * The §2.3 plausibility checks that need no size cap: `cmd ≤ 27` and not obsolete, `ps % 8 == 0`,
 * `dt ≤ 38` for commands whose `dt` is a DBR type, and no payload on a command that never has one (a
 * damaged size there would swallow the messages after it). With `dataCount`, also that a DBR payload is
 * no larger than its type and count need; with the stream's `direction` (known client and server), no
 * payload on a command that has none that way. Returns the failed check or `undefined`.
 */
export function headerFault(
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount?: number,
  direction?: StreamDirection,
): HeaderFaultCode | undefined {
  if (command > MAX_COMMAND) return 'bad-command';
  if (isObsoleteCommand(command)) return 'obsolete-command';
  if ((payloadSize & 7) !== 0) return 'bad-alignment';
  if (dataType > MAX_DBR_TYPE && commandHasDbrType(command)) return 'bad-data-type';
  if (payloadSize !== 0 && commandHasNoPayload(command)) return 'unexpected-payload';
  if (payloadSize !== 0 && direction !== undefined && commandHasNoPayloadTo(command, direction))
    return 'unexpected-payload';
  if (dataCount !== undefined && payloadSize > EVENT_ADD_REQUEST_PAYLOAD && commandHasDbrType(command)) {
    const bound = dbrPayloadBound(dataType, dataCount);
    if (bound !== undefined && payloadSize > bound) return 'payload-exceeds-type';
  }
  return undefined;
}

/** Human text for a failed plausibility check. */
export function headerFaultMessage(
  code: string,
  command: number,
  payloadSize: number,
  dataType: number,
  dataCount?: number,
): string {
  switch (code) {
    case 'bad-command':
      return `command ${command} does not exist (max 27)`;
    case 'obsolete-command':
      return `obsolete command ${command} is never sent`;
    case 'bad-alignment':
      return `payload size ${payloadSize} of command ${command} is not a multiple of 8`;
    case 'bad-data-type':
      return `data type ${dataType} of command ${command} is not a DBR type (max 38)`;
    case 'payload-exceeds-type':
      return `payload size ${payloadSize} of command ${command} exceeds what data type ${dataType} × ${dataCount ?? '?'} needs`;
    case 'unexpected-payload':
      return `command ${command} carries no payload, but its header claims ${payloadSize} bytes`;
    default:
      return `${code}: command ${command}, payload size ${payloadSize}, data type ${dataType}`;
  }
}
