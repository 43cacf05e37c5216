import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { DaemonModel } from '../model.js';
import type { SeriesRange, SeriesRequest } from '../series.js';

/** Options of the series plugin. */
export interface SeriesOptions {
  model: DaemonModel;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;

/** `from` / `to`: capture time in Unix seconds; `last`: seconds up to `to` (or the newest record). */
const rangeProperties = {
  from: { type: 'number', minimum: 0 },
  to: { type: 'number', minimum: 0 },
  last: { type: 'number', exclusiveMinimum: 0 },
} as const;

const SERIES_KINDS = ['ioc', 'pv', 'client'] as const;
type SeriesKind = (typeof SERIES_KINDS)[number];

/** At most this many talkers per list. */
const MAX_TALKERS = 100;

function range(q: SeriesRange): SeriesRange {
  return {
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
    ...(q.last !== undefined ? { last: q.last } : {}),
  };
}

/**
 * The charts' data, computed in the decoding worker (series.ts):
 * - `GET /api/series`: the keys tracked now and the rings (`tiers`);
 * - `GET /api/series/{ioc,pv,client}?key=&from=&to=`: one key's series (asking for a PV tracks it from now on);
 * - `GET /api/talkers?from=&to=&limit=`: the busiest hosts, IOCs, clients and PVs by messages and bytes.
 * Times are capture times; without `from`/`to` the last 10 minutes up to the newest record.
 */
export const seriesPlugin: FastifyPluginAsync<SeriesOptions> = async (app, { model }) => {
  const answer = async (reply: FastifyReply, request: SeriesRequest): Promise<FastifyReply> => {
    if (model.seriesText === undefined) return reply.code(404).send({ error: 'this daemon keeps no series' });
    try {
      const text = await model.seriesText(request);
      return reply.type('application/json; charset=utf-8').send(text);
    } catch (err) {
      return reply.code(503).send({ error: (err as Error).message });
    }
  };
  app.get('/api/series', { schema: { response: { 404: errorSchema, 503: errorSchema } } }, async (_request, reply) =>
    answer(reply, { what: 'keys' }),
  );
  app.get<{ Params: { kind: SeriesKind }; Querystring: { key: string } & SeriesRange }>(
    '/api/series/:kind',
    {
      schema: {
        params: {
          type: 'object',
          required: ['kind'],
          properties: { kind: { type: 'string', enum: SERIES_KINDS } },
        },
        querystring: {
          type: 'object',
          required: ['key'],
          properties: { key: { type: 'string', minLength: 1, maxLength: 1024 }, ...rangeProperties },
        },
        // 200 is the JSON text the decoding worker wrote (SeriesView): no second serialisation here.
        response: { 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) =>
      answer(reply, { what: request.params.kind, key: request.query.key, ...range(request.query) }),
  );
  app.get<{ Querystring: SeriesRange & { limit?: number } }>(
    '/api/talkers',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...rangeProperties, limit: { type: 'integer', minimum: 1, maximum: MAX_TALKERS } },
        },
        response: { 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) =>
      answer(reply, {
        what: 'talkers',
        ...range(request.query),
        ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
      }),
  );
};
