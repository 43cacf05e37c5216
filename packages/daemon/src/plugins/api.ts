import { SectionError } from '@ca-shark/analysis';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { DEFAULT_REPORT_LIMIT } from '../report-cut.js';
import { requestSchema } from '../request-validation.js';
import type { ReportQuery } from '../requests.js';
import type { DaemonModel, TableName, TableText } from '../model.js';
import {
  arrayOf,
  channelSchema,
  clientSchema,
  healthSchema,
  reportSchema,
  searchSchema,
  serverSchema,
  statsSchema,
} from '../views.js';

/** Options of the API plugin. */
export interface ApiOptions {
  model: DaemonModel;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;

/**
 * Sends a view's JSON text (or its bytes) as it is (serialised once for every client) with its age: `Age` in whole
 * seconds (RFC 9111) and `X-As-Of`, when it was computed (Unix seconds).
 */
function sendView(reply: FastifyReply, view: TableText): FastifyReply {
  const age = Math.max(0, Date.now() / 1000 - view.time);
  return reply
    .header('content-type', 'application/json; charset=utf-8')
    .header('age', String(Math.floor(age)))
    .header('x-as-of', view.time.toFixed(3))
    .send(
      typeof view.text === 'string'
        ? view.text
        : // A Buffer over the same memory (fastify sends a Buffer as it is; a bare Uint8Array it would serialise).
          Buffer.from(view.text.buffer, view.text.byteOffset, view.text.byteLength),
    );
}

/** `/api/*`: JSON views of the conversation state, each with a declared response schema. */
export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (app, { model }) => {
  app.get('/api/health', { schema: { response: { 200: healthSchema } } }, async () => model.health());
  app.get('/api/stats', { schema: { response: { 200: statsSchema } } }, async () => model.stats());
  const table = (name: TableName, items: object): void => {
    app.get(`/api/${name}`, { schema: { response: { 200: arrayOf(items) } } }, async (_request, reply) =>
      sendView(reply, await model.tableText(name)),
    );
  };
  table('channels', channelSchema);
  table('servers', serverSchema);
  table('clients', clientSchema);
  table('searches', searchSchema);
  app.get<{ Querystring: ReportQuery }>(
    '/api/report',
    {
      schema: {
        querystring: requestSchema('ReportQuery'),
        response: { 200: reportSchema, 400: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const sections = (request.query.section ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      const full = request.query.full === '1' || request.query.full === 'true';
      try {
        return sendView(reply, await model.reportText(sections, { limit: full ? null : DEFAULT_REPORT_LIMIT }));
      } catch (err) {
        // A wrong section name is the client's fault; anything else (the decoder gone or stuck) is ours.
        return reply.code(err instanceof SectionError ? 400 : 503).send({ error: (err as Error).message });
      }
    },
  );
};
