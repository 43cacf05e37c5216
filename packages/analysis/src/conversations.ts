import type { DbrNumericArray } from '@ca-shark/protocol';
import { type Bounded, BoundedMap, RecentLookup, RecentRows } from './bounded.js';
import { NumberTable } from './number-table.js';
import { type AnalysisRecord, numberField, sender, stringField } from './record.js';

/** Elements of a written array shown in the audit; the count says how many there were. */
const WRITE_VALUE_PREVIEW = 16;

export interface WriteEntry {
  time: number;
  frame: number;
  client: string;
  host: string | null;
  user: string | null;
  server: string | null;
  pv: string | null;
  command: 'WriteRequest' | 'WriteNotifyRequest';
  data_type: number | null;
  data_count: number | null;
  value: unknown[];
  /** ECA code of the write-notify reply or of an ERROR about the write; null when nothing answered. */
  status: number | null;
  status_name: string | null;
}

export type CircuitEndReason = 'fin' | 'rst' | 'timeout' | 'evicted' | 'capture-end';

/**
 * The circuit log's end reason for a circuit the decoder reports closed (its `CircuitInfo.closeReason`), or
 * null when the decoder gave none the log knows (`capture-end` is the analyses' own, for circuits still open).
 *
 * @example
 * onCircuitClose: (c) => {
 *   const reason = circuitEndReason(c.closeReason);
 *   if (reason !== null) analyzer.closeCircuit(c.id, c.closedAt ?? c.lastSeen, reason);
 * }
 */
export function circuitEndReason(reason: string | null): Exclude<CircuitEndReason, 'capture-end'> | null {
  return reason === 'fin' || reason === 'rst' || reason === 'timeout' || reason === 'evicted' ? reason : null;
}
export type ChannelEndReason = 'cleared' | 'server-disconnect' | 'create-failed' | 'circuit-closed' | 'capture-end';

export interface CircuitLogEntry {
  circuit: number;
  client: string | null;
  server: string | null;
  host: string | null;
  user: string | null;
  start: number;
  end: number;
  duration: number;
  messages: number;
  bytes: number;
  channels: number;
  end_reason: CircuitEndReason;
}

export interface ChannelLogEntry {
  id: number;
  pv: string;
  circuit: number;
  cid: number | null;
  sid: number | null;
  client: string | null;
  server: string | null;
  start: number;
  end: number;
  duration: number;
  messages: number;
  bytes: number;
  end_reason: ChannelEndReason;
}

interface Circuit {
  log: CircuitLogEntry;
  closed: boolean;
  /** pv → open channel */
  channels: Map<string, ChannelLogEntry>;
  /** sid → the latest write to it, by its number in the {@link WriteLog} (plain WRITE has no reply; an ERROR may name it). */
  lastWriteBySid: BoundedMap<number, number>;
}

/** Open channels logged across all circuits (a flood of creates beyond this is counted, not logged). */
const MAX_OPEN_CHANNELS = 100_000;
/** Latest write per SID remembered per circuit, to name the write an ERROR refers to. */
const MAX_WRITES_BY_SID = 10_000;
/** Pending write-notifies held before those whose writes left the audit are looked for and dropped. */
const MIN_PENDING_PURGE = 1024;

/**
 * Per-circuit bookkeeping that needs the conversation: who is on each circuit (host and user names),
 * the circuit and channel logs, and the write audit with each write's resulting status.
 */
export class ConversationAnalysis {
  private readonly circuits = new RecentLookup(
    new BoundedMap<number, Circuit>(50_000, (c) => {
      this.openChannels -= c.channels.size;
    }),
  );
  /** The latest finished circuits, channels and writes. */
  private readonly finishedCircuits: RecentRows<CircuitLogEntry>;
  private readonly finishedChannels: RecentRows<ChannelLogEntry>;
  private readonly writes: WriteLog;
  /**
   * A write-notify's frame → its write's number in the log, until the reply comes. Entries of writes that
   * left the log (never answered) are dropped when the table has grown to {@link purgeAt}.
   */
  private readonly pendingWrites = new NumberTable();
  private purgeAt = MIN_PENDING_PURGE;
  private nextChannelId = 1;
  /** Open channels across all circuits; beyond MAX_OPEN_CHANNELS new ones are counted but not logged. */
  private openChannels = 0;
  private untrackedChannels = 0;

