import { fileURLToPath } from 'node:url';
import AjvCompiler from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { WebhookStats } from './alerts/webhook.js';
import type { Hub } from './hub.js';
import type { DaemonModel } from './model.js';
import { alertsPlugin } from './plugins/alerts.js';
import { apiPlugin } from './plugins/api.js';
import { dashboardPlugin } from './plugins/dashboard.js';
import { historyPlugin } from './plugins/history.js';
import { metricsPlugin } from './plugins/metrics.js';
import { recordPlugin } from './plugins/record.js';
import { type PcapModel, pcapPlugin } from './pcap-route.js';
import { securityPlugin } from './plugins/security.js';
import { seriesPlugin } from './plugins/series.js';
import { type SubscriptionFilter, wsPlugin } from './plugins/ws.js';

/**
 * Where the dashboard's `vite build` output lives, relative to this module: src/app.ts, tsc's dist/app.js
 * and the bundle's dist/*.js (scripts/bundle.mjs) are all one level below the package root.
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

/** Everything {@link buildApp} needs; the server module wires real capture into it, tests pass their own. */
export interface AppOptions<R, F = SubscriptionFilter> {
  /** With a `pcap` method, `GET /api/pcap` exports packets (pcap-route.ts). */
  model: DaemonModel & PcapModel;
  hub: Hub<R, F>;
  /**
   * Checks a client's filter and gives the hub's form of it (undefined = everything); throws, with a
   * message for the client, when it is invalid. Never matches records: the hub's matcher does.
   */
  subscription: (filter: SubscriptionFilter) => F | undefined;
  version: string;
  /** Bearer token for /api, /metrics and /ws. */
  token?: string;
  /** Origins besides the daemon's own that may open /ws. */
  allowedOrigins?: readonly string[];
  /** Host the server listens on; with {@link AppOptions.allowHosts} it decides which Host headers are served. */
  listenHost?: string;
  /** Names accepted in the Host header besides localhost, loopback literals and the listen address. */
  allowHosts?: readonly string[];
  /** Built dashboard directory; default packages/dashboard/dist; `null` disables static files. */
  dashboardDir?: string | null;
  /** pino logger (the server passes its own); default: no logging. */
  logger?: FastifyBaseLogger;
  /** WebSocket batching interval in ms (default 100). */
  tickMs?: number;
  /** Snapshot interval in ms (default 1000). */
  snapshotMs?: number;
  /** The alert webhook's counters, when one is configured (for /metrics). */
  webhookStats?: () => WebhookStats;
  /**
   * When route schemas are compiled: `'first-use'` (the default, see {@link lazyCompilers}) or `'start'`, as
   * fastify does when given no compilers, so that a schema ajv cannot compile fails `ready()` rather than
   * its route's requests (the test of every route's schemas builds the app this way).
   */
  compileSchemas?: 'first-use' | 'start';
}

type ValidatorFactory = ReturnType<typeof AjvCompiler>;
type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Validator = ReturnType<ReturnType<ValidatorFactory>>;

/**
 * fastify's own schema compilers (the ones it uses when given none), each route's schema compiled when the
 * route first validates or serialises, not at start-up: compiling them all, with ajv's meta-schema, was
 * about 0.2 s of CPU of every start before the first frame (docs/performance.md, "Session 12: start-up");
 * now a route's first request pays for its own schemas (the very first also for setting ajv up: tens of
 * ms in all). Same options, same errors, same output; a schema ajv cannot compile now fails its route's
 * requests instead of the start (the daemon's are fixed and tested).
 */
export function lazyCompilers(): { buildValidator: ValidatorFactory; buildSerializer: SerializerFactory } {
  const validators = AjvCompiler();
  const serializers = SerializerSelector();
  const buildValidator = ((externalSchemas, options) => {
    let compile: ReturnType<ValidatorFactory> | undefined;
    return (route) => {
      let validate: Validator | undefined;
      const lazy = ((data: unknown, context?: unknown) => {
        validate ??= (compile ??= validators(externalSchemas, options))(route);
        const valid = (validate as (data: unknown, context?: unknown) => unknown)(data, context);
        lazy.errors = validate.errors;
        return valid;
      }) as unknown as Validator;
      // fastify hands an ajv function (one with `schemaEnv`) the request as the data's parent, so that
      // coercion can replace the value itself; every function ajv compiles has it.
      (lazy as unknown as { schemaEnv: boolean }).schemaEnv = true;
      return lazy;
    };
  }) as ValidatorFactory;
  const buildSerializer: SerializerFactory = (externalSchemas, options) => {
    let compile: ReturnType<SerializerFactory> | undefined;
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined;
      return (doc) => (serialize ??= (compile ??= serializers(externalSchemas, options))(route))(doc);
    };
  };
  return { buildValidator, buildSerializer };
}

/** Builds the daemon's fastify app from its plugins, without listening (tests use inject / injectWS). */
export async function buildApp<R, F = SubscriptionFilter>(options: AppOptions<R, F>): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger !== undefined ? { loggerInstance: options.logger } : { logger: false }),
    // Per-request lines would drown the lifecycle log; the dashboard and scrapers poll.
    logController: new LogController({ disableRequestLogging: true }),
    // Responses are small views; a slow client must not hold sockets open forever.
    connectionTimeout: 0,
    forceCloseConnections: true,
    ...(options.compileSchemas === 'start' ? {} : { schemaController: { compilersFactory: lazyCompilers() } }),
  }) as unknown as FastifyInstance;
  // A query string or path parameter that fails its generated schema (request-validation.ts) is answered
  // 400 in the daemon's error shape, naming the part and the rule: `querystring/full must be equal to ...`.
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err.validation !== undefined) return reply.code(400).send({ error: err.message });
    return reply.send(err);
  });
  // Registered on the root so that `injectWS` is available to tests; client messages are small subscriptions.
  // Before the security hooks: its own onRequest hook marks upgrade requests, so that a refused upgrade's
  // socket is destroyed after the 403 instead of lingering (and holding up shutdown).
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(securityPlugin, {
    token: options.token,
    allowedOrigins: options.allowedOrigins,
    listenHost: options.listenHost,
    allowHosts: options.allowHosts,
  });
  await app.register(apiPlugin, { model: options.model });
  await app.register(recordPlugin, { model: options.model });
  await app.register(seriesPlugin, { model: options.model });
  await app.register(historyPlugin, { model: options.model });
  await app.register(pcapPlugin, { model: options.model });
  await app.register(alertsPlugin, { model: options.model });
  await app.register(metricsPlugin, {
    model: options.model,
    hubStats: () => options.hub.stats(),
    hubClients: () => options.hub.clientInfo(),
    ...(options.webhookStats !== undefined ? { webhookStats: options.webhookStats } : {}),
  });
  await app.register(wsPlugin<R, F>(), {
    model: options.model,
    hub: options.hub,
    subscription: options.subscription,
    version: options.version,
    tickMs: options.tickMs ?? 100,
    snapshotMs: options.snapshotMs ?? 1000,
  });
  await app.register(dashboardPlugin, {
    dir: options.dashboardDir === undefined ? DEFAULT_DASHBOARD_DIR : options.dashboardDir,
  });
  return app;
}
