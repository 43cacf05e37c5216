import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from '../model.js';
import {
  arrayOf, channelSchema, clientSchema, healthSchema, searchSchema, serverSchema, statsSchema,
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
  app.get('/api/searches', { schema: { response: { 200: arrayOf(searchSchema) } } }, async () => model.searches());
};