  /**
   * @param maxRows rows kept in each log (circuits, channels, writes): the latest ones
   * @param audit whether to keep the write audit (the only part that reads DBR values)
   */
  constructor(
    private readonly maxRows = 1000,
    private readonly audit = true,
  ) {
    this.finishedCircuits = new RecentRows(maxRows);
    this.finishedChannels = new RecentRows(maxRows);
    this.writes = new WriteLog(maxRows);
  }

  /** Log rows dropped to stay bounded. */
  get dropped(): number {
    return this.finishedCircuits.dropped + this.finishedChannels.dropped + this.writes.dropped + this.untrackedChannels;
  }

  /** A record whose command is `name`: the ones of a TCP circuit count. */
  add(record: AnalysisRecord, name: string): void {
    const id = record.circuit;
    if (id === undefined) return;
    const circuit = this.circuits.get(id) ?? this.circuits.add(id, newCircuit(id, record));
    const log = circuit.log;
    log.client ??= record.client ?? null;
    log.server ??= record.server ?? null;
    log.end = record.timestamp;
    log.duration = log.end - log.start;
    log.messages++;
    log.bytes += record.size ?? 0;
    if (name === 'HostNameRequest') log.host = stringField(record, 'host_name') ?? null;
    else if (name === 'ClientNameRequest') log.user = stringField(record, 'client_name') ?? null;

    if (record.pv) this.trackChannel(circuit, record, name);
    if (!this.audit) return;
    if (name === 'WriteRequest' || name === 'WriteNotifyRequest') this.addWrite(circuit, record, name);
    else if (name === 'WriteNotifyResponse' && record.request) {
      const frame = record.request.frame;
      const write = this.pendingWrites.get(frame);
      if (write !== undefined) {
        this.writes.setStatus(write, numberField(record, 'status') ?? null, stringField(record, 'status_name') ?? null);
        this.pendingWrites.delete(frame);
      }
    } else if (name === 'ErrorResponse') this.addErrorToWrite(circuit, record);
  }

  private trackChannel(circuit: Circuit, record: AnalysisRecord, name: string): void {
    const pv = record.pv as string;
    let channel = circuit.channels.get(pv);
    if (!channel || name === 'CreateChanRequest') {
      if (channel) this.finishChannel(circuit, channel, 'cleared');
      if (this.openChannels >= MAX_OPEN_CHANNELS) {
        if (name === 'CreateChanRequest') this.untrackedChannels++;
        return;
      }
      channel = {
        id: this.nextChannelId++,
        pv,
        circuit: circuit.log.circuit,
        cid: numberField(record, 'cid') ?? null,
        sid: numberField(record, 'sid') ?? null,
        client: circuit.log.client,
        server: circuit.log.server,
        start: record.timestamp,
        end: record.timestamp,
        duration: 0,
        messages: 0,
        bytes: 0,
        end_reason: 'capture-end',
      };
      circuit.channels.set(pv, channel);
      this.openChannels++;
      circuit.log.channels++;
    }
    channel.cid ??= numberField(record, 'cid') ?? null;
    channel.sid ??= numberField(record, 'sid') ?? null;
    channel.end = record.timestamp;
    channel.duration = channel.end - channel.start;
    channel.messages++;
    channel.bytes += record.size ?? 0;
    if (name === 'ClearChannelResponse' || (name === 'ClearChannelRequest' && record.role === 'response')) {
      this.finishChannel(circuit, channel, 'cleared');
    } else if (name === 'ServerDisconnResponse') this.finishChannel(circuit, channel, 'server-disconnect');
    else if (name === 'CreateChFailResponse') this.finishChannel(circuit, channel, 'create-failed');
  }

  private finishChannel(circuit: Circuit, channel: ChannelLogEntry, reason: ChannelEndReason): void {
    channel.end_reason = reason;
    if (circuit.channels.delete(channel.pv)) this.openChannels--;
    this.finishedChannels.push(channel);
  }

