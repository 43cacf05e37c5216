import { describe, expect, it } from 'vitest';
import { type AckFetch, acknowledge, ackUrl, sinceAck, withLocalAcks } from './alerts.js';
import type { AlertRow } from './contract.js';

const row = (key: string, count: number, acknowledged: AlertRow['acknowledged'] = null): AlertRow => ({
  key,
  kind: 'search-storm',
  subject: key.split(' ')[1] ?? '',
  severity: 'warn',
  message: 'm',
  firstSeen: 1,
  lastSeen: 2,
  count,
  acknowledged,
});

describe('alert acknowledgement', () => {
  it('posts to /api/alerts/ack beside the page with its token', () => {
    expect(ackUrl({ origin: 'http://h:8080', pathname: '/shark/index.html', search: '?token=a b' })).toBe(
      'http://h:8080/shark/api/alerts/ack?token=a+b',
    );
    expect(ackUrl({ origin: 'http://h', pathname: '/', search: '' })).toBe('http://h/api/alerts/ack');
  });

  it('sends the key as JSON and reports the daemon refusal or an unreachable daemon', async () => {
    const calls: { url: string; body: string }[] = [];
    const ok: AckFetch = async (url, init) => {
      calls.push({ url, body: init.body });
      return { ok: true, status: 200, json: async () => ({ acknowledged: 'k' }) };
    };
    expect(await acknowledge(ok, '/api/alerts/ack', 'search-storm a:b')).toBeNull();
    expect(calls).toEqual([{ url: '/api/alerts/ack', body: '{"key":"search-storm a:b"}' }]);
    const gone: AckFetch = async () => ({
      ok: false,
      status: 404,
      json: async () => ({ error: 'no alert "x" is held' }),
    });
    expect(await acknowledge(gone, '/u', 'x')).toBe('no alert "x" is held');
    const down: AckFetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await acknowledge(down, '/u', 'x')).toBe('could not reach the daemon: Failed to fetch');
  });

  it('shows a local acknowledgement until the snapshot carries it, and what came since', () => {
    const rows = [row('search-storm a', 5), row('search-storm b', 9, { at: 3, count: 4 })];
    const shown = withLocalAcks(rows, new Map([['search-storm a', 7]]));
    expect(shown[0].acknowledged).toEqual({ at: 7, count: 5 });
    expect(shown[1].acknowledged).toEqual({ at: 3, count: 4 });
    expect(sinceAck(shown[1])).toBe('+5 since');
    expect(sinceAck(shown[0])).toBe('');
    expect(sinceAck(rows[0])).toBe('');
  });
});
