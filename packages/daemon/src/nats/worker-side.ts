/**
 * What the decoding worker does for NATS: in a sensor, batch every record for publishing (the main thread
 * publishes); in a central, replay sensors' batches into the engine and tag each record with its sensor.
 * engine-worker.ts calls these few methods; everything else about NATS lives on the main thread.
 */
import type { CaRecord } from '@ca-shark/decoder';
import type { Engine, EngineOptions, SensedRecord } from '../engine.js';
import type { FromWorker } from '../worker-protocol.js';
import type { Logger } from 'pino';
import type { SensorPorts } from './codec.js';
import { Replayer } from './replay.js';
import { SensorBatcher } from './sensor-batcher.js';

/** The daemon's NATS role, as the worker knows it. */
export type NatsRole = 'sensor' | 'central';

type Post = (message: FromWorker, transfer?: ArrayBuffer[]) => void;

/** The worker's NATS duties for one role. */
export class NatsWorkerSide {
  private readonly batcher: SensorBatcher | undefined;
  private replayer: Replayer | undefined;

  constructor(
    readonly role: NatsRole,
    private readonly post: Post,
    ports: SensorPorts,
    private readonly log?: Logger,
  ) {
    this.batcher = role === 'sensor' ? new SensorBatcher(ports) : undefined;
  }

  /** The engine hooks this role needs. */
  engineOptions(): Pick<EngineOptions, 'circuitClosed' | 'decorate' | 'circuitSensor'> {
    const batcher = this.batcher;
    if (batcher !== undefined) return { circuitClosed: (circuit) => batcher.closed(circuit, performance.now()) };
    return {
      circuitSensor: (circuit) => this.replayer?.sensorOf(circuit),
      // A central that joined mid-conversation has not seen the channel's creation: its sensor has.
      decorate: (record: CaRecord) => {
        const hints = this.replayer?.hints;
        if (hints === undefined) return;
        // Filters (`sensor:`) and the full record read it.
        (record as SensedRecord).sensor = hints.sensor;
        if (record.pv === null && hints.pv !== null) record.pv = hints.pv;
        if (record.latency === undefined && hints.latency !== undefined && record.role === 'response')
          record.latency = hints.latency;
      },
    };
  }

  attach(engine: Engine): void {
    if (this.role === 'central') this.replayer = new Replayer(engine);
    this.engine = engine;
  }

  private engine: Engine | undefined;
  /** Sensors already warned about a repeater port that differs from the central's. */
  private readonly repeaterWarned = new Set<string>();

  /** The sensor of the record being decoded (central), else undefined. */
  get sensor(): string | undefined {
    return this.replayer?.hints.sensor;
  }

  /** Sensor: one decoded record. */
  record(record: CaRecord): void {
    if (this.batcher?.add(record, performance.now()) === true) this.flush(true);
  }

  /** Sensor: hands the batch over when it is due (or now, `force`). */
  flush(force = false): void {
    const batcher = this.batcher;
    if (batcher === undefined || !(force || batcher.due(performance.now()))) return;
    const batch = batcher.take();
    if (batch === undefined) return;
    const buffer = batch.bytes.buffer as ArrayBuffer;
    this.post({ type: 'batch', buffer, records: batch.records }, [buffer]);
  }

  /** Central: replays one sensor batch and says so (the main thread then acknowledges it to NATS). */
  replay(sensor: string, buffer: ArrayBuffer, token: number, reset: boolean): void {
    const replayer = this.replayer;
    if (replayer === undefined) return;
    if (reset) replayer.resetSensor(sensor);
    try {
      const batch = replayer.replay(sensor, new Uint8Array(buffer));
      const repeater = this.engine?.repeaterPort;
      if (repeater !== undefined && batch.repeaterPort !== repeater && !this.repeaterWarned.has(sensor)) {
        this.repeaterWarned.add(sensor);
        this.log?.warn(
          { sensor, sensorRepeaterPort: batch.repeaterPort, repeaterPort: repeater },
          "the sensor's CA repeater port differs from this central's: its beacons are not decoded (give the central the same --ports)",
        );
      }
      this.post({ type: 'replayed', token, records: batch.records });
    } catch (err) {
      this.post({ type: 'replayed', token, records: 0, error: (err as Error).message });
    }
  }
}