  private addWrite(circuit: Circuit, record: AnalysisRecord, name: 'WriteRequest' | 'WriteNotifyRequest'): void {
    // The fields are read here rather than through numberField, whose one load site sees every command's
    // shape (a megamorphic load each): these sites see the two write commands only.
    const command = record.command;
    const dataType = command.data_type;
    const dataCount = command.data_count;
    const sid = command.sid;
    const write = this.writes.push(
      record.timestamp,
      record.frame,
      record.client ?? sender(record),
      circuit.log.host,
      circuit.log.user,
      record.server ?? circuit.log.server,
      record.pv,
      name,
      typeof dataType === 'number' ? dataType : null,
      typeof dataCount === 'number' ? dataCount : null,
      command.data,
    );
    // The first write of a frame is the one its reply's request names (as upsert kept it).
    if (name === 'WriteNotifyRequest' && !this.pendingWrites.has(record.frame)) {
      if (this.pendingWrites.size >= this.purgeAt) this.purgePendingWrites(record.frame);
      this.pendingWrites.add(record.frame, write);
    }
    if (typeof sid === 'number') circuit.lastWriteBySid.set(sid, write);
  }

  /**
   * Forgets the pending writes no reply can change in the audit any more: those that left the log, of
   * frames before `frame` (a later write of their own frame would otherwise be taken for the one the reply
   * names). Then waits for the table to double before looking again, so each entry is looked at O(1) times.
   */
  private purgePendingWrites(frame: number): void {
    const oldest = this.writes.oldestKept;
    this.pendingWrites.retain((f, write) => write >= oldest || f >= frame);
    this.purgeAt = Math.max(MIN_PENDING_PURGE, 2 * this.pendingWrites.size);
  }

  /** An ERROR whose embedded request is a WRITE names the failed write by its SID. */
  private addErrorToWrite(circuit: Circuit, record: AnalysisRecord): void {
    const original = record.command.original_request;
    if (original === undefined) return;
    const WRITE = 4;
    const WRITE_NOTIFY = 19;
    if (original.command !== WRITE && original.command !== WRITE_NOTIFY) return;
    // The failed request's header: a WRITE's p1 is its SID.
    const sid = original.parameter1;
    const write = circuit.lastWriteBySid.get(sid);
    if (write === undefined) return;
    this.writes.setStatus(
      write,
      numberField(record, 'status_code') ?? numberField(record, 'status') ?? null,
      stringField(record, 'status_name') ?? null,
    );
  }

  /** A circuit ended (TCP FIN/RST/timeout seen by the packet layer). */
  closeCircuit(id: number, time: number, reason: Exclude<CircuitEndReason, 'capture-end'>): void {
    const circuit = this.circuits.map.get(id);
    if (!circuit || circuit.closed) return;
    circuit.closed = true;
    circuit.log.end = Math.max(circuit.log.end, time);
    circuit.log.duration = circuit.log.end - circuit.log.start;
    circuit.log.end_reason = reason;
    for (const channel of [...circuit.channels.values()]) this.finishChannel(circuit, channel, 'circuit-closed');
    this.finishedCircuits.push(circuit.log);
    this.circuits.delete(id);
  }

  /** The latest writes, oldest first. */
  writeAudit(): Bounded<WriteEntry> {
    return { rows: this.writes.list(), omitted: this.writes.dropped };
  }

  /** Circuit log by circuit id: the latest finished circuits and the ones still open. */
  circuitLog(): Bounded<CircuitLogEntry> {
    const rows = this.finishedCircuits.list();
    for (const c of this.circuits.map.values()) rows.push(c.log);
    return latestById(rows, this.maxRows, (r) => r.circuit, this.finishedCircuits.dropped);
  }

  /** Channel log by channel id: the latest finished channels and the ones still open. */
  channelLog(): Bounded<ChannelLogEntry> {
    const rows = this.finishedChannels.list();
    for (const c of this.circuits.map.values()) for (const ch of c.channels.values()) rows.push(ch);
    return latestById(rows, this.maxRows, (r) => r.id, this.finishedChannels.dropped + this.untrackedChannels);
  }
}

/** Slots a {@link WriteLog} starts with (it doubles up to its limit). */
const WRITE_LOG_INITIAL_SLOTS = 64;

/**
 * The write audit's latest `limit` writes, in columns: a ring of typed arrays for the numbers and arrays of
 * references for the strings (which the records share), with each value's first
 * {@link WRITE_VALUE_PREVIEW} numbers in one typed array. A write lives here for the next `limit` writes,
 * long enough to be promoted to the worker's old generation: a row object and its value array each were, about
 * 180 bytes a write left there for a full collection. Rows are made when the audit is read. A write is named by
 * its number (writes before it); a status given to one that left the log changes nothing, as nothing shows it.
 */
