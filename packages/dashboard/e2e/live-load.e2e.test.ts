/**
 * The page under a flood (contract-level, against the fake daemon): 100,000 CA messages/s offered, the
 * daemon sampling 2,000/s for the page, 10,000 rows in each snapshot table, a token. Asserts what the
 * user sees, never how long anything took (the render bench prints the timings).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artefact } from './browser.js';
import type { FakeDaemon } from './fake-daemon.js';
import { useFakeDaemonPage } from './fixture.js';

const TOKEN = 's3cret';
const TABLE_ROWS = 10_000;

const fx = useFakeDaemonPage('test-results/dist-load', {
  rate: 100_000,
  maxPerSecond: 2000,
  tableRows: TABLE_ROWS,
  token: TOKEN,
  // 20 s of records at 100k/s: the happy path of the detail must not race the ring.
  held: 2_000_000,
});
const pageErrors = fx.pageErrors;
let fake: FakeDaemon;
let page: Page;
beforeAll(() => void ({ fake, page } = fx));

/** A number shown with thin-space thousands separators. */
function num(text: string | null): number {
  return Number((text ?? '').replace(/[\s\u2009,]/g, ''));
}

/** The page's worker shares two cores with the fake daemon and the test: allow it time. */
const SLOW = { timeout: 20_000 };

describe('the page under a 100k msgs/s flood', { timeout: 120_000 }, () => {
  it('shows the sample it gets and says so: sampling, records not sent, lag', async () => {
    await page.goto(`${fake.url}?token=${TOKEN}`);
    const bar = page.getByTestId('status-bar');
    await expect.poll(() => bar.getAttribute('data-sampling'), { timeout: 20_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('connection').textContent(), SLOW).toContain('connected');
    const sampling = await page.getByTestId('sampling').textContent();
    const shown = /showing ([\d\s\u2009]+) of ([\d\s\u2009]+) msgs\/s/.exec(sampling ?? '');
    expect(shown).not.toBeNull();
    expect(num(shown?.[2] ?? '')).toBeGreaterThan(num(shown?.[1] ?? ''));
    await expect.poll(async () => num(await page.getByTestId('not-sent').textContent()), SLOW).toBeGreaterThan(10_000);
    expect(await bar.getAttribute('data-lag-ms')).toMatch(/^\d+$/);
    expect(await page.getByTestId('lag').textContent()).toMatch(/(lag|behind) \d/);
    await page.screenshot({ path: artefact('load-live.png') });
  });

  it('keeps the Live table virtualised, each row with its capture time and id', async () => {
    await expect
      .poll(async () => Number(await page.locator('[role=table]').getAttribute('aria-rowcount')), SLOW)
      .toBeGreaterThan(1000);
    const rows = page.locator('[data-testid=live-row]');
    expect(await rows.count()).toBeLessThan(80);
    const hooks = await rows.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-t'), e.getAttribute('data-id')]),
    );
    for (const [t, id] of hooks) {
      expect(Number(t)).toBeGreaterThan(1.7e9);
      expect(Number.isInteger(Number(id)) && Number(id) > 0).toBe(true);
    }
    // Newest first.
    const ids = hooks.map(([, id]) => Number(id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('draws 10,000 channels sorted in the worker, a screenful at a time', async () => {
    await page.locator('nav a[data-view=channels]').click();
    const table = page.getByTestId('channels-table');
    await expect.poll(() => table.getAttribute('aria-rowcount'), { timeout: 20_000 }).toBe(String(TABLE_ROWS + 6));
    expect(await page.getByTestId('channels-count').textContent()).toMatch(/^\(10\s006 of /);
    expect(await table.locator('tbody tr.row').count()).toBeLessThan(100);
    expect(await table.locator('tbody tr.row td:first-child').first().textContent()).toBe('sim:bulk:00000');
    // The last rows in PV order come when scrolled to the end, still a screenful in the DOM.
    await page.getByTestId('channels-table-scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect
      .poll(() => table.locator('tbody tr.row td:first-child').allTextContents(), SLOW)
      .toContain('sim:waveform');
    expect(await table.locator('tbody tr.row').count()).toBeLessThan(100);
    // Sorting is the worker's too: by updates/s, highest first.
    await table.locator('th', { hasText: 'Updates/s' }).click();
    await page.getByTestId('channels-table-scroller').evaluate((el) => el.scrollTo(0, 0));
    await expect
      .poll(() => table.locator('tbody tr.row td:nth-child(8)').first().textContent(), { timeout: 20_000 })
      .toMatch(/^10\s000\/s$/);
    await page.screenshot({ path: artefact('load-channels.png') });
    await page.locator('nav a[data-view=clients]').click();
    await expect.poll(() => page.getByTestId('clients-table').getAttribute('aria-rowcount'), SLOW).toBe('1002');
    expect(await page.locator('[data-testid=clients-table] tbody tr.row').count()).toBeLessThan(100);
    await page.locator('nav a[data-view=errors]').click();
    await expect.poll(() => page.getByTestId('errors-table').getAttribute('aria-rowcount'), SLOW).toBe('501');
  });

  it('opens a row with the full record fetched by id (with the token), and says when it is gone', async () => {
    await page.locator('nav a[data-view=live]').click();
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('pause').textContent(), SLOW).toContain('Resume');
    // Opened from the keyboard: under the flood a click's coordinates can land on the neighbouring row
    // when the layout moves between finding the row and clicking it (a known issue, not yet found).
    const row = page.locator('[data-testid=live-row]').first();
    await row.focus();
    const id = Number(await row.getAttribute('data-id'));
    await page.keyboard.press('Enter');
    const detail = page.getByTestId('record-detail');
    await expect.poll(() => detail.getAttribute('data-id'), SLOW).toBe(String(id));
    await expect.poll(() => detail.getByTestId('hex-dump').count(), SLOW).toBe(1);
    expect(await detail.getByTestId('hex-dump').textContent()).toMatch(/^0000 {2}00 /);
    expect(fake.recordRequests).toContain(id);

    // The daemon's ring moves on: an older row's record is no longer held.
    fake.holdOnly(1);
    const older = page.locator('[data-testid=live-row]').nth(5);
    await older.focus();
    const olderId = Number(await older.getAttribute('data-id'));
    await page.keyboard.press('Enter');
    await expect.poll(() => detail.getAttribute('data-id'), SLOW).toBe(String(olderId));
    await expect
      .poll(() => detail.getByTestId('detail-missing').textContent(), SLOW)
      .toContain(`record ${olderId} is no longer held`);
    expect(await detail.getByTestId('hex-dump').count()).toBe(0);
    await page.screenshot({ path: artefact('load-detail-gone.png') });
    await page.keyboard.press('Escape');
    await page.keyboard.press(' ');
  });

  it('turns stale when records stop while the daemon reports traffic, and recovers', async () => {
    // Beamline-sized snapshots again, so the page is fresh before the stream stalls.
    fake.setTableRows(0);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state'), SLOW).toBe('open');
    fake.stall(true);
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('stale');
    // (On a loaded machine the fixture's snapshots may lag too; the missing records are named once due.)
    await expect.poll(() => page.getByTestId('stale').getAttribute('title'), SLOW).toMatch(/no records for \d+ s/);
    expect(Number(await page.getByTestId('status-bar').getAttribute('data-lag-ms'))).toBeGreaterThan(3000);
    expect(await page.getByTestId('lag').textContent()).toMatch(/^behind/);
    fake.stall(false);
    await expect
      .poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('open');
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
