/**
 * The command-line options of sensor and central modes (`--publish`, `--subscribe` and the NATS security
 * options), kept apart from cli.ts. Secrets may also come from the environment, so that they appear in no
 * process listing: CA_SHARKD_NATS_USER, CA_SHARKD_NATS_PASS, CA_SHARKD_NATS_TOKEN.
 */
import { DaemonError } from '../errors.js';
import { DEFAULT_STREAM_LIMITS, type NatsSettings, SENSOR_NAME } from './settings.js';

/** What a sensor or a central needs. */
export interface NatsConfig {
  role: 'sensor' | 'central';
  settings: NatsSettings;
  /** Sensor: its name (the subject token of its records). */
  sensor?: string;
  /** Central: only these sensors (empty: all). */
  sensors: string[];
  /** Central: durable consumer name. */
  durable: string;
  /** Sensor: bytes of batches kept while NATS does not take them. */
  bufferBytes: number;
}

/** parseArgs options of NATS modes. */
export const NATS_OPTIONS = {
  publish: { type: 'string' },
  sensor: { type: 'string' },
  'no-dashboard': { type: 'boolean' },
  subscribe: { type: 'string' },
  sensors: { type: 'string' },
  'central-name': { type: 'string' },
  'publish-buffer': { type: 'string' },
  'stream-max-age': { type: 'string' },
  'stream-max-bytes': { type: 'string' },
  'nats-creds': { type: 'string' },
  'nats-user': { type: 'string' },
  'nats-pass': { type: 'string' },
  'nats-token': { type: 'string' },
  'nats-tls-ca': { type: 'string' },
} as const;

/** The `--help` section. */
export const NATS_USAGE = `
Facility (NATS JetStream; see docs/deployment.md):
      --publish URL       sensor: also publish every decoded record to NATS at URL
                          (nats://HOST:4222), on subject ca-shark.records.NAME
      --sensor NAME       the sensor's name (letters, digits, - and _), shown by the central
      --no-dashboard      sensor: serve no local dashboard or API
      --publish-buffer SIZE  records kept while NATS is unreachable (default 64M)
      --sensors A,B       central: only these sensors (default: every sensor)
      --central-name NAME central: durable consumer name (default central); centrals with
                          different names each get every record
      --stream-max-age D  records stream limit when this daemon creates it (default 24h; s, m, h, d)
      --stream-max-bytes SIZE  records stream size limit (default 8G)
      --nats-user USER    NATS user ($CA_SHARKD_NATS_USER); password with --nats-pass or
                          $CA_SHARKD_NATS_PASS
      --nats-token TOKEN  NATS token ($CA_SHARKD_NATS_TOKEN)
      --nats-creds FILE   NATS credentials file (JWT and NKey seed)
      --nats-tls-ca FILE  verify the NATS server's TLS certificate against this CA (use tls://)
`;

type Values = {
  [K in keyof typeof NATS_OPTIONS]?: (typeof NATS_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** Parses "24h", "30m", "90s", "7d" into ms. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (m === null) throw new DaemonError('usage', `bad ${option} ${JSON.stringify(text)}: use e.g. 90s, 30m, 24h or 7d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function parseSizeText(text: string, option: string): number {
  const m = /^(\d+)([kKmMgG]?)[bB]?$/.exec(text.trim());
  if (m === null) throw new DaemonError('usage', `bad ${option} ${JSON.stringify(text)}: use a size like 64M or 8G`);
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
}

function checkUrl(url: string, option: string): string[] {
  const servers = url.split(',').map((s) => s.trim());
  for (const s of servers) {
    if (!/^(nats|tls):\/\/[^/\s]+$/.test(s) && !/^[^/\s:]+:\d+$/.test(s))
      throw new DaemonError('usage', `bad ${option}: expected nats://HOST:PORT (or tls://HOST:PORT), comma-separated`);
  }
  return servers;
}

function checkSensor(name: string, option: string): string {
  if (!SENSOR_NAME.test(name))
    throw new DaemonError('usage', `bad ${option} ${JSON.stringify(name)}: use letters, digits, - and _ (at most 64)`);
  return name;
}

/** The NATS part of the configuration, or undefined on a single host; checks the combinations. */
export function natsConfig(v: Values, mode: string, env: NodeJS.ProcessEnv): NatsConfig | undefined {
  const sensorOnly = (['sensor', 'no-dashboard', 'publish-buffer'] as const).filter((o) => v[o] !== undefined);
  const centralOnly = (['sensors', 'central-name'] as const).filter((o) => v[o] !== undefined);
  if (v.publish === undefined && sensorOnly.length > 0)
    throw new DaemonError('usage', `--${sensorOnly[0]} needs --publish URL`);
  if (v.subscribe === undefined && centralOnly.length > 0)
    throw new DaemonError('usage', `--${centralOnly[0]} needs --subscribe URL`);
  if (v.publish === undefined && v.subscribe === undefined) {
    const stray = Object.keys(NATS_OPTIONS).find((o) => v[o as keyof Values] !== undefined);
    if (stray !== undefined) throw new DaemonError('usage', `--${stray} needs --publish or --subscribe`);
    return undefined;
  }
  if (v.publish !== undefined && mode === 'central')
    throw new DaemonError('usage', 'a daemon is a sensor (--publish) or a central (--subscribe), not both');
  if (v.publish !== undefined && v.sensor === undefined)
    throw new DaemonError('usage', '--publish needs --sensor NAME (the name the central shows)');
  const user = v['nats-user'] ?? env.CA_SHARKD_NATS_USER;
  const pass = v['nats-pass'] ?? env.CA_SHARKD_NATS_PASS;
  const token = v['nats-token'] ?? env.CA_SHARKD_NATS_TOKEN;
  if ((user === undefined) !== (pass === undefined))
    throw new DaemonError('usage', 'NATS user and password go together: --nats-user and --nats-pass');
  const url = (v.publish ?? v.subscribe) as string;
  const settings: NatsSettings = {
    servers: checkUrl(url, v.publish !== undefined ? '--publish' : '--subscribe'),
    ...(user !== undefined && user !== '' ? { user } : {}),
    ...(pass !== undefined && pass !== '' ? { pass } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(v['nats-creds'] !== undefined ? { credsFile: v['nats-creds'] } : {}),
    ...(v['nats-tls-ca'] !== undefined ? { tlsCa: v['nats-tls-ca'] } : {}),
    stream: {
      maxAgeMs:
        v['stream-max-age'] !== undefined
          ? parseDuration(v['stream-max-age'], '--stream-max-age')
          : DEFAULT_STREAM_LIMITS.maxAgeMs,
      maxBytes:
        v['stream-max-bytes'] !== undefined
          ? parseSizeText(v['stream-max-bytes'], '--stream-max-bytes')
          : DEFAULT_STREAM_LIMITS.maxBytes,
    },
  };
  const sensors = (v.sensors ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => checkSensor(s, '--sensors'));
  return {
    role: v.publish !== undefined ? 'sensor' : 'central',
    settings,
    ...(v.sensor !== undefined ? { sensor: checkSensor(v.sensor, '--sensor') } : {}),
    sensors,
    durable: checkSensor(v['central-name'] ?? 'central', '--central-name'),
    bufferBytes:
      v['publish-buffer'] !== undefined ? parseSizeText(v['publish-buffer'], '--publish-buffer') : 64 * 1024 ** 2,
  };
}
