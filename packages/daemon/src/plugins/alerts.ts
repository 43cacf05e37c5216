import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from '../model.js';

/** Options of the alerts plugin. */
export interface AlertsOptions {
  model: DaemonModel;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;

/**
 * `GET /api/alerts`: every alert group held, with the totals. `POST /api/alerts/ack` with `{"key": "<kind> <subject>"}`: acknowledges an alert group for every page
 * (held by the daemon); 404 when no such group is held. Same-origin and token rules as every data route.
 */
export const alertsPlugin: FastifyPluginAsync<AlertsOptions> = async (app, { model }) => {
  // Every group held (the snapshot carries the first 300), most serious first: for scripts and checks.
  app.get('/api/alerts', { schema: { response: { 404: errorSchema, 503: errorSchema } } }, async (_request, reply) => {
    if (model.alertsText === undefined) return reply.code(404).send({ error: 'this daemon holds no alerts' });
    try {
      return reply.type('application/json; charset=utf-8').send(await model.alertsText());
    } catch (err) {
      return reply.code(503).send({ error: (err as Error).message });
    }
  });
  app.post<{ Body: { key: string } }>(
    '/api/alerts/ack',
    {
      schema: {
        body: {
          type: 'object',
          required: ['key'],
          additionalProperties: false,
          properties: { key: { type: 'string', minLength: 1, maxLength: 2048 } },
        },
        response: {
          200: { type: 'object', properties: { acknowledged: { type: 'string' } } },
          404: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const key = request.body.key;
      let done: boolean;
      try {
        done = model.acknowledgeAlert === undefined ? false : await model.acknowledgeAlert(key);
      } catch (err) {
        return reply.code(503).send({ error: (err as Error).message });
      }
      if (!done) return reply.code(404).send({ error: `no alert ${JSON.stringify(key)} is held` });
      request.log.info({ alert: key }, 'alert acknowledged');
      return { acknowledged: key };
    },
  );
};
