import type { FastifyPluginAsync } from 'fastify';
import type { SensorView } from './central.js';

/** Options of {@link sensorsPlugin}. */
export interface SensorsPluginOptions {
  /** The sensors this daemon knows: a central's every sensor, a sensor itself, none on a single host. */
  sensors: () => SensorView[];
}

const nullableNum = { type: ['number', 'null'] } as const;

/** Schema of {@link SensorView}. */
export const sensorSchema = {
  type: 'object',
  required: ['sensor', 'status', 'records', 'recordsPerSecond', 'duplicates'],
  properties: {
    sensor: { type: 'string' },
    status: { type: 'string', enum: ['up', 'stale', 'unknown'] },
    lastStatusAge: nullableNum,
    source: { type: ['object', 'null'], additionalProperties: true },
    packets: nullableNum,
    drops: nullableNum,
    unsent: nullableNum,
    buffered: nullableNum,
    records: { type: 'number' },
    recordsPerSecond: { type: 'number' },
    duplicates: { type: 'number' },
    lagSeconds: nullableNum,
    pending: nullableNum,
  },
} as const;

/** `GET /api/sensors`: each sensor with its status, counters, rates, drops and lag (docs/deployment.md). */
export const sensorsPlugin: FastifyPluginAsync<SensorsPluginOptions> = async (app, { sensors }) => {
  app.get('/api/sensors', { schema: { response: { 200: { type: 'array', items: sensorSchema } } } }, async () =>
    sensors(),
  );
};
