import { describe, expect, it } from 'vitest';
import { ALERT_COLUMNS, type AckFetch, acknowledge, ackUrl, alertWhen, sinceAck, withLocalAcks } from './alerts.js';
import type { AlertRow } from './contract.js';
import { formatClock, formatCount } from './dbr.js';
import { rowHtml } from './row-html.js';
import { sortRows } from './table.js';

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

describe('alert list rows', () => {
  const cellsOf = (html: string): string[] =>
    [...html.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => (m[1] ?? '').replace(/<[^>]*>/g, ''));

  it('draws severity, kind, subject, message, when, count and an Acknowledge button keyed by the group', () => {
    const html = rowHtml(ALERT_COLUMNS, { ...row('search-storm a:b', 1234), lastSeen: 61 });
    expect(cellsOf(html)).toEqual([
      'warn',
      'search-storm',
      'a:b',
      'm',
      `${formatClock(1)} – ${formatClock(61)}`,
      formatCount(1234),
      'Acknowledge',
    ]);
    expect(html).toContain('<td class="warn">warn</td>');
    expect(html).toContain('<td class="what" title="m">m</td>');
    expect(html).toContain('data-ack="search-storm a:b"');
    expect(alertWhen(row('k x', 1))).toBe(`${formatClock(1)} – ${formatClock(2)}`);
  });

  it('says when an acknowledged group was acknowledged and what came since, without a button', () => {
    const html = rowHtml(ALERT_COLUMNS, row('search-storm a:b', 15, { at: 100, count: 12 }));
    expect(cellsOf(html).at(-1)).toBe(`acknowledged ${formatClock(100)} +3 since`);
    expect(html).not.toContain('<button');
    expect(cellsOf(rowHtml(ALERT_COLUMNS, row('k x', 12, { at: 100, count: 12 }))).at(-1)).toBe(
      `acknowledged ${formatClock(100)}`,
    );
  });

  it('escapes a subject off the wire in the text, the tooltip and the button key', () => {
    const evil = `<img src=x onerror="alert(1)">`;
    const html = rowHtml(ALERT_COLUMNS, { ...row(`search-storm ${evil}`, 1), subject: evil, message: evil });
    expect(html).not.toContain('<img');
    expect(html).toContain('data-ack="search-storm &lt;img src=x onerror=&quot;alert(1)&quot;&gt;"');
  });

  it('sorts severity by rank, not by name', () => {
    const rows = [
      { ...row('a x', 1), severity: 'info' as const },
      { ...row('b x', 1), severity: 'error' as const },
      { ...row('c x', 1), severity: 'warn' as const },
    ];
    const severity = ALERT_COLUMNS.find((c) => c.key === 'severity');
    expect(sortRows(rows, severity, 'asc').map((r) => r.severity)).toEqual(['error', 'warn', 'info']);
  });
});
