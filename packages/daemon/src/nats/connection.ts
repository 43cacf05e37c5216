/**
 * NATS connection settings shared by sensor and central: servers, credentials and TLS, and the JetStream
 * stream both sides agree on. Secrets (password, token, creds) go to the client and nowhere else: what is
 * logged is {@link describeServers}, which drops any user information from the URLs.
 */
import { readFileSync } from 'node:fs';
import {
  type ConnectionOptions,
  DiscardPolicy,
  type JetStreamManager,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
  connect,
  credsAuthenticator,
  nanos,
} from 'nats';
import type { Logger } from 'pino';
import { DaemonError } from '../errors.js';
import type { NatsSettings, StreamLimits } from './settings.js';

// The settings live in settings.ts, which the command line parses without loading the NATS client.
export { DEFAULT_STREAM_LIMITS, type NatsSettings, SENSOR_NAME, type StreamLimits } from './settings.js';

/** The JetStream stream of every sensor's records. */
export const STREAM_NAME = 'CA_SHARK';
/** Subject of a sensor's records; the stream holds `ca-shark.records.>`. */
export const RECORDS_PREFIX = 'ca-shark.records';
/** Subject of a sensor's status (core NATS, once a second; not stored). */
export const STATUS_PREFIX = 'ca-shark.status';

/** Subject of `sensor`'s record batches. */
export const recordsSubject = (sensor: string): string => `${RECORDS_PREFIX}.${sensor}`;
/** Subject of `sensor`'s status. */
export const statusSubject = (sensor: string): string => `${STATUS_PREFIX}.${sensor}`;

/** Publishes with the same message id within this window are stored once (retries after a lost ack). */
const DUPLICATE_WINDOW_MS = 120_000;

/** The servers as they may be logged: scheme, host and port only. */
export function describeServers(servers: readonly string[]): string {
  return servers
    .map((s) => {
      try {
        const url = new URL(s.includes('://') ? s : `nats://${s}`);
        return `${url.protocol}//${url.host}`;
      } catch {
        return '(unparsable NATS URL)';
      }
    })
    .join(',');
}

/** Client options for `settings`; `name` identifies this daemon in the server's monitoring. */
export function connectionOptions(settings: NatsSettings, name: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.servers,
    name,
    // A sensor must outlive any NATS outage: it buffers and reconnects for ever.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 5000,
  };
  if (settings.user !== undefined) options.user = settings.user;
  if (settings.pass !== undefined) options.pass = settings.pass;
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(settings.credsFile);
    } catch (err) {
      throw new DaemonError(
        'usage',
        `cannot read --nats-creds ${settings.credsFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    options.authenticator = credsAuthenticator(creds);
  }
  if (settings.tlsCa !== undefined) options.tls = { caFile: settings.tlsCa };
  return options;
}

/** First wait between connection attempts; it doubles up to {@link CONNECT_RETRY_MAX_MS}. */
const CONNECT_RETRY_MS = 500;
const CONNECT_RETRY_MAX_MS = 5000;
/** A reason already logged is logged again after this long, so a long outage stays visible. */
const CONNECT_RELOG_MS = 60_000;
/** Refusals no retry can cure: the daemon's credentials are wrong. */
const PERMANENT_REFUSAL = /authorization violation|authentication|permissions violation/i;

/** What {@link connectNats} needs besides the settings. */
export interface ConnectControl {
  /** Where failed attempts are reported (never with the settings: they may hold secrets). */
  log: Pick<Logger, 'warn' | 'info'>;
  /** True once the daemon shuts down: attempts stop and the promise rejects. */
  isClosed: () => boolean;
}

/**
 * Connects, retrying until NATS answers (the promise resolves only then). Each attempt is a plain first
 * connect so that its failure (refused, unreachable, a certificate that does not verify) is logged with its
 * reason rather than retried in silence; a refusal of the credentials is final and rejects at once.
 */
export async function connectNats(
  settings: NatsSettings,
  name: string,
  control: ConnectControl,
): Promise<NatsConnection> {
  const options: ConnectionOptions = { ...connectionOptions(settings, name), waitOnFirstConnect: false };
  const servers = describeServers(settings.servers);
  let wait = CONNECT_RETRY_MS;
  let logged = '';
  let loggedAt = 0;
  let failures = 0;
  for (;;) {
    if (control.isClosed()) throw new Error('closed before NATS answered');
    try {
      const nc = await connect(options);
      if (failures > 0) control.log.info({ nats: servers, attempts: failures + 1 }, 'connected to NATS');
      return nc;
    } catch (err) {
      const reason = (err as Error).message;
      if (PERMANENT_REFUSAL.test(reason)) throw err;
      failures += 1;
      const now = Date.now();
      if (reason !== logged || now - loggedAt >= CONNECT_RELOG_MS) {
        control.log.warn({ nats: servers, err: reason, attempts: failures }, 'cannot connect to NATS yet: retrying');
        logged = reason;
        loggedAt = now;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, wait).unref());
    wait = Math.min(wait * 2, CONNECT_RETRY_MAX_MS);
  }
}

/** Creates the records stream, or leaves an existing one as it is (an operator may have tuned it). */
export async function ensureStream(jsm: JetStreamManager, limits: StreamLimits): Promise<void> {
  try {
    await jsm.streams.info(STREAM_NAME);
    return;
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
  }
  await jsm.streams
    .add({
      name: STREAM_NAME,
      subjects: [`${RECORDS_PREFIX}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    })
    .catch((err: unknown) => {
      // Another daemon created it in the meantime.
      if (!/already in use/i.test((err as Error).message)) throw err;
    });
}
