import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Options of the dashboard plugin. */
export interface DashboardOptions {
  /** Directory with index.html; `null` disables static files. */
  dir: string | null;
}

/** Text shown at / when the dashboard has not been built. */
export const NOT_BUILT_MESSAGE =
  'The ca-shark dashboard is not built, so there is no page to show.\n' +
  'Build it with: pnpm --filter @ca-shark/dashboard build   (or pnpm run build at the repository root)\n' +
  'The API is available meanwhile: /api/health, /api/stats, /api/channels, /ws, /metrics\n';

/** True when `dir` holds a built dashboard. */
export function dashboardBuilt(dir: string | null): dir is string {
  return dir !== null && existsSync(join(dir, 'index.html'));
}

/** Serves the built dashboard at `/`, or a 503 that says how to build it. */
export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app, { dir }) => {
  // The page and its assets carry no captured data: they load without the token, which the page then asks
  // for. Only routes registered here (this plugin is encapsulated) are marked.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: 'public' };
  });
  if (dashboardBuilt(dir)) {
    await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'] });
    return;
  }
  app.log.warn({ dir }, 'dashboard not built; / answers 503 until it is');
  app.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE));
};
