/**
 * Request validation from the definitions generated from `requests.ts` (schema/requests.schema.json):
 * fastify route schemas for query strings and path parameters (fastify compiles them with its own ajv),
 * and one compiled validator for the messages clients send over `/ws`. No hand-written checks.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ClientMessage, SubscriptionFilter } from './requests.js';

type Definitions = Record<string, Record<string, unknown>>;

/** The generated schema, found beside src/ and dist/ alike. */
const SCHEMA = JSON.parse(readFileSync(new URL('../schema/requests.schema.json', import.meta.url), 'utf8')) as {
  definitions: Definitions;
};

/** Names of the generated definitions this module hands out. */
export type RequestSchemaName = 'ReportQuery' | 'RecordParams';

/**
 * The definition `name` as a standalone schema for a fastify route (`querystring`, `params`): the
 * definitions ride along so its `#/definitions/...` references resolve.
 */
export function requestSchema(name: RequestSchemaName): Record<string, unknown> {
  return { ...SCHEMA.definitions[name], definitions: SCHEMA.definitions };
}

/**
 * The two validators, compiled when the first client message arrives: compiling them (and ajv's meta-schema)
 * at import took tens of ms of the daemon's start-up, before the first frame (docs/performance.md, "Session
 * 12: start-up").
 */
let validators: { message: ValidateFunction<ClientMessage>; filter: ValidateFunction<SubscriptionFilter> } | undefined;
function compiled(): NonNullable<typeof validators> {
  if (validators !== undefined) return validators;
  const ajv = new Ajv({ discriminator: true, allErrors: false, strict: false });
  ajv.addSchema({ $id: 'requests', definitions: SCHEMA.definitions });
  validators = {
    message: ajv.getSchema('requests#/definitions/ClientMessage') as ValidateFunction<ClientMessage>,
    filter: ajv.getSchema('requests#/definitions/SubscriptionFilter') as ValidateFunction<SubscriptionFilter>,
  };
  return validators;
}

/** Longest piece of client input an error reply quotes: enough to recognise it, too short to amplify it. */
export const ECHO_LIMIT = 32;

/** JSON text of a client-supplied value, cut to {@link ECHO_LIMIT} characters. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT)}...`;
}

/** One ajv error as a sentence for the client, e.g. `filter.pv must be array`. */
function describe(error: ErrorObject, root: string): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('');
  const where = (root + path).replace(/^\./, '');
  if (error.keyword === 'additionalProperties')
    return `unknown field ${quote((error.params as { additionalProperty: string }).additionalProperty)} in ${where || 'message'}`;
  if (error.keyword === 'discriminator') {
    return `unknown message type ${quote((error.params as { tagValue: unknown }).tagValue)}`;
  }
  if (error.keyword === 'type') {
    const type = String((error.params as { type: string }).type);
    return `${where || 'message'} must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  }
  return `${where || 'message'} ${error.message ?? 'is invalid'}`;
}

/** A client's `/ws` message, checked against the generated definition; throws a TypeError meant for the client. */
export function parseClientMessage(value: unknown): ClientMessage {
  const validateMessage = compiled().message;
  if (validateMessage(value)) return value;
  throw new TypeError(describe((validateMessage.errors ?? [])[0], ''));
}

/**
 * A client's subscription, checked against the generated definition, with empty criteria dropped;
 * throws a TypeError with a message meant for the client.
 */
export function parseSubscription(value: unknown): SubscriptionFilter {
  if (value === undefined || value === null) return {};
  const validateFilter = compiled().filter;
  if (!validateFilter(value)) throw new TypeError(describe((validateFilter.errors ?? [])[0], 'filter'));
  const out: SubscriptionFilter = {};
  if (value.pv !== undefined && value.pv.length > 0) out.pv = value.pv;
  if (value.host !== undefined && value.host.length > 0) out.host = value.host;
  if (value.command !== undefined && value.command.length > 0) out.command = value.command;
  if (value.errors === true) out.errors = true;
  if (value.sensor !== undefined && value.sensor.length > 0) out.sensor = value.sensor;
  return out;
}
