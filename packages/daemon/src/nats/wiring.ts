/**
 * How server.ts puts a sensor or a central together: the publisher fed by the decoding worker's batches,
 * the sensor's status, and the `/api/sensors` table. Kept here so that server.ts only calls in.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../cli.js';
import type { RemoteEngine, RemoteEngineOptions } from '../remote-engine.js';
import type { Source } from '../sources/types.js';
import type { SensorView } from './central.js';
import { sensorsPlugin } from './plugin.js';
import { SensorPublisher } from './publisher.js';
import { CentralSource } from './source.js';

/** The NATS part of a running daemon (absent on a single host). */
export interface NatsParts {
  publisher?: SensorPublisher;
  /** Engine options: the worker's role and where its batches go. */
  engine: Pick<RemoteEngineOptions, 'nats' | 'onBatch' | 'downstreamRoom'>;
}

/** A central's source, or undefined for any other mode. */
export function centralSource(config: DaemonConfig, logger: Logger): Source | undefined {
  const nats = config.nats;
  if (config.mode !== 'central' || nats === undefined) return undefined;
  return new CentralSource({ settings: nats.settings, sensors: nats.sensors, durable: nats.durable, logger });
}

/** Sets up a sensor's publisher (its status reads the engine once it exists). */
export function natsParts(config: DaemonConfig, logger: Logger, engine: () => RemoteEngine): NatsParts {
  const nats = config.nats;
  if (nats === undefined) return { engine: {} };
  if (nats.role === 'central') return { engine: { nats: 'central' } };
  const publisher = new SensorPublisher({
    sensor: nats.sensor as string,
    settings: nats.settings,
    logger,
    bufferBytes: nats.bufferBytes,
    status: () => {
      const e = engine();
      const s = e.stats();
      return {
        source: e.source(),
        packets: s.packets,
        messages: s.messages,
        messagesPerSecond: s.messagesPerSecond,
        drops: s.capture.dropped + s.capture.ifDropped + s.decoderDropped,
      };
    },
  });
  return {
    publisher,
    engine: {
      nats: 'sensor',
      onBatch: (bytes, records) => publisher.add(bytes, records),
      downstreamRoom: () => publisher.waitForRoom(),
    },
  };
}

/** Registers `GET /api/sensors`. */
export async function registerSensors(
  app: FastifyInstance,
  config: DaemonConfig,
  source: Source,
  parts: NatsParts,
): Promise<void> {
  const sensors = (): SensorView[] => {
    if (source instanceof CentralSource) return source.sensors();
    const publisher = parts.publisher;
    if (publisher === undefined || config.nats?.sensor === undefined) return [];
    const c = publisher.counters;
    return [
      {
        sensor: config.nats.sensor,
        status: c.connected ? 'up' : 'stale',
        lastStatusAge: 0,
        source: { ...source.description },
        packets: null,
        drops: null,
        unsent: c.unsent,
        buffered: c.bufferedRecords,
        records: c.published,
        recordsPerSecond: 0,
        duplicates: c.duplicates,
        lagSeconds: null,
        pending: null,
      },
    ];
  };
  await app.register(sensorsPlugin, { sensors });
}
