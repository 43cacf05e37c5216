/**
 * WebSocket fan-out: every decoded record goes to the clients whose subscription matches it, batched into at
 * most one frame per tick, through a bounded per-client queue. The hub never matches a record itself: it
 * announces each distinct subscription to a {@link SubscriptionMatcher} (the decoding worker), which hands
 * back, with every batch of records, which records each subscription keeps. A glob from a client and a PV
 * name off the wire therefore never cost the thread that serves HTTP anything but the copy of the result.
 *
 * A client whose socket does not drain (its `bufferedAmount` stays above the high-water mark) stops
 * receiving; its queue drops the oldest records and it is told how many with a `dropped` notice once it
 * drains. Capture and decoding never wait for a client.
 *
 * Everything else a client is sent goes through the same per-client state, so what the daemon holds for one
 * client is bounded whatever it does: snapshots keep only the newest, replies (hello, errors, acknowledgements)
 * wait in a byte-bounded queue while the socket is backed up, and a client that overflows that queue (it
 * keeps sending requests but reads no answers) is closed with 1008.
 */

/** The part of a `ws` WebSocket the hub uses (kept small so tests can pass a fake). */
export interface HubSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Where the hub announces subscriptions: the side that matches records (the decoding worker) compiles each
 * filter it is given and reports matches by id with every batch ({@link BatchMatches}). Ids are never reused,
 * so a match for a removed subscription that was already on its way is ignored.
 */
export interface SubscriptionMatcher<F> {
  add(id: number, filter: F): void;
  remove(id: number): void;
}

/**
 * Which records of one batch each subscription keeps: subscription id → ascending indexes into the batch. A
 * subscription that is absent keeps none of them.
 */
export type BatchMatches = ReadonlyMap<number, ArrayLike<number>>;

const NO_MATCHES: BatchMatches = new Map();

/** Options of a {@link Hub}; defaults in {@link DEFAULT_HUB_OPTIONS}. */
export interface HubOptions {
  /** Records kept per client between ticks before the oldest are dropped. */
  maxQueueRecords: number;
  /** JSON bytes kept per client between ticks before the oldest are dropped. */
  maxQueueBytes: number;
  /** A client whose socket buffers more than this many bytes receives nothing until it drains. */
  highWaterBytes: number;
  /** Bytes of replies kept for a client while its socket drains; beyond this it is closed with 1008. */
  maxReplyBytes: number;
}

/**
 * Defaults: a few seconds of a busy capture per client. At worst a client holds the socket's high-water mark
 * plus one frame, a full record queue, the reply budget and one snapshot: about 17 MB plus a snapshot.
 */
export const DEFAULT_HUB_OPTIONS: HubOptions = {
  maxQueueRecords: 20_000,
  maxQueueBytes: 8 * 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
  maxReplyBytes: 1024 * 1024,
};

const OPEN = 1;
/** WebSocket close code "policy violation" (RFC 6455 section 7.4.1). */
export const CLOSE_POLICY_VIOLATION = 1008;

/** One distinct filter in use, shared by every client that subscribed with it. */
interface HubSubscription {
  readonly id: number;
  /** Canonical text of the filter: clients with equal filters share the subscription. */
  readonly key: string;
  clients: number;
}

/** Per-client state. The queue is a ring so dropping the oldest costs nothing. */
class HubClient {
  readonly id: number;
  readonly socket: HubSocket;
  /** The client's subscription; undefined = everything. */
  subscription: HubSubscription | undefined;
  paused = false;
  /** Records dropped for this client since the last notice. */
  pendingDropped = 0;
  /** Records dropped for this client since it connected. */
  totalDropped = 0;
  /** Records sent to this client since it connected. */
  sent = 0;
  /** Replies waiting for the socket to drain, oldest first, and their total length. */
  replies: string[] = [];
  replyBytes = 0;
  /** The newest snapshot not yet sent (an older one is worthless once a newer exists). */
  snapshot: string | undefined;
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

