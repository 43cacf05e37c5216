/**
 * The central's consumer: reads every sensor's record batches from JetStream with a durable consumer,
 * replays each into the decoding worker, and acknowledges it once its records are in the engine's state.
 * A restarted central therefore resumes after the last batch it took in; a batch delivered twice (an ack
 * lost, a redelivery) is recognised by its sensor run and sequence and counted once. It also listens to the
 * sensors' status subjects and keeps the table behind `GET /api/sensors`.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  type NatsConnection,
  type Subscription,
  millis,
  nanos,
} from 'nats';
import type { Logger } from 'pino';
import type { AlertInput } from '../alerts/book.js';
import { BatchFormatError, batchHeader } from './codec.js';
import {
  type NatsSettings,
  RECORDS_PREFIX,
  STATUS_PREFIX,
  STREAM_NAME,
  connectNats,
  describeServers,
  ensureStream,
  recordsSubject,
} from './connection.js';

/** Where batches go: the decoding worker (RemoteEngine.replay). */
export interface BatchSink {
  replay(sensor: string, bytes: Uint8Array, reset: boolean): Promise<number>;
  /** Raises an alert about a sensor. */
  alert(alert: AlertInput): void;
}

/** One row of `GET /api/sensors`. */
export interface SensorView {
  sensor: string;
  /** 'up': status heard within the last 5 s; 'stale': heard before; 'unknown': never heard. */
  status: 'up' | 'stale' | 'unknown';
  /** Seconds since the sensor's last status, null when never heard. */
  lastStatusAge: number | null;
  /** What the sensor captures (its source: kind, iface, file). */
  source: Record<string, unknown> | null;
  /** The sensor's counters from its last status. */
  packets: number | null;
  /** Packets the sensor lost (libpcap drops and decoder drops). */
  drops: number | null;
  /** Records the sensor could not send (its buffer was full, or it stopped with records unsent). */
  unsent: number | null;
  /** Records waiting in the sensor's buffer. */
  buffered: number | null;
  /** Records this central took in from the sensor (each counted once). */
  records: number;
  /** Records per second taken in (last second). */
  recordsPerSecond: number;
  /** Batches delivered again and skipped. */
  duplicates: number;
  /** Seconds between a batch's arrival in JetStream and its replay here (latest batch). */
  lagSeconds: number | null;
  /** Batches in the stream this central has not taken in yet (null until known). */
  pending: number | null;
}

interface SensorState {
  name: string;
  lastStatus: Record<string, unknown> | null;
  statusAt: number;
  /**
   * When it was last heard of (ms): its latest status, or the publication time of its latest batch (0:
   * never). A sensor killed before its first status still has records, and its silence is still news.
   */
  heardAt: number;
  records: number;
  duplicates: number;
  lastRate: number;
  rateRecords: number;
  lagSeconds: number | null;
  pending: number | null;
  run: number | undefined;
  /** Batch first sequences taken in this run (bounded; batches are immutable, a redelivery repeats one). */
  seen: Set<number>;
  /** Drops and unsent records of the last status (alerts are raised when they grow). */
  drops: number;
  unsent: number;
  /** Its silence was alerted (cleared by the next status). */
  staleAlerted: boolean;
}

/** Batch sequences remembered per sensor for skipping redeliveries. */
const SEEN_KEPT = 65_536;
/** Batches replayed at once (the worker takes them in order). */
const IN_FLIGHT = 16;
const STATUS_UP_S = 5;

/** Options of a {@link CentralConsumer}. */
export interface CentralOptions {
  settings: NatsSettings;
  /** Only these sensors (empty: every sensor on the stream). */
  sensors: readonly string[];
  /** Durable consumer name (one per central; several centrals each get every record). */
  durable: string;
  sink: BatchSink;
  logger: Logger;
  now?: () => number;
}

/** See the module comment. */
export class CentralConsumer {
  private nc: NatsConnection | undefined;
  private readonly states = new Map<string, SensorState>();
  private readonly consumers: ConsumerMessages[] = [];
  private statusSub: Subscription | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private rateTimer: NodeJS.Timeout | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly connected: Promise<void>;

  constructor(private readonly options: CentralOptions) {
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    for (const s of options.sensors) this.state(s);
    this.connected = this.start();
  }

  /** Resolves once the consumers run (NATS answered). */
  whenConnected(): Promise<void> {
    return this.connected;
  }

