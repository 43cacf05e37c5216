/**
 * @ca-shark/daemon: the `ca-sharkd` server as a library: build the fastify app (for tests and embedding),
 * start a whole daemon, or use its parts (sources, WebSocket hub).
 */
export { buildApp, type AppOptions } from './app.js';
export { startDaemon, createSource, summaryLine, VERSION, type RunningDaemon, type StartOptions } from './server.js';
export { parseCommandLine, USAGE, type DaemonConfig } from './cli.js';
export { Engine, toWire, type EngineOptions, type WireRecord } from './engine.js';
export { RemoteEngine, type RemoteEngineOptions } from './remote-engine.js';
export {
  Hub,
  DEFAULT_HUB_OPTIONS,
  type HubOptions,
  type HubSocket,
  type HubStats,
  type HubClientInfo,
  type BatchMatches,
  type SubscriptionMatcher,
} from './hub.js';
export { canonicalSubscription, BatchSampler, EVERYTHING } from './subscriptions.js';
export { DaemonError, type DaemonErrorCode } from './errors.js';
export type { DaemonModel } from './model.js';
export type { Source, SourceSink, SourceDescription, CaptureCounters } from './sources/types.js';
export { LiveSource, caFilter } from './sources/live.js';
export { StreamSource } from './sources/stdin.js';
export { FileSource, parseSpeed, type ReplaySpeed } from './sources/file.js';
export { DemoSource } from './sources/demo.js';
export { originAllowed } from './plugins/security.js';
export { parseSubscription, type SubscriptionFilter } from './plugins/ws.js';
export type * from './views.js';
