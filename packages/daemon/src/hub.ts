/**
 * WebSocket fan-out: every decoded record goes to the clients whose subscription matches it, batched into at
 * most one frame per tick, through a bounded per-client queue. A client whose socket does not drain (its
 * `bufferedAmount` stays above the high-water mark) stops receiving; its queue drops the oldest records and
 * it is told how many with a `dropped` notice once it drains. Capture and decoding never wait for a client.
 */

/** The part of a `ws` WebSocket the hub uses (kept small so tests can pass a fake). */
export interface HubSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A record as it travels through the hub: the decoder's record for filtering, its JSON text for sending. */
export interface HubRecord<R> {
  record: R;
  /** JSON text of the record, produced once however many clients receive it. */
  json: string;
}

/** Options of a {@link Hub}; defaults in {@link DEFAULT_HUB_OPTIONS}. */
export interface HubOptions {
  /** Records kept per client between ticks before the oldest are dropped. */
  maxQueueRecords: number;
  /** JSON bytes kept per client between ticks before the oldest are dropped. */
  maxQueueBytes: number;
  /** A client whose socket buffers more than this many bytes receives nothing until it drains. */
  highWaterBytes: number;
}

/** Defaults: a few seconds of a busy capture per client, about 16 MB per client at worst. */
export const DEFAULT_HUB_OPTIONS: HubOptions = {
  maxQueueRecords: 20_000,
  maxQueueBytes: 8 * 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
};

const OPEN = 1;

/** Per-client state. The queue is a ring so dropping the oldest costs nothing. */
class HubClient<R> {
  readonly id: number;
  readonly socket: HubSocket;
  /** Record predicate of the current subscription; undefined = everything. */
  predicate: ((record: R) => boolean) | undefined;
  paused = false;
  /** Records dropped for this client since the last notice. */
  pendingDropped = 0;
  /** Records dropped for this client since it connected. */
  totalDropped = 0;
  /** Records sent to this client since it connected. */
  sent = 0;
  private ring: (string | undefined)[];
  private head = 0;
  private size = 0;
  private bytes = 0;

  constructor(id: number, socket: HubSocket, capacity: number) {
    this.id = id;
    this.socket = socket;
    this.ring = new Array<string | undefined>(capacity);
  }

  get queued(): number {
    return this.size;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  push(json: string, maxBytes: number): void {
    const capacity = this.ring.length;
    while (this.size > 0 && (this.size === capacity || this.bytes + json.length > maxBytes)) {
      this.dropOldest();
    }
    this.ring[(this.head + this.size) % capacity] = json;
    this.size += 1;
    this.bytes += json.length;
  }

  private dropOldest(): void {
    const old = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size -= 1;
    this.bytes -= old === undefined ? 0 : old.length;
    this.pendingDropped += 1;
    this.totalDropped += 1;
  }

  /** Empties the queue into one `records` frame. */
  takeFrame(): string {
    const capacity = this.ring.length;
    const parts = new Array<string>(this.size);
    for (let i = 0; i < this.size; i++) {
      const index = (this.head + i) % capacity;
      parts[i] = this.ring[index] as string;
      this.ring[index] = undefined;
    }
    this.sent += this.size;
    this.head = 0;
    this.size = 0;
    this.bytes = 0;
    return `{"type":"records","records":[${parts.join(',')}]}`;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.bytes = 0;
  }
}

/** Counters of the hub, shown in `/api/stats` and `/metrics`. */
export interface HubStats {
  clients: number;
  /** Records dropped for slow clients since start, summed over clients (also disconnected ones). */
  dropped: number;
  /** Records sent, summed over clients. */
  sent: number;
  /** Frames sent (records, snapshots, notices). */
  frames: number;
  /** Records currently queued, summed over clients. */
  queued: number;
}

/** Description of one connected client for diagnostics and tests. */
export interface HubClientInfo {
  id: number;
  queued: number;
  queuedBytes: number;
  dropped: number;
  sent: number;
  paused: boolean;
  bufferedAmount: number;
}

/**
 * Fan-out of records to WebSocket clients. Call {@link Hub.publish} for each record, {@link Hub.tick} every
 * batching interval (the daemon's timer does) and {@link Hub.broadcast} for snapshots.
 */
export class Hub<R> {
  private readonly options: HubOptions;
  private readonly clients = new Map<HubSocket, HubClient<R>>();
  private nextId = 1;
  private droppedByGone = 0;
  private sentByGone = 0;
  private frames = 0;
  private readonly serialize: (record: R) => string;