class WriteLog {
  /** Writes ever pushed. */
  total = 0;
  private slots = 0;
  private times = new Float64Array(0);
  private frames = new Float64Array(0);
  /** data_type, data_count and status; NaN for null (they are whole numbers when known). */
  private dataTypes = new Float64Array(0);
  private dataCounts = new Float64Array(0);
  private statuses = new Float64Array(0);
  /** 1: WriteNotifyRequest, 0: WriteRequest. */
  private notifies = new Uint8Array(0);
  private clients: string[] = [];
  private hosts: (string | null)[] = [];
  private users: (string | null)[] = [];
  private servers: (string | null)[] = [];
  private pvs: (string | null)[] = [];
  private statusNames: (string | null)[] = [];
  /** The value preview when it is all numbers: its length and elements ({@link WRITE_VALUE_PREVIEW} a slot). */
  private valueLengths = new Uint8Array(0);
  private valueNumbers = new Float64Array(0);
  /** The value preview as an array when it is not all numbers (a string write), else null. */
  private valueArrays: (unknown[] | null)[] = [];

  constructor(readonly limit: number) {}

  /** The number of the oldest write kept. */
  get oldestKept(): number {
    return Math.max(0, this.total - this.limit);
  }

  /** Writes pushed but no longer kept. */
  get dropped(): number {
    return this.oldestKept;
  }

  /** Adds a write (status unknown yet); returns its number. */
  push(
    time: number,
    frame: number,
    client: string,
    host: string | null,
    user: string | null,
    server: string | null,
    pv: string | null,
    command: 'WriteRequest' | 'WriteNotifyRequest',
    dataType: number | null,
    dataCount: number | null,
    data: unknown,
  ): number {
    const n = this.total;
    if (n >= this.slots && this.slots < this.limit) this.grow();
    if (this.slots === 0) {
      this.total += 1;
      return n;
    }
    const i = n % this.slots;
    this.times[i] = time;
    this.frames[i] = frame;
    this.clients[i] = client;
    this.hosts[i] = host;
    this.users[i] = user;
    this.servers[i] = server;
    this.pvs[i] = pv;
    this.notifies[i] = command === 'WriteNotifyRequest' ? 1 : 0;
    this.dataTypes[i] = dataType ?? Number.NaN;
    this.dataCounts[i] = dataCount ?? Number.NaN;
    this.statuses[i] = Number.NaN;
    this.statusNames[i] = null;
    this.storeValue(i, data);
    this.total += 1;
    return n;
  }

  /** The ECA status of write `n` (ignored when it left the log). */
  setStatus(n: number, status: number | null, statusName: string | null): void {
    if (n < this.oldestKept || n >= this.total) return;
    const i = n % this.slots;
    this.statuses[i] = status ?? Number.NaN;
    this.statusNames[i] = statusName;
  }

  /** The kept writes, oldest first. */
  list(): WriteEntry[] {
    const out: WriteEntry[] = [];
    for (let n = this.oldestKept; n < this.total; n++) out.push(this.row(n % this.slots));
    return out;
  }

  private row(i: number): WriteEntry {
    return {
      time: this.times[i],
      frame: this.frames[i],
      client: this.clients[i],
      host: this.hosts[i],
      user: this.users[i],
      server: this.servers[i],
      pv: this.pvs[i],
      command: this.notifies[i] === 1 ? 'WriteNotifyRequest' : 'WriteRequest',
      data_type: nullIfNaN(this.dataTypes[i]),
      data_count: nullIfNaN(this.dataCounts[i]),
      value: this.valueOf(i),
      status: nullIfNaN(this.statuses[i]),
      status_name: this.statusNames[i],
    };
  }