  private state(name: string): SensorState {
    let s = this.states.get(name);
    if (s === undefined) {
      s = {
        name,
        lastStatus: null,
        statusAt: 0,
        heardAt: 0,
        records: 0,
        duplicates: 0,
        lastRate: 0,
        rateRecords: 0,
        lagSeconds: null,
        pending: null,
        run: undefined,
        seen: new Set(),
        drops: 0,
        unsent: 0,
        staleAlerted: false,
      };
      this.states.set(name, s);
    }
    return s;
  }

  private async start(): Promise<void> {
    const servers = describeServers(this.options.settings.servers);
    let nc: NatsConnection;
    try {
      nc = await connectNats(this.options.settings, `ca-sharkd central ${this.options.durable}`, {
        log: this.log,
        isClosed: () => this.closed,
      });
    } catch (err) {
      if (this.closed) return;
      throw err;
    }
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, this.options.settings.stream);
    this.statusSub = nc.subscribe(`${STATUS_PREFIX}.*`, {
      callback: (err, msg) => {
        if (err !== null) return;
        const sensor = msg.subject.slice(STATUS_PREFIX.length + 1);
        if (this.options.sensors.length > 0 && !this.options.sensors.includes(sensor)) return;
        try {
          const s = this.state(sensor);
          s.lastStatus = JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>;
          s.statusAt = this.now();
          this.heard(s, s.statusAt);
          this.checkLosses(s);
        } catch {
          this.log.warn({ sensor }, 'unreadable sensor status');
        }
      },
    });
    const filters =
      this.options.sensors.length > 0
        ? this.options.sensors.map((s) => ({ durable: `${this.options.durable}-${s}`, subject: recordsSubject(s) }))
        : [{ durable: this.options.durable, subject: `${RECORDS_PREFIX}.>` }];
    const js = nc.jetstream();
    for (const f of filters) {
      await jsm.consumers.add(STREAM_NAME, {
        durable_name: f.durable,
        filter_subject: f.subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 1024,
        ack_wait: nanos(60_000),
      });
      const consumer = await js.consumers.get(STREAM_NAME, f.durable);
      const messages = await consumer.consume({ max_messages: IN_FLIGHT * 2 });
      this.consumers.push(messages);
      void this.run(messages);
    }
    this.rateTimer = setInterval(() => {
      const now = this.now();
      for (const s of this.states.values()) {
        s.lastRate = s.records - s.rateRecords;
        s.rateRecords = s.records;
        if (s.heardAt > 0 && !s.staleAlerted && now - s.heardAt > STATUS_UP_S * 1000) {
          s.staleAlerted = true;
          this.alert(s, 'sensor-silent', `sensor ${s.name} has sent no status and no records for ${STATUS_UP_S} s`);
        }
      }
    }, 1000);
    this.rateTimer.unref();
    this.pendingTimer = setInterval(() => void this.updatePending(filters.map((f) => f.durable)), 2000);
    this.pendingTimer.unref();
    this.log.info(
      { nats: servers, stream: STREAM_NAME, consumers: filters.map((f) => f.durable) },
      'consuming sensor records from NATS',
    );
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    try {
      for await (const m of messages) {
        const p = this.take(m).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      }
    } catch (err) {
      if (!this.closed) this.log.error({ err: (err as Error).message }, 'NATS consumer failed');
    }
    await Promise.allSettled(inFlight);
  }

  /** Replays one message's batch and acknowledges it once it is in the engine's state. */
  private async take(m: JsMsg): Promise<void> {
    const sensor = m.subject.slice(RECORDS_PREFIX.length + 1);
    const s = this.state(sensor);
    let header;
    try {
      header = batchHeader(m.data);
    } catch (err) {
      if (!(err instanceof BatchFormatError)) throw err;
      this.log.error({ sensor, err: err.message }, 'unreadable record batch skipped');
      m.term();
      return;
    }
    const reset = s.run !== header.run;
    if (reset) {
      if (s.run !== undefined) this.log.info({ sensor }, 'sensor restarted: its circuits start anew');
      s.run = header.run;
      s.seen.clear();
    } else if (s.seen.has(header.firstSeq)) {
      s.duplicates += 1;
      m.ack();
      return;
    }
    s.seen.add(header.firstSeq);
    if (s.seen.size > SEEN_KEPT) s.seen.delete(s.seen.values().next().value as number);
    try {
      const records = await this.options.sink.replay(sensor, m.data, reset);
      s.records += records;
      const published = millis(m.info.timestampNanos);
      s.lagSeconds = Math.max(0, this.now() - published) / 1000;
      this.heard(s, published);
      m.ack();
    } catch (err) {
      // The worker refused it (corrupt) or is gone: not acknowledged, so another central run gets it.
      s.seen.delete(header.firstSeq);
      this.log.error({ sensor, err: (err as Error).message }, 'record batch not replayed');
      if (err instanceof Error && /exited/.test(err.message)) return;
      m.term();
    }
  }

  private async updatePending(durables: string[]): Promise<void> {
    const nc = this.nc;
    if (nc === undefined || this.closed) return;
    try {
      const jsm = await nc.jetstreamManager();
      for (const d of durables) {
        const info = await jsm.consumers.info(STREAM_NAME, d);
        const sensor = this.options.sensors.length > 0 ? d.slice(this.options.durable.length + 1) : undefined;
        const pending = info.num_pending + info.num_ack_pending;
        if (sensor !== undefined) this.state(sensor).pending = pending;
        else for (const s of this.states.values()) s.pending = null;
        this.totalPending = pending;
      }
    } catch {
      // NATS unreachable for the moment: keep the last figures.
    }
  }

  /** Notes a sign of life at `at` (ms); a fresh one ends an alerted silence. */
  private heard(s: SensorState, at: number): void {
    if (at <= s.heardAt) return;
    s.heardAt = at;
    if (this.now() - at <= STATUS_UP_S * 1000) s.staleAlerted = false;
  }

  /** Alerts when a sensor's status shows new drops or unsent records. */
  private checkLosses(s: SensorState): void {
    const st = s.lastStatus;
    const drops = typeof st?.drops === 'number' ? st.drops : 0;
    const pub = st?.publisher as { unsent?: unknown } | undefined;
    const unsent = typeof pub?.unsent === 'number' ? pub.unsent : 0;
    // A restarted sensor counts from zero again.
    if (drops < s.drops || unsent < s.unsent) {
      s.drops = 0;
      s.unsent = 0;
    }
    if (drops > s.drops)
      this.alert(s, 'sensor-drops', `sensor ${s.name} dropped ${drops - s.drops} packets (${drops} in total)`);
    if (unsent > s.unsent)
      this.alert(
        s,
        'sensor-unsent',
        `sensor ${s.name} could not send ${unsent - s.unsent} records to NATS (${unsent} in total)`,
      );
    s.drops = drops;
    s.unsent = unsent;
  }

  private alert(s: SensorState, kind: 'sensor-drops' | 'sensor-unsent' | 'sensor-silent', message: string): void {
    this.log.warn({ sensor: s.name, kind }, message);
    // One group per kind and sensor: repeated drops of one sensor add to its group.
    this.options.sink.alert({ time: this.now() / 1000, kind, subject: s.name, message, sensor: s.name });
  }

  /** Batches not yet taken in, over all consumers (null until known). */
  totalPending: number | null = null;

  /** The sensors table. */
  sensors(): SensorView[] {
    const now = this.now();
    return [...this.states.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => {
        const st = s.lastStatus;
        const pub = (st?.publisher ?? null) as Record<string, number> | null;
        const age = st === null ? null : (now - s.statusAt) / 1000;
        const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
        return {
          sensor: s.name,
          status: age === null ? 'unknown' : age <= STATUS_UP_S ? 'up' : 'stale',
          lastStatusAge: age,
          source: (st?.source ?? null) as Record<string, unknown> | null,
          packets: num(st?.packets),
          drops: num(st?.drops),
          unsent: pub === null ? null : num(pub.unsent),
          buffered: pub === null ? null : num(pub.bufferedRecords),
          records: s.records,
          recordsPerSecond: s.lastRate,
          duplicates: s.duplicates,
          lagSeconds: s.lagSeconds,
          pending: s.pending,
        };
      });
  }

  /** Stops consuming (unacknowledged batches stay in the stream for the next run) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rateTimer);
    clearInterval(this.pendingTimer);
    for (const c of this.consumers) await c.close().catch(() => undefined);
    this.statusSub?.unsubscribe();
    if (this.nc !== undefined) await this.nc.drain().catch(() => undefined);
  }
}
