/**
 * The central's input: instead of capturing, it takes the record batches of its sensors from NATS (see
 * {@link CentralConsumer}). To the rest of the daemon it is one more {@link Source}; what it feeds is
 * record batches (RemoteEngine.replay), never frames.
 */
import type { Logger } from 'pino';
import { DaemonError } from '../errors.js';
import type { CaptureCounters, Source, SourceDescription, SourceSink } from '../sources/types.js';
import { zeroCounters } from '../sources/types.js';
import { type BatchSink, CentralConsumer, type SensorView } from './central.js';
import { type NatsSettings, describeServers } from './connection.js';

/** Options of a {@link CentralSource}. */
export interface CentralSourceOptions {
  settings: NatsSettings;
  sensors: readonly string[];
  durable: string;
  logger: Logger;
}

/** A central daemon's source: its sensors' records from NATS. */
export class CentralSource implements Source {
  readonly description: SourceDescription;
  private consumer: CentralConsumer | undefined;

  constructor(private readonly options: CentralSourceOptions) {
    this.description = {
      kind: 'nats',
      nats: describeServers(options.settings.servers),
      ...(options.sensors.length > 0 ? { sensors: [...options.sensors] } : {}),
    };
  }

  start(sink: SourceSink): Promise<void> {
    if (!isBatchSink(sink)) throw new DaemonError('usage', 'central mode needs the decoding worker as its sink');
    this.consumer = new CentralConsumer({ ...this.options, sink });
    // The dashboard is served while NATS is still out of reach; the consumer keeps trying.
    this.consumer
      .whenConnected()
      .catch((err: unknown) =>
        this.options.logger.error(
          { nats: this.description.nats, err: (err as Error).message },
          'cannot consume sensor records from NATS',
        ),
      );
    return Promise.resolve();
  }

  /** Resolves once the consumers run. */
  whenConnected(): Promise<void> {
    return this.consumer?.whenConnected() ?? Promise.resolve();
  }

  /** The sensors table (`GET /api/sensors`). */
  sensors(): SensorView[] {
    return this.consumer?.sensors() ?? [];
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
  }

  counters(): CaptureCounters {
    return zeroCounters();
  }
}

function isBatchSink(sink: SourceSink): sink is SourceSink & BatchSink {
  return typeof (sink as Partial<BatchSink>).replay === 'function';
}
