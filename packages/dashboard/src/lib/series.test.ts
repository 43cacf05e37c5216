import { describe, expect, it } from 'vitest';
import {
  apiUrl,
  circuitEnd,
  JsonPoller,
  parseCircuits,
  parseSeries,
  scaled,
  seriesTimes,
  type PollResult,
} from './series.js';
import { parseTheme, parseTimeZone, rangeParams } from './settings.svelte.js';
import { formatAxisNumber, withAlpha } from './theme.js';

const LOC = { origin: 'http://h:8080', pathname: '/shark/index.html', search: '?token=s3cret' };

describe('chart data', () => {
  it('asks the API beside the page with its token', () => {
    expect(apiUrl(LOC, 'series/pv', { key: 'a:b c', last: '600' })).toBe(
      'http://h:8080/shark/api/series/pv?key=a%3Ab+c&last=600&token=s3cret',
    );
    expect(apiUrl({ ...LOC, search: '' }, 'talkers')).toBe('http://h:8080/shark/api/talkers');
    expect(rangeParams({ last: 60 })).toEqual({ last: '60' });
    expect(rangeParams({ from: 10, to: 20 })).toEqual({ from: '10', to: '20' });
  });

  it('checks answers and turns a series into chart columns', () => {
    expect(() => parseSeries({ error: 'x' })).toThrow(/no series/);
    const s = parseSeries({
      kind: 'pv',
      key: 'p',
      tracked: true,
      since: 0,
      step: 60,
      start: 600,
      fields: { a: [1, null, 3] },
    });
    expect(seriesTimes(s)).toEqual([600, 660, 720]);
    expect(scaled(s.fields.a, 1000)).toEqual([1000, null, 3000]);
    expect(parseCircuits({ circuits: [{ circuit: 1, start: 1, end: 2 }, { circuit: 'x' }] })).toHaveLength(1);
    expect(circuitEnd('rst')).toBe('reset (RST)');
    expect(circuitEnd('capture-end')).toBe('open');
  });

  it('polls one request at a time, asks a new URL at once and reports failures', async () => {
    const asked: string[] = [];
    const pending: (() => void)[] = [];
    const fetchImpl = (url: string): Promise<{ ok: boolean; status: number; json(): Promise<unknown> }> => {
      asked.push(url);
      return new Promise((resolve) =>
        pending.push(() =>
          resolve(
            url === 'bad'
              ? { ok: false, status: 503, json: async () => ({ error: 'decoder did not answer' }) }
              : { ok: true, status: 200, json: async () => ({ url }) },
          ),
        ),
      );
    };
    const results: PollResult<string>[] = [];
    const poller = new JsonPoller<string>(
      'a',
      (b) => (b as { url: string }).url,
      (r) => results.push(r),
      fetchImpl,
      0,
    );
    poller.start();
    poller.start();
    expect(asked).toEqual(['a']);
    poller.setUrl('bad');
    expect(asked).toEqual(['a', 'bad']);
    for (const p of pending.splice(0)) p();
    await new Promise((r) => setTimeout(r, 0));
    // The answer for the old URL is dropped; the failure says what the daemon said.
    expect(results).toEqual([{ value: null, error: 'decoder did not answer' }]);
    poller.stop();
  });

  it('reads stored settings defensively and formats axis numbers like the tables', () => {
    expect(parseTheme('dark')).toBe('dark');
    expect(parseTheme('purple')).toBe('system');
    expect(parseTimeZone('local')).toBe('local');
    expect(parseTimeZone(null)).toBe('utc');
    expect(formatAxisNumber(12345)).toBe('12\u2009345');
    expect(formatAxisNumber(0.01234)).toBe('0.0123');
    expect(formatAxisNumber(250)).toBe('250');
    expect(withAlpha('rgb(1, 2, 3)', 0.5)).toBe('rgba(1, 2, 3, 0.5)');
    expect(withAlpha('#0a0b0c', 0.2)).toBe('rgba(10, 11, 12, 0.2)');
  });
});
