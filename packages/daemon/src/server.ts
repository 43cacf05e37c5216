import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { STDIN_FD, STDIN_LABEL, examineDescriptor, inputErrorLine } from '@ca-shark/packet';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebhookNotifier } from './alerts/webhook.js';
import { type DaemonConfig, exposureWarning } from './cli.js';
import type { WireRecord } from './engine.js';
import type { RecordRingOptions } from './record-ring.js';
import { RemoteEngine, type RemoteEngineOptions } from './remote-engine.js';
import { DaemonError } from './errors.js';
import { Hub, type HubOptions } from './hub.js';
import { checkUser, dropPrivileges } from './privileges.js';
import { FileSource } from './sources/file.js';
import { DescriptorSource, StreamSource } from './sources/stdin.js';
import type { Source } from './sources/types.js';
import { DEFAULT_SPOOL_BYTES, Spool, type SpoolStatus } from './sources/spool.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import { canonicalSubscription } from './subscriptions.js';
import type { NatsParts } from './nats/wiring.js';
import type { SensorPublisher } from './nats/publisher.js';

// Live capture (the libpcap addon), the demo's simulator, NATS, the alert webhook and the HTTP server itself
// are imported when the configuration asks for them, the server once the decoding worker is on its way: a
// daemon reading a file loads none of the first four, and its worker starts before fastify is loaded
// (docs/performance.md, "Session 12: start-up").

/** The daemon's version (from its package.json). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Test and embedding knobs of {@link startDaemon}. */
export interface StartOptions {
  /** Input of --stdin (default the daemon's stdin, see {@link stdinSource}). */
  input?: NodeJS.ReadableStream;
  tickMs?: number;
  snapshotMs?: number;
  hub?: Partial<HubOptions>;
  /** Bounds of the ring of streamed records behind `GET /api/record/:id`. */
  recordRing?: Partial<RecordRingOptions>;
  /** Flow-control bounds of the decoding worker (tests shrink them far below a capture's size). */
  engine?: Pick<RemoteEngineOptions, 'maxInFlightBytes' | 'maxDecoderLagMs' | 'minLagDropBytes' | 'pullWindowBytes'>;
}

/** A running daemon. */
export interface RunningDaemon {
  app: FastifyInstance;
  /** The decoding worker's main-thread side (model of the app, sink of the source). */
  engine: RemoteEngine;
  hub: Hub<WireRecord, SubscriptionFilter>;
  source: Source;
  /** A sensor's NATS publisher (--publish). */
  publisher?: SensorPublisher;
  /** Address actually bound, e.g. http://127.0.0.1:8080 ('' with --no-dashboard). */
  url: string;
  /** Stops capture and server; resolves with the summary line. Idempotent. */
  shutdown(reason: string): Promise<string>;
}

/** Builds the source the configuration asks for. */
export async function createSource(
  config: DaemonConfig,
  logger: Logger,
  input?: NodeJS.ReadableStream,
): Promise<Source> {
  switch (config.mode) {
    case 'live':
    case 'demo': {
      const { caFilter, LiveSource } = await import('./sources/live.js');
      // With an ephemeral HTTP port (0) the port is unknown until listen(), after the capture opened.
      const filter =
        config.filter ?? caFilter(config.serverPort, config.repeaterPort, config.port === 0 ? undefined : config.port);
      const capture = {
        ...(config.snaplen !== undefined ? { snaplen: config.snaplen } : {}),
        ...(config.bufferSize !== undefined ? { bufferSize: config.bufferSize } : {}),
      };
      if (config.mode === 'live') return new LiveSource({ iface: config.iface as string, filter, ...capture });
      const { DemoSource } = await import('./sources/demo.js');
      return new DemoSource({
        iface: config.iface ?? 'lo',
        filter,
        serverPort: config.serverPort,
        repeaterPort: config.repeaterPort,
        logger,
        ...capture,
      });
    }
    case 'stdin': {
      const stream = input as import('node:stream').Readable | undefined;
      const descriptor = stream === undefined ? stdinKind() : undefined;
      const { spool, unmade } = stdinSpool(config, logger);
      const source =
        stream !== undefined
          ? new StreamSource(stream, undefined, spool)
          : descriptor !== undefined
            ? new DescriptorSource(STDIN_FD, descriptor, undefined, spool)
            : new StreamSource(process.stdin, undefined, spool);
      // `stats.spool` says it, and the page's status bar flags it as it flags a stopped one.
      source.spoolUnmade = unmade;
      return source;
    }
    case 'file':
      return new FileSource(config.file as string, config.speed);
    case 'central':
      return (await import('./nats/wiring.js')).centralSource(config, logger) as Source;
    default:
      throw new DaemonError('usage', `mode ${config.mode} has no source`);
  }
}

