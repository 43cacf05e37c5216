/**
 * The page in headless Chromium against the fake daemon fixture (contract-level): live rows, filter,
 * record detail, every view, keyboard, deep links, reconnect. Screenshots go to test-results/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artefact, rowPvs } from './browser.js';
import type { FakeDaemon } from './fake-daemon.js';
import { useFakeDaemonPage } from './fixture.js';

const fx = useFakeDaemonPage('test-results/dist-fake', { rate: 400 });
const pageErrors = fx.pageErrors;
let fake: FakeDaemon;
let browser: Browser;
let page: Page;
beforeAll(() => void ({ fake, browser, page } = fx));

/** The text of each body row of a DataTable, cells joined by spaces. */
async function tableRows(p: Page, testid: string): Promise<string[]> {
  return p
    .locator(`[data-testid=${testid}] tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '').join(' ')));
}

describe('dashboard against the fake daemon', { timeout: 60_000 }, () => {
  it('shows live rows with PV names, newest first', async () => {
    await page.goto(fake.url);
    await page.locator('[data-testid=live-row]').first().waitFor();
    await expect
      .poll(async () => (await rowPvs(page)).filter((p) => p.startsWith('sim:')).length, { timeout: 10_000 })
      .toBeGreaterThan(5);
    await expect.poll(() => page.locator('[data-testid=connection]').textContent()).toContain('connected');
    // The daemon's own decoder drops are in the status bar beside libpcap's (the fake daemon reports none).
    expect(await page.getByTestId('decoder-drops').textContent()).toBe('0');
    const times = await page.locator('[data-testid=live-row] span:first-child').allTextContents();
    expect(times.slice(0, 10)).toEqual([...times.slice(0, 10)].sort().reverse());
    // Virtualised: a fraction of the received rows is in the DOM.
    await page.waitForTimeout(1500);
    const inDom = await page.locator('[data-testid=live-row]').count();
    const total = Number((await page.locator('[role=table]').getAttribute('aria-rowcount')) ?? 0);
    expect(total).toBeGreaterThan(inDom);
    expect(inDom).toBeLessThan(80);
    await page.screenshot({ path: artefact('fake-live.png') });
  });

  it('sends the filter to the daemon, shows only matching rows and records it in the URL', async () => {
    await page.keyboard.press('/');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('pv');
    await page.keyboard.type('sim:counter');
    await page.keyboard.press('Enter');
    await expect.poll(() => fake.subscriptions.at(-1)).toEqual({ pv: ['sim:counter'] });
    await expect.poll(() => page.url()).toContain('#/live?pv=sim:counter');
    await page.waitForTimeout(800);
    const pvs = await rowPvs(page);
    expect(pvs.length).toBeGreaterThan(0);
    expect(new Set(pvs)).toEqual(new Set(['sim:counter']));
  });

  it('opens a record with its value, metadata and hex dump', async () => {
    await page.locator('[data-testid=live-row]').first().click();
    const detail = page.locator('[data-testid=record-detail]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid=detail-pv]').textContent()).toBe('sim:counter');
    expect(await detail.locator('[data-testid=detail-metadata]').textContent()).toMatch(
      /alarm.*(NO_ALARM|MINOR \/ HIGH)/,
    );
    expect(await detail.locator('[data-testid=detail-metadata]').textContent()).toMatch(
      /timestamp\s*20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}/,
    );
    expect(await detail.locator('[data-testid=hex-dump]').textContent()).toMatch(/^0000 {2}00 01 00 18 00 14 00 01/);
    await page.screenshot({ path: artefact('fake-detail.png') });
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });
  });

  it('pauses and resumes with the space key', async () => {
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Resume');
    // Let a render already scheduled before the pause land.
    await page.waitForTimeout(400);
    const before = await page.locator('[data-testid=live-row]').first().textContent();
    await page.waitForTimeout(700);
    expect(await page.locator('[data-testid=live-row]').first().textContent()).toBe(before);
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Pause');
    await expect.poll(() => page.locator('[data-testid=live-row]').first().textContent()).not.toBe(before);
  });

  it('pauses while scrolled away from the newest rows and follows again at the top', async () => {
    await expect
      .poll(async () => Number(await page.locator('[role=table]').getAttribute('aria-rowcount')))
      .toBeGreaterThan(100);
    const scroller = page.getByTestId('live-scroller');
    await scroller.evaluate((el) => el.scrollTo(0, 1000));
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Resume');
    await scroller.evaluate((el) => el.scrollTo(0, 0));
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Pause');
  });

  it('keeps the Live table, hidden and still, while another view shows, and shows fresh rows on return', async () => {
    const firstId = (): Promise<string | null> =>
      page.locator('[data-testid=live-row]').first().getAttribute('data-id');
    await page.locator('[data-testid=live-row]').first().waitFor();
    // The same element after the round trip: the table was kept, not mounted again.
    await page.getByTestId('live-scroller').evaluate((el) => el.setAttribute('data-kept', 'yes'));
    await page.locator('nav a[data-view=channels]').click();
    await page.getByTestId('channels-view').waitFor();
    expect(await page.getByTestId('live-pane').getAttribute('data-live-hidden')).toBe('');
    expect(await page.locator('[data-testid=live-row]').first().isVisible()).toBe(false);
    expect(await page.getByRole('table', { name: 'Live messages' }).count()).toBe(0);
    // Hidden, it does not follow the stream (400 msgs/s): no work for rows nobody sees.
    const held = await firstId();
    await page.waitForTimeout(800);
    expect(await firstId()).toBe(held);
    await page.locator('nav a[data-view=live]').click();
    await expect.poll(() => page.getByTestId('live-pane').getAttribute('data-live-hidden')).toBeNull();
    expect(await page.getByTestId('live-scroller').getAttribute('data-kept')).toBe('yes');
    expect(await page.getByRole('table', { name: 'Live messages' }).count()).toBe(1);
    await expect.poll(firstId).not.toBe(held);
    expect(await page.locator('[data-testid=live-row]').first().isVisible()).toBe(true);
  });

  it('shows channels, servers, clients, searches, latency and errors', async () => {
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => fake.subscriptions.at(-1)).toEqual({});
    await page.locator('nav a[data-view=channels]').click();
    await expect.poll(() => page.url()).toMatch(/#\/channels$/);
    await expect.poll(() => page.getByTestId('channels-table').textContent()).toContain('sim:double');
    expect(await page.getByTestId('channels-table').textContent()).toContain('On');
    expect(await page.getByTestId('channels-count').textContent()).toMatch(/\(\d+ of [\d,]+: [\d,]+ open, 1 closed\)/);
    // A closed channel stays listed, with when it closed.
    expect(await tableRows(page, 'channels-table')).toContainEqual(
      expect.stringMatching(/sim:old.*closed \d\d:\d\d:\d\d/),
    );
    // Write audit: a confirmed write, a failed one, and a plain WRITE from another host that nothing answers.
    await expect.poll(() => tableRows(page, 'writes-table')).toHaveLength(3);
    const writes = await tableRows(page, 'writes-table');
    expect(writes.find((r) => r.includes('PUTFAIL'))).toMatch(
      /127\.0\.0\.1:40123.*ca-shark-test.*tester.*sim:long.*PUTFAIL.*47/,
    );
    expect(writes.find((r) => r.includes('NORMAL'))).toMatch(/sim:long.*NORMAL.*7/);
    expect(writes.find((r) => r.includes('opi-2'))).toMatch(
      /127\.0\.0\.3:40500.*opi-2.*operator.*sim:double.*no reply \(WRITE\).*2\.5/,
    );
    expect(await page.locator('[data-testid=writes-table] td.error').allTextContents()).toEqual(['PUTFAIL']);
    expect(await tableRows(page, 'redundant-table')).toEqual([
      expect.stringMatching(/sim:double.*3.*127\.0\.0\.1:40123.*127\.0\.0\.1:5070.*1, 5, 9/),
    ]);
    await page.screenshot({ path: artefact('fake-channels.png') });
    await page.getByTestId('writes-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: artefact('fake-channels-audits.png') });

    await page.locator('nav a[data-view=servers]').click();
    await expect.poll(() => page.getByTestId('servers-table').textContent()).toContain('127.0.0.1:5070');
    expect(await page.getByTestId('servers-table').textContent()).toMatch(/restart at \d\d:\d\d:\d\d/);
    // The anomalies table is drawn after the first paint (Deferred): wait for it, not just the servers.
    await expect
      .poll(() => tableRows(page, 'beacon-anomalies-table'))
      .toEqual([expect.stringMatching(/127\.0\.0\.1:5070.*restart.*beacon id went back from 41 to 0/)]);
    await page.screenshot({ path: artefact('fake-servers.png') });

    await page.locator('nav a[data-view=clients]').click();
    await expect.poll(() => page.getByTestId('clients-table').textContent()).toContain('tester');
    // One row per process, not per host.
    expect(await tableRows(page, 'clients-table')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/127\.0\.0\.1.*tester.*udp 40123/),
        expect.stringMatching(/127\.0\.0\.1.*udp 40124/),
      ]),
    );
    await page.screenshot({ path: artefact('fake-clients.png') });

    const reportsBefore = fake.reportRequests.length;
    await page.locator('nav a[data-view=searches]').click();
    await expect
      .poll(() => tableRows(page, 'never-found-table'))
      .toEqual([expect.stringMatching(/^sim:missing\s*\d+.*127\.0\.0\.1:40123/)]);
    // The view's lists come a frame apart (Deferred): this one may land after the never-found list.
    await expect.poll(() => tableRows(page, 'duplicates-table')).toHaveLength(2);
    const dups = await tableRows(page, 'duplicates-table');
    expect(dups.find((r) => r.includes('sim:dup'))).toMatch(/sim:dup.*duplicate.*127\.0\.0\.1:5070, 127\.0\.0\.2:5070/);
    expect(dups.find((r) => r.startsWith('sim:double'))).toMatch(/multi-path.*127\.0\.0\.1:5070/);
    // Storms come from /api/report, asked for while this view is open; only flagged PVs are listed.
    await expect
      .poll(() => tableRows(page, 'storms-table'), { timeout: 10_000 })
      .toEqual([expect.stringMatching(/^sim:missing.*never.*searched \d+\.\d\d\/s \(threshold 1\/s\)/)]);
    expect(fake.reportRequests.slice(reportsBefore)).toContainEqual(['search_storms']);
    await page.waitForTimeout(2200);
    expect(await page.locator('[data-testid=search-rate-chart] canvas').count()).toBe(1);
    await page.screenshot({ path: artefact('fake-searches.png') });
    await page.getByTestId('duplicates-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: artefact('fake-searches-analyses.png') });

    await page.locator('nav a[data-view=latency]').click();
    await expect.poll(() => page.locator('[data-testid=latency-histogram] canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('latency-table').textContent()).toContain('127.0.0.1:5070');
    await page.screenshot({ path: artefact('fake-latency.png') });

    // Leaving Searches stops the report polling.
    const reportsAfter = fake.reportRequests.length;
    await page.locator('nav a[data-view=errors]').click();
    await expect.poll(() => page.getByTestId('errors-grouped').textContent()).toContain('PUTFAIL');
    await page.screenshot({ path: artefact('fake-errors.png') });
    await page.waitForTimeout(5500);
    expect(fake.reportRequests.length).toBe(reportsAfter);
  });

  it('shows an alert badge with counts per severity that opens the alert list', async () => {
    await page.locator('nav a[data-view=live]').click();
    const badge = page.getByTestId('alert-badge');
    await expect.poll(() => badge.getAttribute('data-severity')).toBe('error');
    expect(await page.getByTestId('alert-count-error').textContent()).toBe('1');
    expect(await page.getByTestId('alert-count-warn').textContent()).toBe('2');
    expect(await page.getByTestId('alert-count-info').textContent()).toBe('1');
    expect(await badge.getAttribute('title')).toBe('4 alerts (1 error, 2 warn, 1 info): open the alert list');
    // Severity colours: the error count is drawn in the theme's error colour.
    const errBg = await page.getByTestId('alert-count-error').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(errBg).toBe('rgb(198, 40, 40)');
    await badge.click();
    await expect.poll(() => page.url()).toMatch(/#\/errors$/);
    const alerts = await tableRows(page, 'alerts-table');
    expect(alerts).toHaveLength(4);
    expect(alerts.find((r) => r.includes('duplicate-pv'))).toMatch(/error.*duplicate-pv.*sim:dup/);
    expect(await page.locator('[data-testid=alerts-table] td.error').allTextContents()).toEqual(['error']);
    expect(await page.locator('[data-testid=alerts-table] td.info').allTextContents()).toEqual(['info']);
    // The alert list is the first table of the view.
    expect(await page.locator('[data-testid=errors-view] table').first().getAttribute('data-testid')).toBe(
      'alerts-table',
    );
    await page.screenshot({ path: artefact('fake-alerts.png') });
  });

  it('restores view and filter from a deep link, in the dark theme', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    const p = await ctx.newPage();
    const n = fake.subscriptions.length;
    await p.goto(`${fake.url}#/searches?pv=sim:*`);
    await p.getByTestId('searches-view').waitFor();
    expect(await p.locator('input[name=pv]').inputValue()).toBe('sim:*');
    await expect.poll(() => fake.subscriptions.slice(n)).toContainEqual({ pv: ['sim:*'] });
    const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 20, 25)');
    await expect.poll(() => p.getByTestId('never-found-table').textContent()).toContain('sim:missing');
    await expect.poll(() => p.getByTestId('storms-table').textContent(), { timeout: 10_000 }).toContain('sim:missing');
    await p.screenshot({ path: artefact('fake-searches-dark.png') });
    await p.locator('nav a[data-view=channels]').click();
    await expect.poll(() => tableRows(p, 'writes-table')).toHaveLength(3);
    await p.getByTestId('writes-table').scrollIntoViewIfNeeded();
    await p.screenshot({ path: artefact('fake-channels-dark.png') });
    await p.getByTestId('alert-badge').click();
    await p.getByTestId('alerts-table').waitFor();
    expect(await p.getByTestId('alert-count-error').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(255, 123, 114)',
    );
    await p.screenshot({ path: artefact('fake-errors-dark.png') });
    await ctx.close();
  });

  it('reconnects after the daemon drops the connection', async () => {
    const n = fake.subscriptions.length;
    fake.kickClients();
    await expect
      .poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 5000 })
      .toMatch(/reconnecting/);
    await expect
      .poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 })
      .toBe('connected');
    // The page restates its subscription on the new connection.
    await expect.poll(() => fake.subscriptions.length).toBeGreaterThan(n);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
