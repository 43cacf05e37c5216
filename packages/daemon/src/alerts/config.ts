/**
 * Alert thresholds, severities and notification settings: one JSON file (`--alerts-config FILE`) and a few
 * flags over documented defaults (docs/daemon.md#alerts). The file is checked against a declared JSON
 * schema, so a misspelt key or a wrong type fails at start with one line naming it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { DaemonError } from '../errors.js';

/** How serious an alert is; `off` in a configuration mutes a kind. */
export type Severity = 'info' | 'warn' | 'error';

/** Severities, most serious first. */
export const SEVERITY_ORDER: readonly Severity[] = ['error', 'warn', 'info'];

/** Rank of a severity: 0 for error, 2 for info. */
export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

/**
 * Every alert kind with its default severity. error: data is being lost or clients may talk to the wrong
 * IOC, act now; warn: service is degraded, look today; info: worth knowing, no action needed.
 */
export const DEFAULT_SEVERITIES = {
  'capture-drops': 'error',
  'decoder-drops': 'error',
  'duplicate-pv': 'error',
  'search-storm': 'warn',
  'search-client': 'warn',
  'beacon-restart': 'warn',
  'beacon-network-interruption': 'warn',
  'server-start': 'info',
  'beacon-missed-beacon': 'info',
  'beacon-lost-beacons': 'info',
  'beacon-duplicate-route': 'info',
  'beacon-address-mismatch': 'info',
  'beacon-no-beacons': 'info',
  'multi-path': 'info',
  // A central's alerts about one of its sensors (nats/central.ts); the subject is the sensor's name.
  'sensor-drops': 'error',
  'sensor-unsent': 'error',
  'sensor-silent': 'warn',
} as const satisfies Record<string, Severity>;

/** The kinds of alert the daemon raises. */
export type AlertKind = keyof typeof DEFAULT_SEVERITIES;

/** Outbound notification of new alert groups. */
export interface WebhookConfig {
  /** Where alerts are POSTed as JSON (http or https). */
  url: string;
  /** Least severity notified (default warn). */
  minSeverity: Severity;
  /** Most POSTs per minute; further alerts wait and go out together in the next one (default 6). */
  maxPerMinute: number;
  /** Attempts per POST before its alerts are given up (logged at error; default 5). */
  attempts: number;
  /** First retry delay in seconds, doubled on each further retry (default 1). */
  backoff: number;
  /** Longest retry delay in seconds (default 60). */
  maxBackoff: number;
  /** Seconds a POST may take before it counts as failed (default 10). */
  timeout: number;
  /** Alerts waiting to be sent at most; beyond it the oldest are dropped and counted (default 1000). */
  maxQueued: number;
}

/** Everything that decides which alerts are raised, how they are kept and where they are sent. */
export interface AlertsConfig {
  searchStorm: {
    /**
     * A PV is in a search storm when its searches within the last `window` seconds reach `pvRate` x
     * `window` (default 1/s, i.e. 60 in a minute). A client's first search of each channel is not
     * counted: start-up and reconnection are not storms.
     */
    pvRate: number;
    /** The same for one client process, over all its PVs (default 20/s). */
    clientRate: number;
    /** Seconds over which rates are measured (default 60). */
    window: number;
  };
  /** An acknowledged alert comes back when it recurs after this many seconds of quiet (default 600). */
  reopenAfter: number;
  /** Alert groups kept per severity; beyond it the least recently seen of that severity is forgotten. */
  maxGroups: number;
  /** Severity per kind, overriding {@link DEFAULT_SEVERITIES}; `off` raises nothing of that kind. */
  severity: Partial<Record<AlertKind, Severity | 'off'>>;
  webhook: WebhookConfig | null;
}

export const DEFAULT_WEBHOOK: Omit<WebhookConfig, 'url'> = {
  minSeverity: 'warn',
  maxPerMinute: 6,
  attempts: 5,
  backoff: 1,
  maxBackoff: 60,
  timeout: 10,
  maxQueued: 1000,
};

export const DEFAULT_ALERTS_CONFIG: AlertsConfig = {
  searchStorm: { pvRate: 1, clientRate: 20, window: 60 },
  reopenAfter: 600,
  maxGroups: 200,
  severity: {},
  webhook: null,
};

