/**
 * NATS settings as the command line gives them (nats/cli.ts), apart from connection.ts so that parsing the
 * command line does not load the NATS client (a few dozen modules of the daemon's start-up without NATS).
 */

/** A sensor name is one NATS subject token. */
export const SENSOR_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** How to reach NATS (from the command line and the environment). */
export interface NatsSettings {
  /** nats://HOST:PORT (comma-separated for a cluster). */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** A .creds file (JWT and NKey seed). */
  credsFile?: string;
  /** CA certificate to verify the server with (enables TLS). */
  tlsCa?: string;
  /** Stream limits when this daemon creates the stream. */
  stream: StreamLimits;
}

/** Limits of the records stream: old records go first once either is reached. */
export interface StreamLimits {
  maxAgeMs: number;
  maxBytes: number;
}

/** Default stream limits: a day of records, at most 8 GiB on disk. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxAgeMs: 24 * 3600 * 1000, maxBytes: 8 * 1024 ** 3 };