  /**
   * The preview of a written value: a plain array (it ends up in JSON) of its first elements, of the value
   * itself when it is no array, empty when there is none. Waveforms decode to typed arrays, read by index.
   */
  private storeValue(i: number, data: unknown): void {
    const base = i * WRITE_VALUE_PREVIEW;
    if (data === undefined) {
      this.valueLengths[i] = 0;
      this.valueArrays[i] = null;
      return;
    }
    if (Array.isArray(data)) {
      const n = Math.min(data.length, WRITE_VALUE_PREVIEW);
      for (let k = 0; k < n; k++) {
        const element: unknown = data[k];
        if (typeof element !== 'number') {
          this.valueArrays[i] = data.slice(0, n);
          return;
        }
        this.valueNumbers[base + k] = element;
      }
      this.valueLengths[i] = n;
      this.valueArrays[i] = null;
      return;
    }
    if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
      // A typed array holds numbers only (CA has no 64-bit integer type): copied natively, each element
      // converted to a double, instead of an element load per kind of array at one site.
      const elements = data as DbrNumericArray;
      const n = Math.min(elements.length, WRITE_VALUE_PREVIEW);
      this.valueNumbers.set(n < elements.length ? elements.subarray(0, n) : elements, base);
      this.valueLengths[i] = n;
      this.valueArrays[i] = null;
      return;
    }
    if (typeof data === 'number') {
      this.valueNumbers[base] = data;
      this.valueLengths[i] = 1;
      this.valueArrays[i] = null;
    } else this.valueArrays[i] = [data];
  }

  private valueOf(i: number): unknown[] {
    const array = this.valueArrays[i];
    if (array !== null) return array.slice();
    const n = this.valueLengths[i];
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = this.valueNumbers[i * WRITE_VALUE_PREVIEW + k];
    return out;
  }

  /** Doubles the columns (up to the limit), the kept writes in their order from slot 0. */
  private grow(): void {
    const old = this.slots;
    const slots = Math.min(this.limit, Math.max(WRITE_LOG_INITIAL_SLOTS, 2 * old));
    // The ring is full when it grows (total === old), so write n sits at n % old: copied to n % slots.
    const copy = <T extends Float64Array | Uint8Array>(from: T, to: T, width = 1): T => {
      for (let n = this.oldestKept; n < this.total; n++)
        to.set(from.subarray((n % old) * width, (n % old) * width + width), (n % slots) * width);
      return to;
    };
    const copyRefs = <T>(from: T[]): T[] => {
      const to = new Array<T>(slots);
      for (let n = this.oldestKept; n < this.total; n++) to[n % slots] = from[n % old];
      return to;
    };
    this.times = copy(this.times, new Float64Array(slots));
    this.frames = copy(this.frames, new Float64Array(slots));
    this.dataTypes = copy(this.dataTypes, new Float64Array(slots));
    this.dataCounts = copy(this.dataCounts, new Float64Array(slots));
    this.statuses = copy(this.statuses, new Float64Array(slots));
    this.notifies = copy(this.notifies, new Uint8Array(slots));
    this.valueLengths = copy(this.valueLengths, new Uint8Array(slots));
    this.valueNumbers = copy(this.valueNumbers, new Float64Array(slots * WRITE_VALUE_PREVIEW), WRITE_VALUE_PREVIEW);
    this.clients = copyRefs(this.clients);
    this.hosts = copyRefs(this.hosts);
    this.users = copyRefs(this.users);
    this.servers = copyRefs(this.servers);
    this.pvs = copyRefs(this.pvs);
    this.statusNames = copyRefs(this.statusNames);
    this.valueArrays = copyRefs(this.valueArrays);
    this.slots = slots;
  }
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/** The bookkeeping of a circuit first seen in `record`. */
function newCircuit(id: number, record: AnalysisRecord): Circuit {
  return {
    log: {
      circuit: id,
      client: record.client ?? null,
      server: record.server ?? null,
      host: null,
      user: null,
      start: record.timestamp,
      end: record.timestamp,
      duration: 0,
      messages: 0,
      bytes: 0,
      channels: 0,
      end_reason: 'capture-end',
    },
    closed: false,
    channels: new Map(),
    lastWriteBySid: new BoundedMap(MAX_WRITES_BY_SID),
  };
}

/** The `limit` rows with the highest ids, in id order, counting the others. */
function latestById<T>(rows: T[], limit: number, id: (row: T) => number, alsoOmitted: number): Bounded<T> {
  rows.sort((a, b) => id(a) - id(b));
  const cut = Math.max(0, rows.length - limit);
  return { rows: cut > 0 ? rows.slice(cut) : rows, omitted: cut + alsoOmitted };
}