const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const severityValues = ['info', 'warn', 'error'] as const;

/** The JSON schema of an alerts configuration file (every key optional). */
export const alertsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    searchStorm: {
      type: 'object',
      additionalProperties: false,
      properties: { pvRate: positive, clientRate: positive, window: positive },
    },
    reopenAfter: { type: 'number', minimum: 0 },
    maxGroups: { type: 'integer', minimum: 1 },
    severity: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        Object.keys(DEFAULT_SEVERITIES).map((k) => [k, { enum: [...severityValues, 'off'] }]),
      ),
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        minSeverity: { enum: severityValues },
        maxPerMinute: { type: 'integer', minimum: 1 },
        attempts: { type: 'integer', minimum: 1 },
        backoff: { type: 'number', minimum: 0 },
        maxBackoff: { type: 'number', minimum: 0 },
        timeout: positive,
        maxQueued: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

/** What a configuration file may hold: any part of {@link AlertsConfig}. */
export interface AlertsConfigFile {
  searchStorm?: Partial<AlertsConfig['searchStorm']>;
  reopenAfter?: number;
  maxGroups?: number;
  severity?: AlertsConfig['severity'];
  webhook?: Partial<WebhookConfig> & { url: string };
}

/**
 * Compiled on the first file read (`--alerts-config`), and ajv loaded then: compiled at import it cost
 * every start tens of ms, twice (the main thread and the decoding worker, which imports this module for
 * its severities), and ajv is no part of the worker otherwise. Loaded by `require` to keep this function
 * synchronous.
 */
let validate: ValidateFunction<AlertsConfigFile> | undefined;
function compileValidator(): ValidateFunction<AlertsConfigFile> {
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  return new Ajv({ allErrors: false }).compile<AlertsConfigFile>(alertsConfigSchema);
}

/** Checks a parsed configuration against {@link alertsConfigSchema}; throws a one-line usage error. */
export function checkAlertsConfig(value: unknown, origin: string): AlertsConfigFile {
  validate ??= compileValidator();
  if (validate(value)) return value;
  const e = validate.errors?.[0];
  const where =
    e === undefined ? '' : e.instancePath === '' ? '' : ` at ${e.instancePath.slice(1).replace(/\//g, '.')}`;
  const extra =
    e?.keyword === 'additionalProperties'
      ? `: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
      : e?.keyword === 'enum'
        ? `: one of ${((e.params as { allowedValues: string[] }).allowedValues ?? []).join(', ')}`
        : ` ${e?.message ?? 'is invalid'}`;
  throw new DaemonError('usage', `bad alerts configuration ${origin}${where}${extra} (see docs/daemon.md#alerts)`);
}

/** Reads and checks an alerts configuration file. */
export function readAlertsConfig(file: string): AlertsConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DaemonError(
      'usage',
      `cannot read --alerts-config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DaemonError('usage', `bad alerts configuration ${file}: not JSON (${(err as Error).message})`);
  }
  return checkAlertsConfig(value, file);
}

/** The defaults, then the file's settings, then the flags' (flags win). */
export function resolveAlertsConfig(...layers: (AlertsConfigFile | undefined)[]): AlertsConfig {
  const out: AlertsConfig = {
    ...DEFAULT_ALERTS_CONFIG,
    searchStorm: { ...DEFAULT_ALERTS_CONFIG.searchStorm },
    severity: {},
  };
  for (const layer of layers) {
    if (layer === undefined) continue;
    Object.assign(out.searchStorm, layer.searchStorm);
    if (layer.reopenAfter !== undefined) out.reopenAfter = layer.reopenAfter;
    if (layer.maxGroups !== undefined) out.maxGroups = layer.maxGroups;
    Object.assign(out.severity, layer.severity);
    if (layer.webhook !== undefined) out.webhook = { ...DEFAULT_WEBHOOK, ...out.webhook, ...layer.webhook };
  }
  return out;
}

/** The severity of `kind` under `config`, or null when the kind is turned off. */
export function severityOf(config: AlertsConfig, kind: AlertKind): Severity | null {
  const s = config.severity[kind] ?? DEFAULT_SEVERITIES[kind];
  return s === 'off' ? null : s;
}