  constructor(serialize: (record: R) => string, options: Partial<HubOptions> = {}) {
    this.serialize = serialize;
    this.options = { ...DEFAULT_HUB_OPTIONS, ...options };
  }

  /** Registers a connected socket; it receives every record until it subscribes. */
  add(socket: HubSocket): number {
    const client = new HubClient<R>(this.nextId++, socket, this.options.maxQueueRecords);
    this.clients.set(socket, client);
    return client.id;
  }

  /** Forgets a socket (on close). */
  remove(socket: HubSocket): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    this.droppedByGone += client.totalDropped;
    this.sentByGone += client.sent;
    client.clear();
    this.clients.delete(socket);
  }

  /** Replaces a client's subscription. `undefined` means every record. Its queue is cleared. */
  subscribe(socket: HubSocket, predicate: ((record: R) => boolean) | undefined): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.predicate = predicate;
    client.clear();
  }

  /** Pauses or resumes delivery of records to one client (snapshots still flow). */
  setPaused(socket: HubSocket, paused: boolean): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.paused = paused;
    if (paused) client.clear();
  }

  /** Offers one record to every client; serialised at most once, and only if someone wants it. */
  publish(record: R): void {
    if (this.clients.size === 0) return;
    let json: string | undefined;
    for (const client of this.clients.values()) {
      if (client.paused) continue;
      if (client.predicate !== undefined && !client.predicate(record)) continue;
      json ??= this.serialize(record);
      client.push(json, this.options.maxQueueBytes);
    }
  }

  /** Sends each client its batch (one frame) unless its socket is still draining the previous ones. */
  tick(): void {
    for (const client of this.clients.values()) {
      const socket = client.socket;
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > this.options.highWaterBytes) continue;
      if (client.pendingDropped > 0) {
        this.send(socket, `{"type":"dropped","count":${client.pendingDropped}}`);
        client.pendingDropped = 0;
      }
      if (client.queued > 0) this.send(socket, client.takeFrame());
    }
  }

  /** Sends one prepared frame to every client that is not backed up (snapshots: the next one will do). */
  broadcast(frame: string): void {
    for (const client of this.clients.values()) {
      const socket = client.socket;
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > this.options.highWaterBytes) continue;
      this.send(socket, frame);
    }
  }

  /** Sends one frame to one client regardless of its backlog (hello, errors). */
  sendTo(socket: HubSocket, frame: string): void {
    if (socket.readyState === OPEN) this.send(socket, frame);
  }

  private send(socket: HubSocket, frame: string): void {
    this.frames += 1;
    socket.send(frame);
  }

  /** Connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Totals over all clients, including those that already left. */
  stats(): HubStats {
    let dropped = this.droppedByGone;
    let sent = this.sentByGone;
    let queued = 0;
    for (const client of this.clients.values()) {
      dropped += client.totalDropped;
      sent += client.sent;
      queued += client.queued;
    }
    return { clients: this.clients.size, dropped, sent, frames: this.frames, queued };
  }

  /** One entry per connected client. */
  clientInfo(): HubClientInfo[] {
    return [...this.clients.values()].map((c) => ({
      id: c.id,
      queued: c.queued,
      queuedBytes: c.queuedBytes,
      dropped: c.totalDropped,
      sent: c.sent,
      paused: c.paused,
      bufferedAmount: c.socket.bufferedAmount,
    }));
  }

  /** Closes every client (shutdown). */
  closeAll(code = 1001, reason = 'ca-sharkd shutting down'): void {
    for (const client of this.clients.values()) {
      try {
        client.socket.close(code, reason);
      } catch {
        // A socket that is already gone needs no goodbye.
      }
    }
  }
}
