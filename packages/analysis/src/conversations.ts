import { type Bounded, BoundedMap, RecentLookup, RecentRows } from './bounded.js';
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
  /** sid → pending write entries (plain WRITE has no reply; an ERROR may name it). */
  lastWriteBySid: BoundedMap<number, WriteEntry>;
}

/** Open channels logged across all circuits (a flood of creates beyond this is counted, not logged). */
const MAX_OPEN_CHANNELS = 100_000;
/** Latest write per SID remembered per circuit, to name the write an ERROR refers to. */
const MAX_WRITES_BY_SID = 10_000;

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
  private readonly writes: RecentRows<WriteEntry>;
  private readonly pendingWrites = new RecentLookup(new BoundedMap<number, WriteEntry>(100_000));
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
    this.writes = new RecentRows(maxRows);
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
      const write = this.pendingWrites.map.get(record.request.frame);
      if (write) {
        write.status = numberField(record, 'status') ?? null;
        write.status_name = stringField(record, 'status_name') ?? null;
        this.pendingWrites.delete(record.request.frame);
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
    const data = record.command.data;
    // Waveforms decode to typed arrays: the preview is a plain array either way (it ends up in JSON),
    // copied by index (Array.from of a subarray made a view and walked an iterator per write).
    const value: unknown[] = Array.isArray(data)
      ? data.slice(0, WRITE_VALUE_PREVIEW)
      : ArrayBuffer.isView(data) && !(data instanceof DataView)
        ? previewOf(data as Float64Array)
        : data === undefined
          ? []
          : [data];
    const write: WriteEntry = {
      time: record.timestamp,
      frame: record.frame,
      client: record.client ?? sender(record),
      host: circuit.log.host,
      user: circuit.log.user,
      server: record.server ?? circuit.log.server,
      pv: record.pv,
      command: name,
      data_type: numberField(record, 'data_type') ?? null,
      data_count: numberField(record, 'data_count') ?? null,
      value,
      status: null,
      status_name: null,
    };
    this.writes.push(write);
    // The first write of a frame is the one its reply's request names (as upsert kept it).
    if (name === 'WriteNotifyRequest' && this.pendingWrites.get(record.frame) === undefined) {
      this.pendingWrites.add(record.frame, write);
    }
    const sid = numberField(record, 'sid');
    if (sid !== undefined) circuit.lastWriteBySid.set(sid, write);
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
    if (!write) return;
    write.status = numberField(record, 'status_code') ?? numberField(record, 'status') ?? null;
    write.status_name = stringField(record, 'status_name') ?? null;
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

/** The first {@link WRITE_VALUE_PREVIEW} elements of a typed array, as numbers in a plain array. */
function previewOf(data: ArrayLike<number>): number[] {
  const n = Math.min(data.length, WRITE_VALUE_PREVIEW);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = data[i];
  return out;
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
