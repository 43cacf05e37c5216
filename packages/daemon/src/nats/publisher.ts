/**
 * The sensor's publisher: takes the record batches the decoding worker finished and publishes them to
 * JetStream in order, off the decoding path. It never makes capture or decoding wait: batches queue in a
 * bounded buffer while NATS is slow or unreachable, and when the buffer is full new batches are counted as
 * unsent and let go. A sensor reading a file or stdin loses nothing instead: the source waits while the
 * buffer is more than half full ({@link SensorPublisher.waitForRoom}), and the buffer only overflows under
 * live capture, which cannot wait. Retries reuse a batch's message id, so JetStream stores each batch once.
 */
import type { JetStreamClient, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { batchHeader } from './codec.js';
import {
  type NatsSettings,
  connectNats,
  describeServers,
  ensureStream,
  recordsSubject,
  statusSubject,
} from './connection.js';

/** Options of a {@link SensorPublisher}. */
export interface PublisherOptions {
  sensor: string;
  settings: NatsSettings;
  logger: Logger;
  /** Bytes of batches kept while NATS does not take them; default 64 MiB. */
  bufferBytes?: number;
  /** Publishes waiting for their JetStream ack at once; default 16. */
  window?: number;
  /** The sensor's status (source, counters) added to every status message. */
  status: () => Record<string, unknown>;
  /** Status interval (ms); default 1000. */
  statusMs?: number;
}

/** What the publisher did so far. */
export interface PublisherCounters {
  /** Records handed over by the decoder. */
  records: number;
  /** Records stored in JetStream. */
  published: number;
  /** Bytes of the batches stored (the encoded records, without NATS's own framing). */
  publishedBytes: number;
  /** Records let go because the buffer was full. */
  unsent: number;
  /** Records and bytes waiting in the buffer. */
  bufferedRecords: number;
  bufferedBytes: number;
  /** Batches JetStream already had (a retry after a lost ack). */
  duplicates: number;
  connected: boolean;
}

interface Pending {
  bytes: Uint8Array;
  records: number;
  id: string;
  /** Published, ack not yet in. */
  sending: boolean;
}

const RETRY_MS = 500;
const PUBLISH_TIMEOUT_MS = 5000;

/** Publishes one sensor's batches; see the module comment. */
export class SensorPublisher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private js: JetStreamClient | undefined;
  private nc: NatsConnection | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly statusTimer: NodeJS.Timeout;
  private readonly bufferBytes: number;
  private readonly window: number;
  private readonly subject: string;
  private readonly log: Logger;
  private fullSince: number | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  readonly counters: PublisherCounters = {
    records: 0,
    published: 0,
    publishedBytes: 0,
    unsent: 0,
    bufferedRecords: 0,
    bufferedBytes: 0,
    duplicates: 0,
    connected: false,
  };

  constructor(private readonly options: PublisherOptions) {
    this.bufferBytes = options.bufferBytes ?? 64 * 1024 * 1024;
    this.window = options.window ?? 16;
    this.subject = recordsSubject(options.sensor);
    this.log = options.logger.child({ sensor: options.sensor });
    this.statusTimer = setInterval(() => this.publishStatus(), options.statusMs ?? 1000);
    this.statusTimer.unref();
    void this.connect();
  }

  private async connect(): Promise<void> {
    const servers = describeServers(this.options.settings.servers);
    let nc: NatsConnection;
    try {
      nc = await connectNats(this.options.settings, `ca-sharkd sensor ${this.options.sensor}`, {
        log: this.log,
        isClosed: () => this.closed,
      });
    } catch (err) {
      if (this.closed) return;
      this.log.error(
        { nats: servers, err: (err as Error).message },
        'cannot connect to NATS: records are not published',
      );
      return;
    }
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    try {
      await ensureStream(await nc.jetstreamManager(), this.options.settings.stream);
    } catch (err) {
      this.log.error({ nats: servers, err: (err as Error).message }, 'cannot create the records stream');
    }
    this.js = nc.jetstream();
    this.counters.connected = true;
    this.log.info({ nats: servers, subject: this.subject }, 'publishing records to NATS');
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.counters.connected = false;
          this.log.warn(
            { nats: servers, buffered: this.counters.bufferedRecords },
            'NATS unreachable: buffering records',
          );
        } else if (s.type === 'reconnect') {
          this.counters.connected = true;
          this.log.info({ nats: servers, buffered: this.counters.bufferedRecords }, 'NATS back: catching up');
          this.pump();
        }
      }
    })();
    this.pump();
  }

  /**
   * For sources that can wait (file, stdin): undefined while the buffer is at most half full, else a promise
   * that resolves once it is down to a quarter (or the publisher closed).
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.closed || this.counters.bufferedBytes <= this.bufferBytes / 2) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private releaseRoom(force = false): void {
    if (this.roomWaiters.length === 0 || (!force && this.counters.bufferedBytes > this.bufferBytes / 4)) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  /** One batch from the decoder (its bytes are the publisher's from now on). Never blocks. */
  add(bytes: Uint8Array, records: number): void {
    this.counters.records += records;
    if (this.counters.bufferedBytes + bytes.length > this.bufferBytes) {
      this.counters.unsent += records;
      if (this.fullSince === undefined) {
        this.fullSince = Date.now();
        this.log.error(
          { bufferBytes: this.bufferBytes, unsent: this.counters.unsent },
          'NATS publish buffer full: records are not sent (raise --publish-buffer or fix the NATS link)',
        );
      }
      return;
    }
    const { run, firstSeq } = batchHeader(bytes);
    this.queue.push({ bytes, records, id: `${this.options.sensor}-${run}-${firstSeq}`, sending: false });
    this.counters.bufferedBytes += bytes.length;
    this.counters.bufferedRecords += records;
    this.pump();
  }

  private pump(): void {
    const js = this.js;
    if (js === undefined || this.retryTimer !== undefined || this.closed) return;
    // In queue order: the oldest batches (a failed one first again) go before newer ones.
    let slots = 0;
    for (const item of this.queue) {
      if (slots++ >= this.window) break;
      if (item.sending) continue;
      item.sending = true;
      this.inFlight += 1;
      js.publish(this.subject, item.bytes, { msgID: item.id, timeout: PUBLISH_TIMEOUT_MS }).then(
        (ack) => this.settled(item, ack.duplicate, undefined),
        (err: unknown) => this.settled(item, false, err as Error),
      );
    }
  }

  private settled(item: Pending, duplicate: boolean, err: Error | undefined): void {
    this.inFlight -= 1;
    item.sending = false;
    if (err === undefined) {
      const at = this.queue.indexOf(item);
      if (at >= 0) this.queue.splice(at, 1);
      this.counters.bufferedBytes -= item.bytes.length;
      this.counters.bufferedRecords -= item.records;
      this.counters.published += item.records;
      this.counters.publishedBytes += item.bytes.length;
      if (duplicate) this.counters.duplicates += 1;
      this.releaseRoom();
      if (this.fullSince !== undefined && this.counters.bufferedBytes < this.bufferBytes / 2) {
        this.log.info({ unsent: this.counters.unsent }, 'NATS publish buffer has room again');
        this.fullSince = undefined;
      }
    } else if (/MAX_PAYLOAD/i.test(err.message)) {
      // Retrying cannot help: let it go, counted, and go on with the next batches.
      const at = this.queue.indexOf(item);
      if (at >= 0) this.queue.splice(at, 1);
      this.counters.bufferedBytes -= item.bytes.length;
      this.counters.bufferedRecords -= item.records;
      this.counters.unsent += item.records;
      this.log.error(
        { bytes: item.bytes.length, records: item.records, err: err.message },
        'NATS refused a record batch as too large: its records are not sent',
      );
    } else if (this.retryTimer === undefined && !this.closed) {
      // The failed batch goes again, before any newer one, after a pause (JetStream drops a second copy).
      this.log.debug({ err: err.message, buffered: this.counters.bufferedRecords }, 'publish failed; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, RETRY_MS);
    }
    if (this.inFlight === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    else if (this.retryTimer === undefined) this.pump();
  }

  private publishStatus(): void {
    const nc = this.nc;
    if (nc === undefined || nc.isClosed()) return;
    const { connected: _c, ...counters } = this.counters;
    const status = {
      sensor: this.options.sensor,
      time: Date.now() / 1000,
      ...this.options.status(),
      publisher: counters,
    };
    try {
      nc.publish(statusSubject(this.options.sensor), JSON.stringify(status));
    } catch {
      // Disconnected: the next second's status replaces this one.
    }
  }

  /**
   * Waits until every buffered batch is stored (or `timeoutMs` passed), then closes the connection. Resolves
   * with the records still unsent (buffered ones that could not go count as unsent).
   */
  async close(timeoutMs = 10_000): Promise<number> {
    clearInterval(this.statusTimer);
    if (this.queue.length > 0 && this.js !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.releaseRoom(true);
    clearTimeout(this.retryTimer);
    this.publishStatus();
    this.counters.unsent += this.counters.bufferedRecords;
    if (this.nc !== undefined) await this.nc.drain().catch(() => undefined);
    return this.counters.unsent;
  }
}
