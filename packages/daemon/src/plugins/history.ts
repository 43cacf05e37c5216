import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from '../model.js';
import type { HistoryQuery } from '../series-history.js';
import { historySchema } from '../history-schema.js';

/** Options of the history plugin. */
export interface HistoryOptions {
  model: DaemonModel;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;
const seconds = { type: 'number', minimum: 0 } as const;

/**
 * `GET /api/history?since=&until=&step=`: the chart aggregates over a capture-time range (Unix seconds;
 * default everything held, at the finest step that keeps each series under 5,000 points), with whether the
 * input ended, when, and how many messages it held.
 */
export const historyPlugin: FastifyPluginAsync<HistoryOptions> = async (app, { model }) => {
  app.get<{ Querystring: HistoryQuery }>(
    '/api/history',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { since: seconds, until: seconds, step: { type: 'number', minimum: 1 } },
        },
        response: { 200: historySchema, 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      if (model.historyText === undefined) return reply.code(404).send({ error: 'this daemon keeps no history' });
      try {
        const text = await model.historyText(request.query);
        return reply.header('content-type', 'application/json; charset=utf-8').send(text);
      } catch (err) {
        return reply.code(503).send({ error: (err as Error).message });
      }
    },
  );
};