  /** Takes the queued replies, oldest first. */
  takeReplies(): string[] {
    const out = this.replies;
    this.replies = [];
    this.replyBytes = 0;
    return out;
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
  /** Clients closed (1008) because they read too little of what they asked for. */
  overBudget: number;
}

/** Description of one connected client for diagnostics and tests. */
export interface HubClientInfo {
  id: number;
  queued: number;
  queuedBytes: number;
  /** Bytes of replies and snapshot waiting for the socket to drain. */
  pendingBytes: number;
  dropped: number;
  sent: number;
  paused: boolean;
  bufferedAmount: number;
}

/**
 * Fan-out of records to WebSocket clients. Call {@link Hub.publish} for each batch of records with its
 * matches, {@link Hub.tick} every batching interval (the daemon's timer does) and {@link Hub.broadcast} for
 * snapshots. `F` is the (canonical) filter type the {@link SubscriptionMatcher} understands.
 */
export class Hub<R, F = unknown> {
  private readonly options: HubOptions;
  private readonly clients = new Map<HubSocket, HubClient>();
  private readonly subscriptions = new Map<string, HubSubscription>();
  /** Filters by subscription id, to replay them to a matcher attached later. */
  private readonly filters = new Map<number, F>();
  private matcher: SubscriptionMatcher<F> | undefined;
  private nextSubscription = 1;
  /** Clients subscribed to everything (they need every record, matched or not). */
  private unfiltered = 0;
  private nextId = 1;
  private droppedByGone = 0;
  private sentByGone = 0;
  private frames = 0;
  private overBudget = 0;
  private readonly serialize: (record: R) => string;

  constructor(serialize: (record: R) => string, options: Partial<HubOptions> = {}) {
    this.serialize = serialize;
    this.options = { ...DEFAULT_HUB_OPTIONS, ...options };
  }

  /**
   * Attaches the side that matches records; it is told every subscription in use now and from now on.
   * Until one is attached, filtered clients receive nothing.
   */
  attach(matcher: SubscriptionMatcher<F>): void {
    this.matcher = matcher;
    for (const [id, filter] of this.filters) matcher.add(id, filter);
  }

  /** Registers a connected socket; it receives every record until it subscribes. */
  add(socket: HubSocket): number {
    const client = new HubClient(this.nextId++, socket, this.options.maxQueueRecords);
    this.clients.set(socket, client);
    this.unfiltered += 1;
    return client.id;
  }

  /** Forgets a socket (on close). */
  remove(socket: HubSocket): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    this.droppedByGone += client.totalDropped;
    this.sentByGone += client.sent;
    client.clear();
    client.takeReplies();
    client.snapshot = undefined;
    this.release(client.subscription);
    if (client.subscription === undefined) this.unfiltered -= 1;
    this.clients.delete(socket);
  }

