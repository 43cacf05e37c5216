import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRequestsSchema, REQUESTS_SCHEMA_FILE } from '../scripts/request-schema.js';
import { parseClientMessage, parseSubscription } from './request-validation.js';

describe('schema/requests.schema.json', () => {
  it('is what the types in requests.ts generate (run `pnpm --filter @ca-shark/daemon run schema`)', () => {
    const committed: unknown = JSON.parse(readFileSync(REQUESTS_SCHEMA_FILE, 'utf8'));
    expect(committed).toEqual(generateRequestsSchema());
  }, 60_000);
});

describe('client messages, validated by the generated definitions', () => {
  it('accepts every message the page and docs/websocket.md send', () => {
    for (const m of [
      { type: 'subscribe', filter: { pv: ['sim:*'], host: ['10.0.0.0/8'], command: ['monitor'], errors: true } },
      { type: 'subscribe', filter: null },
      { type: 'subscribe' },
      { type: 'pause' },
      { type: 'resume' },
      { type: 'rate', recordsPerSecond: 500 },
      { type: 'record', id: 17 },
    ])
      expect(parseClientMessage(m)).toEqual(m);
  });

  it.each([
    [[], 'message must be an object'],
    [{}, "message must have required property 'type'"],
    [{ type: 'unsubscribe' }, 'unknown message type "unsubscribe"'],
    [{ type: 7 }, 'unknown message type 7'],
    [{ type: 'pause', now: true }, 'unknown field "now" in message'],
    [{ type: 'subscribe', filter: { pv: 'a' } }, 'filter.pv must be an array'],
    [{ type: 'subscribe', filter: { pv: ['a', 3] } }, 'filter.pv[1] must be a string'],
    [{ type: 'subscribe', filter: { pvs: ['a'] } }, 'unknown field "pvs" in filter'],
    [{ type: 'subscribe', filter: { errors: 'yes' } }, 'filter.errors must be a boolean'],
    [{ type: 'rate' }, "message must have required property 'recordsPerSecond'"],
    [{ type: 'rate', recordsPerSecond: '10' }, 'recordsPerSecond must be a number'],
    [{ type: 'record', id: 1.5 }, 'id must be an integer'],
    [{ type: 'record', id: 0 }, 'id must be >= 1'],
  ])('refuses %j: %s', (message, error) => {
    expect(() => parseClientMessage(message)).toThrow(new TypeError(error));
  });

  it('drops empty criteria from a subscription', () => {
    expect(parseSubscription({ pv: [], host: ['10.0.0.1'], errors: false })).toEqual({ host: ['10.0.0.1'] });
    expect(parseSubscription(undefined)).toEqual({});
  });
});
