import type { FastifyPluginAsync } from 'fastify';
import { requestSchema } from '../request-validation.js';
import type { RecordParams } from '../requests.js';
import type { DaemonModel } from '../model.js';

/** Options of the record plugin. */
export interface RecordOptions {
  model: DaemonModel;
}

/** The message of a 404 for a record the daemon no longer holds (or never streamed). */
export function recordGoneMessage(id: number): string {
  return `record ${id} is no longer held`;
}

/**
 * The full JSON text of streamed record `id` (what `GET /api/record/:id` and the WebSocket `record` request
 * answer), or undefined when the daemon does not hold it.
 */
export async function fullRecord(model: DaemonModel, id: number): Promise<string | undefined> {
  return model.record === undefined ? undefined : await model.record(id);
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;

/**
 * `GET /api/record/:id`: a streamed record in full (the `ca-shark --json` form with `raw` hex bytes), from
 * the daemon's bounded ring of the latest streamed records; 404 once it has left the ring.
 */
export const recordPlugin: FastifyPluginAsync<RecordOptions> = async (app, { model }) => {
  app.get<{ Params: RecordParams }>(
    '/api/record/:id',
    {
      schema: {
        params: requestSchema('RecordParams'),
        response: { 400: errorSchema, 404: errorSchema },
        // 200 is the record's JSON text as the decoding worker wrote it: no second serialisation here.
      },
    },
    async (request, reply) => {
      const text = await fullRecord(model, request.params.id);
      if (text === undefined) return reply.code(404).send({ error: recordGoneMessage(request.params.id) });
      return reply.type('application/json; charset=utf-8').send(text);
    },
  );
};
