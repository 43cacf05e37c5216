import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from '../model.js';
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

/** `/api/*`: JSON views of the conversation state, each with a declared response schema. */
export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (app, { model }) => {
  app.get('/api/health', { schema: { response: { 200: healthSchema } } }, async () => model.health());
  app.get('/api/stats', { schema: { response: { 200: statsSchema } } }, async () => model.stats());
  app.get('/api/channels', { schema: { response: { 200: arrayOf(channelSchema) } } }, async () => model.channels());
  app.get('/api/servers', { schema: { response: { 200: arrayOf(serverSchema) } } }, async () => model.servers());
  app.get('/api/clients', { schema: { response: { 200: arrayOf(clientSchema) } } }, async () => model.clients());
  app.get<{ Querystring: { section?: string } }>(
    '/api/report',
    {
      schema: {
        querystring: { type: 'object', properties: { section: { type: 'string' } } },
        response: { 200: reportSchema, 400: { type: 'object', properties: { error: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const sections = (request.query.section ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      try {
        return await model.report(sections);
      } catch (err) {
        return reply.code(400).send({ error: (err as Error).message });
      }
    },
  );
  app.get('/api/searches', { schema: { response: { 200: arrayOf(searchSchema) } } }, async () => model.searches());
};
