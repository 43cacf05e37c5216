import { samplePacketInfo } from '@ca-shark/packet';
import type { PacketInfo } from '@ca-shark/packet';
import type { CaCommand, CaFault, CaFrame, Role, RoleCertainty } from '@ca-shark/protocol';
import type { CaRecord, MalformedCommand } from './record.js';
import type { CommandCount, Statistics } from './state.js';
import { hex } from './wire.js';

/**
 * The command of a record between {@link RecordEmitter.draft} and {@link RecordEmitter.send}. A valid
 * command value (so a record is never typed as half made), but never seen outside the decoder: `send`
 * replaces it before the record leaves.
 */
const NOT_YET_DECODED: MalformedCommand = Object.freeze({
  name: 'Malformed',
  id: -1,
  reason: 'not decoded yet',
  code: 'draft',
  length: 0,
  hex: '',
});

/** Slots of the command-count cache in {@link RecordEmitter} (a power of two). */
const COUNT_SLOTS = 64;
/**
 * What the cache's slots hold before their first name: a counter of no command (every command has a
 * name). Not frozen: the slots then hold counters of one shape only.
 */
const NO_COUNT: CommandCount = { name: '', n: 0 };

/** The record a decoder with `keepBytes: 'lend'` is handing out, and the message it was decoded from. */
let lentRecord: CaRecord | undefined;
let lentFrame: CaFrame | undefined;

/**
 * The message bytes of `record` while a decoder with `keepBytes: 'lend'` hands it to `onRecord`: a view of
 * the decoder's input, valid only until `onRecord` returns (copy what you keep). Undefined for any other
 * record, and for this one once `onRecord` has returned.
 */
export function lentBytes(record: CaRecord): Uint8Array | undefined {
  return record === lentRecord ? lentFrame?.bytes : undefined;
}

/** Where records go: the decoder, whose `onRecord` may be replaced at any time. */
export interface RecordOutput {
  onRecord(record: CaRecord): void;
}

/**
 * Builds records and counts them. A record is drafted as soon as a message's role is known; the message
 * handlers then fill in what they learn (`pv`, `request`, `server`, `client`) on the draft they are given,
 * and {@link send} completes it with the decoded command. The draft is the record itself, so the handlers
 * return their findings without an extra object per message, and every record comes from one object
 * literal (one hidden class for all records: the consumers' property reads stay monomorphic).
 */
export class RecordEmitter {
  constructor(
    private readonly stats: Statistics,
    private readonly keepBytes: boolean | 'lend',
    private readonly output: RecordOutput,
    /** Where records are counted by command name (`stats.byCommand` reads it). */
    private readonly commandCounts: Map<string, CommandCount>,
  ) {}

  /** The last counter used per slot of {@link finish}'s hash (a name no command has at first). */
  private readonly countSlots: CommandCount[] = new Array<CommandCount>(COUNT_SLOTS).fill(NO_COUNT);

  /** `name`'s counter, made (at zero) on its first record. */
  private countOf(name: string): CommandCount {
    let count = this.commandCounts.get(name);
    if (count === undefined) this.commandCounts.set(name, (count = { name, n: 0 }));
    return count;
  }

  /** A record of `packet` with no command yet, no PV, no request and no endpoints. */
  draft(packet: PacketInfo, role: Role, certainty: RoleCertainty): CaRecord {
    // The key order is the JSON output's field order (docs/json.md): keep it.
    return {
      frame: packet.frame,
      timestamp: packet.timestamp,
      interfaceId: packet.interfaceId,
      src: packet.src,
      dst: packet.dst,
      ethernet: packet.link,
      ip: packet.ip,
      transport: packet.transport,
      command: NOT_YET_DECODED,
      pv: null,
      role,
      role_certainty: certainty,
      circuit: undefined,
      request: undefined,
      latency: undefined,
      server: undefined,
      client: undefined,
      size: 0,
      truncated: undefined,
      raw: undefined,
    };
  }

  /** Completes `record` with the message `frame` decoded as `command`, counts it and hands it out. */
  send(record: CaRecord, command: CaCommand, frame: CaFrame): void {
    const size = frame.headerSize + frame.payloadSize;
    const stats = this.stats;
    stats.records++;
    stats.messages++;
    stats.bytes += size;
    this.finish(record, command, size);
    if (frame.truncated) record.truncated = true;
    const keepBytes = this.keepBytes;
    if (keepBytes === true) record.raw = frame.bytes.slice();
    else if (keepBytes === 'lend') {
      // No view is made unless a consumer asks lentBytes for it; saved and restored in case one decoder's
      // consumer runs another decoder.
      const outerRecord = lentRecord;
      const outerFrame = lentFrame;
      lentRecord = record;
      lentFrame = frame;
      try {
        this.output.onRecord(record);
      } finally {
        lentRecord = outerRecord;
        lentFrame = outerFrame;
      }
      return;
    }
    this.output.onRecord(record);
  }

  /** Completes `record` with a command that no frame carries (an empty registration datagram). */
  sendFrameless(record: CaRecord, command: CaCommand): void {
    this.stats.records++;
    this.finish(record, command, 0);
    this.output.onRecord(record);
  }

  /** Completes `record` as a Malformed record for `fault` (bytes that are no CA message). */
  sendMalformed(record: CaRecord, fault: CaFault): void {
    const command: MalformedCommand = {
      name: 'Malformed',
      id: -1,
      reason: fault.message,
      code: fault.code,
      length: fault.length,
      hex: hex(fault.sample),
    };
    this.stats.malformed++;
    this.stats.records++;
    this.finish(record, command, fault.length);
    this.output.onRecord(record);
  }

  private finish(record: CaRecord, command: CaCommand, size: number): void {
    const name = command.name;
    // Hashed by length and first letter: the frequent names (reads, writes, monitors, searches) get
    // slots of their own, and an equal name is an internalised string, so the check is a pointer compare.
    const slot = (name.length + name.charCodeAt(0) * 8) & (COUNT_SLOTS - 1);
    let count = this.countSlots[slot];
    if (count.name !== name) count = this.countSlots[slot] = this.countOf(name);
    count.n++;
    record.command = command;
    record.size = size;
    const request = record.request;
    if (request) record.latency = record.timestamp - request.timestamp;
  }
}

/**
 * Keeps a record's `timestamp` field "tagged", so that a record shares its packet's timestamp number
 * instead of a box of its own (16 bytes a record): see the packet layer's `keepNumberFieldsTagged`, which
 * does the same for the packet's field, on a packet record of the same making. Run once at load, on a
 * record nobody sees.
 */
function keepTimestampTagged(): void {
  // With an Ethernet header, as before: the record's `ethernet` field sees the shared untagged record first.
  const packet = samplePacketInfo(true);
  const record = RecordEmitter.prototype.draft.call(undefined, packet, 'request', 'certain');
  (record as unknown as Record<string, unknown>).timestamp = null;
}
keepTimestampTagged();

/** Last resort for messages of the same shape both ways: the end with the higher (ephemeral) port is the client. */
export function portGuess(packet: PacketInfo): Role {
  return packet.transport.sport < packet.transport.dport ? 'response' : 'request';
}