/**
 * How the daemon reads its stdin: a pipe or a redirected file by the daemon itself into a reused buffer
 * (DescriptorSource); a terminal, a socket, or a descriptor that cannot be examined (undefined), through
 * `process.stdin`.
 * `process.stdin` is not touched before that choice: making it would switch a pipe to non-blocking mode.
 */
function stdinKind(): 'pipe' | 'file' | undefined {
  const { kind } = examineDescriptor(STDIN_FD);
  // `ca-sharkd --stdin < DIR`: node's stream would read it as empty ("empty input: no capture header").
  // Refused at start in the words of `-r DIR`, as an input that cannot open.
  if (kind === 'directory') throw new DaemonError('unreadable-file', inputErrorLine(STDIN_LABEL, 'is a directory'));
  return kind === 'pipe' || kind === 'file' ? kind : undefined;
}

/**
 * Stdin's spool (sources/spool.ts) in `--spool-dir` or the system's temporary directory, unless the packet
 * ring keeps nothing or `--spool-dir none`; when it cannot be made, one warning, and the ring keeps the
 * packets in memory.
 */
function stdinSpool(config: DaemonConfig, logger: Logger): { spool?: Spool; unmade?: SpoolStatus } {
  const bytes = config.packetRing ?? DEFAULT_SPOOL_BYTES;
  if (bytes === 0 || config.spoolDir === null) return {};
  const dir = config.spoolDir ?? tmpdir();
  const warn = (reason: string, what: string): void => logger.warn({ dir, reason }, what);
  let spool: Spool;
  try {
    spool = Spool.open({
      dir,
      bytes,
      onStop: (reason) =>
        warn(reason, 'stdin spool stopped: the packets of later messages are kept in memory (--packet-ring)'),
    });
  } catch (err) {
    const reason = (err as Error).message;
    warn(reason, 'cannot spool stdin to disk: the packets are kept in memory (--packet-ring)');
    return { unmade: { dir, bytes, bytesWritten: 0, tmpfs: false, stopped: reason, unmade: true } };
  }
  // Said where the user sees it: the spool takes up to `bytes` of that directory's file system.
  if (spool.inMemory) logger.warn({ dir, bytes }, STDIN_SPOOL_IN_MEMORY);
  else logger.info({ dir, bytes }, 'stdin spooled to disk for /api/pcap (--spool-dir)');
  return { spool };
}

/** The warning of a spool made on a tmpfs (a /tmp mounted so, by default on several distributions). */
export const STDIN_SPOOL_IN_MEMORY =
  'stdin spool is on a tmpfs, which keeps it in memory (up to --packet-ring bytes): give --spool-dir a directory on disk';

/** Formats the capture summary printed at shutdown. */
export function summaryLine(engine: RemoteEngine, hub: Hub<WireRecord, SubscriptionFilter>): string {
  const s = engine.stats();
  const h = hub.stats();
  return (
    `ca-sharkd: ${s.packets} packets (${s.bytes} bytes), ${s.messages} CA messages (${s.malformed} malformed); ` +
    `libpcap received ${s.capture.received}, dropped ${s.capture.dropped + s.capture.ifDropped}; ` +
    (s.decoderDropped > 0 ? `${s.decoderDropped} frames dropped because decoding fell behind; ` : '') +
    `WebSocket: ${h.sent} records sent, ${h.sampledOut} sampled out for clients that could not take them all`
  );
}

