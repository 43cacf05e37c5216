/**
 * Is this TCP flow Channel Access? Used only for flows that are on no known server port: we look at the
 * first bytes each side sends and accept the flow when they form a CA opening (§3.1, §3.13, §3.17 of the
 * reference) or, for a flow whose start was not captured, a run of strictly plausible CA headers.
 * Everything else (ssh, http, tls, ...) is left alone so that non-CA traffic makes no noise.
 */

import { Command, EXTENDED_MARKER, HEADER_SIZE, HeaderOffset, isValidCommand } from '@ca-shark/protocol';

const H_COMMAND = HeaderOffset.COMMAND;
const H_PAYLOAD_SIZE = HeaderOffset.PAYLOAD_SIZE;
const H_DATA_TYPE = HeaderOffset.DATA_TYPE;
const H_DATA_COUNT = HeaderOffset.DATA_COUNT;
const H_P1 = HeaderOffset.PARAMETER1;
const H_P2 = HeaderOffset.PARAMETER2;
const HEADER = HEADER_SIZE;
const CMD_VERSION = Command.VERSION;
const CMD_CREATE_CHAN = Command.CREATE_CHAN;
const CMD_CLIENT_NAME = Command.CLIENT_NAME;
const CMD_HOST_NAME = Command.HOST_NAME;
/** Largest priority RSRV accepts (§3.1). */
const MAX_PRIORITY = 99;
/** Minor versions that exist, with headroom for future ones. */
const MAX_MINOR = 64;
/** RSRV's limit on CLIENT_NAME/HOST_NAME and a generous one on channel names in an opening. */
const MAX_NAME_PAYLOAD = 512;
/** Strict sequence test: largest payload and number of messages needed for a flow seen mid-stream. */
const MAX_SEQUENCE_PAYLOAD = 16384;
const SEQUENCE_MESSAGES = 3;

/** Verdict on one direction's first bytes. */
export type OpeningVerdict =
  /** Looks like CA; `side` says whether these bytes are the client's, when the opening tells. */
  | { kind: 'ca'; side: 'client' | 'server' | null }
  /** Not CA. */
  | { kind: 'no' }
  /** Need more bytes to tell. */
  | { kind: 'more' };

const MORE: OpeningVerdict = { kind: 'more' };
const NO: OpeningVerdict = { kind: 'no' };

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** A NUL-terminated printable name filling a padded payload of `size` bytes at `off`. */
function isPaddedName(b: Uint8Array, off: number, size: number): boolean {
  let i = 0;
  for (; i < size; i++) {
    const c = b[off + i];
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return i > 0 && i < size;
}

/** General plausibility of a header at `o` (reference §2.3), strict enough for sequence detection. */
function plausibleHeader(b: Uint8Array, o: number): boolean {
  const cmd = u16(b, o + H_COMMAND);
  const ps = u16(b, o + H_PAYLOAD_SIZE);
  if (!isValidCommand(cmd)) return false;
  if (ps === EXTENDED_MARKER) return u16(b, o + H_DATA_COUNT) === 0; // extended header: markers only
  return ps % 8 === 0 && ps <= MAX_SEQUENCE_PAYLOAD;
}

/** Checks the opening message at offset 0 (only called with ≥ 16 bytes). */
function openingMessage(b: Uint8Array): OpeningVerdict | null {
  const cmd = u16(b, H_COMMAND);
  const ps = u16(b, H_PAYLOAD_SIZE);
  const dt = u16(b, H_DATA_TYPE);
  const dc = u16(b, H_DATA_COUNT);
  const p1 = u32(b, H_P1);
  const p2 = u32(b, H_P2);
  switch (cmd) {
    case CMD_VERSION:
      // TCP VERSION of either side: priority (or 0/1), the minor, zero parameters (caproto: p1 = 1).
      if (ps === 0 && dt <= MAX_PRIORITY && dc >= 1 && dc <= MAX_MINOR && (p1 === 0 || p1 === 1) && p2 === 0) {
        return { kind: 'ca', side: null };
      }
      return NO;
    case CMD_CLIENT_NAME:
    case CMD_HOST_NAME:
    case CMD_CREATE_CHAN: {
      // 3.13 clients open with CLIENT_NAME; a payload of a printable NUL-terminated name.
      const fieldsOk = dt === 0 && dc === 0 && (cmd === CMD_CREATE_CHAN ? p2 <= MAX_MINOR : p1 === 0 && p2 === 0);
      if (!fieldsOk || ps === 0 || ps % 8 !== 0 || ps > MAX_NAME_PAYLOAD) return NO;
      if (b.length < HEADER + ps) return MORE;
      return isPaddedName(b, HEADER, ps) ? { kind: 'ca', side: 'client' } : NO;
    }
    default:
      // Anything else (e.g. a server's ACCESS_RIGHTS) is too weak alone: left to the sequence test.
      return null;
  }
}

/**
 * Classifies the first bytes (`b`, from the start of one direction's stream, or from wherever the capture
 * began when `midStream`) of a TCP flow on no known CA port.
 */
export function classifyOpening(b: Uint8Array, midStream: boolean): OpeningVerdict {
  if (b.length < HEADER) return MORE;
  const opening = openingMessage(b);
  if (opening && opening.kind === 'more') return MORE;
  if (opening && opening.kind === 'ca') {
    // The following headers, as far as they are here, must be plausible too.
    let o = 0;
    while (o + HEADER <= b.length) {
      if (!plausibleHeader(b, o)) return NO;
      const ps = u16(b, o + H_PAYLOAD_SIZE);
      if (ps === EXTENDED_MARKER) break; // extended: stop checking, the opening was good
      o += HEADER + ps;
    }
    return opening;
  }
  if (!midStream) return NO;
  // Capture began mid-circuit: require a run of plausible messages starting right here.
  // All-zero headers (command 0, size 0) are plausible but say nothing: zero-filled non-CA data would
  // pass, so at least one message must be something other than VERSION.
  let o = 0;
  let n = 0;
  let informative = false;
  while (n < SEQUENCE_MESSAGES) {
    if (o + HEADER > b.length) return MORE;
    if (!plausibleHeader(b, o)) return NO;
    const ps = u16(b, o + H_PAYLOAD_SIZE);
    if (ps === EXTENDED_MARKER) return NO; // too weak to start a guess on
    if (u16(b, o + H_COMMAND) !== CMD_VERSION) informative = true;
    o += HEADER + ps;
    n++;
  }
  return informative ? { kind: 'ca', side: null } : NO;
}
