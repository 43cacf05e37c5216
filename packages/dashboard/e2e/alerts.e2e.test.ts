/**
 * The alert list in headless Chromium against the fake daemon: one row per problem (kind and subject)
 * with its span and count, errors first, and acknowledgement held by the daemon for every page.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artefact } from './browser.js';
import type { FakeDaemon } from './fake-daemon.js';
import { useFakeDaemonPage } from './fixture.js';

const fx = useFakeDaemonPage('test-results/dist-alerts', { rate: 100 });
let fake: FakeDaemon;
let browser: Browser;
let page: Page;
beforeAll(() => void ({ fake, browser, page } = fx));

const rows = (p: Page): Promise<string[]> =>
  p
    .locator('[data-testid=alerts-table] tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '').join(' | ')),
    );

describe('alert list', { timeout: 60_000 }, () => {
  it('shows one row per kind and subject, errors first, with first/last seen and count', async () => {
    await page.goto(`${fake.url}#/errors`);
    await page.getByTestId('alerts-table').waitFor();
    const list = await rows(page);
    expect(list).toHaveLength(4);
    expect(list[0]).toMatch(/^error \| duplicate-pv \| sim:dup \| sim:dup is answered by 2 servers/);
    // 98 beacon restarts of one server are one row with its count, not 98 rows.
    const restart = list.find((r) => r.includes('beacon-restart'));
    expect(restart).toMatch(
      /^warn \| beacon-restart \| 127\.0\.0\.1:\d+ \| .* \| \d\d:\d\d:\d\d\.\d{3} – \d\d:\d\d:\d\d\.\d{3} \| 98 \| Acknowledge$/,
    );
    expect(list.at(-1)).toMatch(/^info \| multi-path \| sim:double/);
    expect(await page.getByTestId('alert-count-warn').textContent()).toBe('2');
    await page.screenshot({ path: artefact('alerts-grouped.png') });
  });

  it('acknowledges a row: the daemon holds it, the badge drops it, every page sees it', async () => {
    const restart = page.locator('[data-testid=alerts-table] tbody tr', { hasText: 'beacon-restart' });
    await restart.getByTestId('alert-ack').click();
    // Each waits on a round trip to the daemon: poll's 1 s default was once too short for the badge in a
    // clean-clone CI run (it still read '2').
    const roundTrip = { timeout: 5_000 };
    await expect
      .poll(() => fake.ackRequests, roundTrip)
      .toEqual([expect.stringMatching(/^beacon-restart 127\.0\.0\.1:\d+$/)]);
    await expect.poll(() => rows(page), roundTrip).toHaveLength(3);
    await expect.poll(() => page.getByTestId('alert-count-warn').textContent(), roundTrip).toBe('1');
    await page.getByTestId('alerts-show-acknowledged').check();
    await expect.poll(() => rows(page), roundTrip).toHaveLength(4);
    expect((await rows(page)).find((r) => r.includes('beacon-restart'))).toMatch(
      /\| acknowledged \d\d:\d\d:\d\d\.\d{3}/,
    );
    await page.screenshot({ path: artefact('alerts-acknowledged.png') });

    // A page opened afterwards (another engineer) sees the acknowledgement from the daemon.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const other = await ctx.newPage();
    await other.goto(`${fake.url}#/errors`);
    await other.getByTestId('alerts-table').waitFor();
    await expect.poll(() => rows(other), roundTrip).toHaveLength(3);
    expect(await other.getByTestId('alert-count-warn').textContent()).toBe('1');
    await ctx.close();
  });
});