  /**
   * Replaces a client's subscription with `filter` (canonical: equal filters must have equal JSON text);
   * `undefined` means every record. Its queue is cleared, and from now on it receives only records matched
   * for the new subscription: a batch matched before the matcher knew it has no matches for it (unless
   * another client already used the same filter, whose matches are the new filter's too).
   */
  subscribe(socket: HubSocket, filter: F | undefined): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    const old = client.subscription;
    // Acquire before release: re-sending the same filter keeps its subscription and loses nothing.
    const next = filter === undefined ? undefined : this.acquire(filter);
    client.subscription = next;
    this.release(old);
    this.unfiltered += (next === undefined ? 1 : 0) - (old === undefined ? 1 : 0);
    client.clear();
  }

  /** True while a client is subscribed to everything: then every record is wanted, matched or not. */
  get wantsEverything(): boolean {
    return this.unfiltered > 0;
  }

  /** Distinct filtered subscriptions in use (clients with equal filters share one). */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  private acquire(filter: F): HubSubscription {
    const key = JSON.stringify(filter);
    let sub = this.subscriptions.get(key);
    if (sub === undefined) {
      sub = { id: this.nextSubscription++, key, clients: 0 };
      this.subscriptions.set(key, sub);
      this.filters.set(sub.id, filter);
      this.matcher?.add(sub.id, filter);
    }
    sub.clients += 1;
    return sub;
  }

  private release(sub: HubSubscription | undefined): void {
    if (sub === undefined) return;
    sub.clients -= 1;
    if (sub.clients > 0) return;
    this.subscriptions.delete(sub.key);
    this.filters.delete(sub.id);
    this.matcher?.remove(sub.id);
  }

  /** Pauses or resumes delivery of records to one client (snapshots still flow). */
  setPaused(socket: HubSocket, paused: boolean): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.paused = paused;
    if (paused) client.clear();
  }

  /**
   * Offers a batch of records, in capture order: every record to clients subscribed to everything, to a
   * filtered client the records `matches` lists for its subscription (none when absent). Each record is
   * serialised at most once, and only if someone wants it.
   */
  publish(records: readonly R[], matches: BatchMatches = NO_MATCHES): void {
    if (this.clients.size === 0 || records.length === 0) return;
    const texts = new Array<string | undefined>(records.length);
    const text = (i: number): string => (texts[i] ??= this.serialize(records[i]));
    const maxBytes = this.options.maxQueueBytes;
    for (const client of this.clients.values()) {
      if (client.paused) continue;
      const sub = client.subscription;
      if (sub === undefined) {
        for (let i = 0; i < records.length; i++) client.push(text(i), maxBytes);
        continue;
      }
      const indexes = matches.get(sub.id);
      if (indexes === undefined) continue;
      for (let k = 0; k < indexes.length; k++) {
        const i = indexes[k];
        // A matcher that reports an index outside the batch is a bug; deliver nothing rather than undefined.
        if (i < records.length) client.push(text(i), maxBytes);
      }
    }
  }

  /** Sends each client what waits for it (one records frame at most) unless its socket is still draining. */
  tick(): void {
    for (const client of this.clients.values()) this.flush(client, true);
  }

  /**
   * Offers a snapshot to every client. A client still draining keeps only this newest one, sent when it
   * drains; snapshots are never queued up behind each other.
   */
  broadcast(frame: string): void {
    for (const client of this.clients.values()) {
      client.snapshot = frame;
      this.flush(client, false);
    }
  }

  /** Offers a snapshot to one client (its first picture of the state), replacing one not yet sent. */
  snapshotTo(socket: HubSocket, frame: string): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.snapshot = frame;
    this.flush(client, false);
  }

  /**
   * Sends a reply (hello, errors, acknowledgements) to one client, in order with its other replies. While the
   * socket drains the reply waits within {@link HubOptions.maxReplyBytes}; a client beyond that is closed.
   */
  sendTo(socket: HubSocket, frame: string): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.replies.push(frame);
    client.replyBytes += frame.length;
    if (client.replyBytes > this.options.maxReplyBytes) {
      this.closeOverBudget(client);
      return;
    }
    this.flush(client, false);
  }

  /**
   * Writes a client's pending replies and snapshot to its socket unless the socket is over the high-water
   * mark; with `records`, also the drop notice and the records batch (only on a tick, so records keep their
   * cadence of at most one frame per tick).
   */
  private flush(client: HubClient, records: boolean): void {
    const socket = client.socket;
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.options.highWaterBytes) return;
    if (client.replies.length > 0) for (const reply of client.takeReplies()) this.send(socket, reply);
    if (client.snapshot !== undefined) {
      this.send(socket, client.snapshot);
      client.snapshot = undefined;
    }
    if (!records) return;
    if (client.pendingDropped > 0) {
      this.send(socket, `{"type":"dropped","count":${client.pendingDropped}}`);
      client.pendingDropped = 0;
    }
    if (client.queued > 0) this.send(socket, client.takeFrame());
  }

  /** Closes a client that asks for more than it reads, and frees what was kept for it at once. */
  private closeOverBudget(client: HubClient): void {
    this.overBudget += 1;
    const socket = client.socket;
    this.remove(socket);
    try {
      socket.close(CLOSE_POLICY_VIOLATION, 'too many unread replies');
    } catch {
      // Already gone: nothing more to free.
    }
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
    return { clients: this.clients.size, dropped, sent, frames: this.frames, queued, overBudget: this.overBudget };
  }

  /** One entry per connected client. */
  clientInfo(): HubClientInfo[] {
    return [...this.clients.values()].map((c) => ({
      id: c.id,
      queued: c.queued,
      queuedBytes: c.queuedBytes,
      pendingBytes: c.replyBytes + (c.snapshot?.length ?? 0),
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