/**
 * Starts the daemon: opens the source (failing early with a one-line DaemonError), drops privileges,
 * builds and starts the HTTP server, and wires the periodic work. Signal handling is the caller's.
 */
export async function startDaemon(
  config: DaemonConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningDaemon> {
  // A misspelt --user, or one the daemon cannot switch to, fails before anything is opened or bound.
  if (config.user !== undefined) checkUser(config.user);
  const source = await createSource(config, logger, options.input);
  let nats: NatsParts;
  let hub: Hub<WireRecord, SubscriptionFilter>;
  let webhook: WebhookNotifier | undefined;
  let engine: RemoteEngine;
  // A failure before the worker is made releases what the source holds for it (stdin's spool: an embedder
  // that starts again would otherwise keep its descriptor); each later step's failure releases it below.
  try {
    ({ nats, hub, webhook, engine } = await wireEngine(config, logger, options, source));
  } catch (err) {
    source.release?.();
    throw err;
  }
  // The worker loads on its own thread (a few hundred ms); the HTTP server is loaded and built on this one
  // meanwhile, not after it. Nothing listens until the capture is open.
  const built = buildServer(config, engine, hub, webhook, options, logger);
  // Caught here too: a failure while the worker loads is thrown below, not reported as unhandled first.
  built.catch(() => undefined);
  try {
    // Frames would only queue up while the worker loads; start capturing when it can decode.
    await engine.ready();
    await source.start(engine);
  } catch (err) {
    await engine.close();
    source.release?.();
    await built.then(
      (app) => app.close(),
      () => undefined,
    );
    throw err;
  }
  const described = engine.source();
  logger.info({ ...described }, 'capture source open');

  let app: FastifyInstance;
  try {
    app = await built;
    await registerSensors(app, config, source, nats);
  } catch (err) {
    await source.stop();
    await engine.close();
    source.release?.();
    throw err;
  }
  let url = '';
  try {
    // A sensor with --no-dashboard only publishes.
    if (!config.noDashboard) url = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await source.stop();
    await engine.close();
    source.release?.();
    throw new DaemonError('listen-failed', `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  const exposure = exposureWarning(config);
  if (exposure !== undefined)
    logger.warn({ host: config.host, port: config.port, token: config.token !== undefined }, exposure);
  if (config.user !== undefined) {
    const ids = dropPrivileges(config.user);
    logger.info({ user: config.user, ...ids }, 'dropped root privileges');
  }
  if (!config.noDashboard) logger.info({ url, dashboard: `${url}/` }, 'ca-sharkd serving');

  const poll = setInterval(() => engine.poll(), 1000);
  poll.unref();
  let done: Promise<string> | undefined;
  const shutdown = (reason: string): Promise<string> => {
    done ??= (async () => {
      logger.info({ reason }, 'shutting down');
      clearInterval(poll);
      webhook?.close();
      await source
        .stop()
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'source did not stop cleanly'));
      engine.poll();
      // A sensor's last records leave the worker with its final batch, then the publisher drains.
      if (nats.publisher !== undefined) engine.end();
      await engine.close();
      source.release?.();
      const unsent = await nats.publisher?.close();
      if (unsent !== undefined) logger.info({ ...nats.publisher?.counters, unsent }, 'publisher closed');
      // One last batch so clients see the final records before the socket closes.
      hub.tick();
      await app.close();
      const published = nats.publisher?.counters;
      const line =
        summaryLine(engine, hub) +
        (published !== undefined ? `; NATS: ${published.published} records published, ${published.unsent} unsent` : '');
      logger.info({ ...engine.stats(), websocket: hub.stats() }, 'capture summary');
      return line;
    })();
    return done;
  };
  return {
    app,
    engine,
    hub,
    source,
    url,
    shutdown,
    ...(nats.publisher !== undefined ? { publisher: nats.publisher } : {}),
  };
}

/** The parts of a daemon made between its source and its start: NATS, the hub, the webhook, the worker. */
async function wireEngine(
  config: DaemonConfig,
  logger: Logger,
  options: StartOptions,
  source: Source,
): Promise<{
  nats: NatsParts;
  hub: Hub<WireRecord, SubscriptionFilter>;
  webhook: WebhookNotifier | undefined;
  engine: RemoteEngine;
}> {
  // Sensor: a publisher fed by the worker's record batches; central: the worker replays batches.
  const nats: NatsParts =
    config.nats === undefined
      ? { engine: {} }
      : (await import('./nats/wiring.js')).natsParts(config, logger, () => engine);
  const hub = new Hub<WireRecord, SubscriptionFilter>((r) => r, {
    ...options.hub,
    // Records a client was sent stay fetchable (GET /api/record/:id) for longer than the rest.
    onSent: (records) => engine.sent(records),
    onHistoryCancel: (request) => engine.cancelHistory(request),
  });
  const webhook: WebhookNotifier | undefined =
    config.alerts.webhook === null
      ? undefined
      : new (await import('./alerts/webhook.js')).WebhookNotifier(
          config.alerts.webhook,
          logger.child({ webhook: true }),
        );
  const engine = new RemoteEngine({
    source,
    hub,
    logger,
    logLevel: config.logLevel,
    alerts: config.alerts,
    ...(webhook !== undefined ? { onAlert: (notice) => webhook.notify(notice) } : {}),
    decoder: { serverPort: config.serverPort, repeaterPort: config.repeaterPort },
    ...(options.recordRing !== undefined ? { recordRing: options.recordRing } : {}),
    // The held records' full chunks go to --spool-dir too (history-spool.ts; the worker's default: tmpdir).
    ...(config.history !== undefined || config.spoolDir !== undefined
      ? { history: { ...config.history, ...(config.spoolDir !== undefined ? { spoolDir: config.spoolDir } : {}) } }
      : {}),
    ...(config.packetRing !== undefined ? { packetRing: config.packetRing } : {}),
    ...(config.snaplen !== undefined ? { snaplen: config.snaplen } : config.mode === 'live' ? { snaplen: 262144 } : {}),
    ...(config.maxDecoderLagMs !== undefined ? { maxDecoderLagMs: config.maxDecoderLagMs } : {}),
    ...(config.holdDecoderLagMs !== undefined ? { holdDecoderLagMs: config.holdDecoderLagMs } : {}),
    ...(config.decoderNice !== undefined ? { decoderNice: config.decoderNice } : {}),
    // Live traffic cannot wait for a cold worker; a file or stdin does, and a central replays records.
    warmUp: config.mode === 'live' || config.mode === 'demo',
    ...options.engine,
    ...nats.engine,
  });
  return { nats, hub, webhook, engine };
}

/** Loads fastify and builds the daemon's app over the engine (see {@link startDaemon}). */
async function buildServer(
  config: DaemonConfig,
  engine: RemoteEngine,
  hub: Hub<WireRecord, SubscriptionFilter>,
  webhook: WebhookNotifier | undefined,
  options: StartOptions,
  logger: Logger,
): Promise<FastifyInstance> {
  const { buildApp } = await import('./app.js');
  return buildApp<WireRecord>({
    model: engine,
    hub,
    ...(webhook !== undefined ? { webhookStats: () => webhook.stats() } : {}),
    // Checked and made canonical here; matched record by record only in the decoding worker.
    subscription: canonicalSubscription,
    version: VERSION,
    logger,
    ...(config.token !== undefined ? { token: config.token } : {}),
    allowedOrigins: config.allowedOrigins,
    listenHost: config.host,
    allowHosts: config.allowHosts,
    ...(config.dashboardDir !== undefined ? { dashboardDir: config.dashboardDir } : {}),
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    ...(options.snapshotMs !== undefined ? { snapshotMs: options.snapshotMs } : {}),
  });
}

/** Registers `GET /api/sensors`: the sensors of a central, this sensor, or none on a single host. */
async function registerSensors(
  app: FastifyInstance,
  config: DaemonConfig,
  source: Source,
  nats: NatsParts,
): Promise<void> {
  if (config.nats !== undefined) {
    await (await import('./nats/wiring.js')).registerSensors(app, config, source, nats);
    return;
  }
  const { sensorsPlugin } = await import('./nats/plugin.js');
  await app.register(sensorsPlugin, { sensors: () => [] });
}
