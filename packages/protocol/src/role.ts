/**
 * Request/response heuristics that need no connection state (reference §4.2 and §4.4). The decoder
 * composes them after transport state (§4.1) and identifier tracking (§4.3).
 */
import type { CaFrame, Role, RoleCertainty } from './types.js';
import { u16 } from './header.js';
import { EventAddPayload } from './layout.js';
import { alignedSize, dbrSize, isEcaCode } from './tables.js';

/** Commands only a client sends (§4.2). */
const CLIENT_ONLY = new Set([2, 4, 8, 9, 20, 21, 24]);
/** Commands only a server (or repeater) sends (§4.2). */
const SERVER_ONLY = new Set([11, 13, 14, 17, 22, 26, 27]);

/**
 * The role of a message that only one side can send (§4.2): 2, 4, 8, 9, 20, 21, 24, CREATE_CHAN with a
 * payload and SEARCH with a name payload and `dc ≠ 0` are requests; 11, 13, 14, 17, 22, 26, 27 and
 * CREATE_CHAN without payload are responses. `undefined` for everything else. One such message labels
 * its whole TCP connection.
 */
export function oneSidedRole(frame: CaFrame): Role | undefined {
  const id = frame.command;
  if (CLIENT_ONLY.has(id)) return 'request';
  if (SERVER_ONLY.has(id)) return 'response';
  if (id === 18) return frame.payloadSize > 0 ? 'request' : 'response';
  // A search reply has ps 8 and dc 0 (UDP) or ps 0 (TCP); a request carries a name and the client minor.
  if (id === 6 && frame.payloadSize > 0 && frame.dataCount !== 0) return 'request';
  return undefined;
}

/** Result of {@link guessRole}. */
export interface RoleGuess {
  role: Role;
  /** 'inferred' when {@link oneSidedRole} decided, else 'guess'. */
  certainty: RoleCertainty;
  /** Set when the header fits the other role too (e.g. a count-0 READ_NOTIFY could be an empty reply). */
  ambiguous?: boolean;
  /** Why, in words. */
  reason: string;
}

/**
 * The §4.4 recommended fallback from the header (and the EVENT_ADD payload) alone, flagged as a guess.
 * `undefined` for VERSION, ECHO, CLEAR_CHANNEL, READ_SYNC (same shape both ways: direction only) and for
 * unknown codes. Relabel once transport state or identifiers decide.
 */
export function guessRole(frame: CaFrame): RoleGuess | undefined {
  const one = oneSidedRole(frame);
  if (one !== undefined) return { role: one, certainty: 'inferred', reason: 'only one side sends this message' };
  const ps = frame.payloadSize;
  switch (frame.command) {
    case 6:
      return frame.dataCount === 0 && (ps === 0 || ps === 8)
        ? { role: 'response', certainty: 'guess', reason: 'SEARCH with dc 0 and ps 0 or 8 is a reply' }
        : { role: 'request', certainty: 'guess', reason: 'SEARCH carrying a name' };
    case 19:
      return ps > 0
        ? { role: 'request', certainty: 'guess', reason: 'WRITE_NOTIFY with data is a request' }
        : { role: 'response', certainty: 'guess', reason: 'WRITE_NOTIFY without data is a reply' };
    case 3:
    case 15:
      if (ps > 0) return { role: 'response', certainty: 'guess', reason: 'read with data is a reply' };
      if (frame.dataCount === 0) {
        return {
          role: 'request',
          certainty: 'guess',
          ambiguous: true,
          reason: 'count-0 read without data: request, or an empty 4.13 reply',
        };
      }
      return { role: 'request', certainty: 'guess', reason: 'read without data is a request' };
    case 1:
      return guessEventAdd(frame);
    default:
      return undefined;
  }
}

function guessEventAdd(frame: CaFrame): RoleGuess {
  const ps = frame.payloadSize;
  if (ps === 0) {
    return {
      role: 'response',
      certainty: 'guess',
      ambiguous: true,
      reason: 'EVENT_ADD without payload: cancel confirmation or empty update',
    };
  }
  if (ps !== EventAddPayload.SIZE)
    return { role: 'response', certainty: 'guess', reason: 'EVENT_ADD payload is not the 16-byte request' };
  const p = frame.payload;
  // Request shape: zero deadbands and pad around a small mask.
  let zeros = p.length >= EventAddPayload.SIZE;
  for (let i = EventAddPayload.LOW; zeros && i < EventAddPayload.MASK; i++) if (p[i] !== 0) zeros = false;
  if (zeros && (p[EventAddPayload.PAD] !== 0 || p[EventAddPayload.PAD + 1] !== 0)) zeros = false;
  const mask = zeros ? u16(p, EventAddPayload.MASK) : 0;
  if (zeros && mask >= 1 && mask <= 255) {
    const size = dbrSize(frame.dataType, frame.dataCount);
    const updateCanBe16 = size !== undefined && alignedSize(size) === EventAddPayload.SIZE;
    if (!isEcaCode(frame.parameter1) || !updateCanBe16) {
      return {
        role: 'request',
        certainty: 'guess',
        reason: 'EVENT_ADD with the request payload shape (zero deadbands, mask)',
      };
    }
    return {
      role: 'response',
      certainty: 'guess',
      ambiguous: true,
      reason: 'EVENT_ADD looks like a request, but p1 is an ECA code and a 16-byte update of this type fits',
    };
  }
  return { role: 'response', certainty: 'guess', reason: 'EVENT_ADD payload is not a request payload' };
}
