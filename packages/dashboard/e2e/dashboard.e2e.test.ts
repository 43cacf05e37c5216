/**
 * The page in headless Chromium against the fake daemon fixture (contract-level): live rows, filter,
 * record detail, every view, keyboard, deep links, reconnect. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artefact, buildDashboard, launchBrowser } from './browser.js';
import { startFakeDaemon, type FakeDaemon } from './fake-daemon.js';

let fake: FakeDaemon;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function rowPvs(p: Page): Promise<string[]> {
  return p.locator('[data-testid=row-pv]').allTextContents();
}

beforeAll(async () => {
  const dist = await buildDashboard('test-results/dist-fake');
  fake = await startFakeDaemon({ distDir: dist, rate: 400 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

describe('dashboard against the fake daemon', { timeout: 60_000 }, () => {
  it('shows live rows with PV names, newest first', async () => {
    await page.goto(fake.url);
    await page.locator('[data-testid=live-row]').first().waitFor();
    await expect.poll(async () => (await rowPvs(page)).filter((p) => p.startsWith('sim:')).length, { timeout: 10_000 }).toBeGreaterThan(5);
    await expect.poll(() => page.locator('[data-testid=connection]').textContent()).toContain('connected');
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
    expect(page.url()).toContain('#/live?pv=sim:counter');
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
    expect(await detail.locator('[data-testid=detail-metadata]').textContent()).toMatch(/alarm.*(NO_ALARM|MINOR \/ HIGH)/);
    expect(await detail.locator('[data-testid=detail-metadata]').textContent()).toMatch(/timestamp\s*20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}/);
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
    await expect.poll(async () => Number(await page.locator('[role=table]').getAttribute('aria-rowcount'))).toBeGreaterThan(100);
    const scroller = page.getByTestId('live-scroller');
    await scroller.evaluate((el) => el.scrollTo(0, 1000));
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Resume');
    await scroller.evaluate((el) => el.scrollTo(0, 0));
    await expect.poll(() => page.getByTestId('pause').textContent()).toContain('Pause');
  });

  it('shows channels, servers, clients, searches, latency and errors', async () => {
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => fake.subscriptions.at(-1)).toEqual({});
    await page.locator('nav a[data-view=channels]').click();
    expect(page.url()).toMatch(/#\/channels$/);
    await expect.poll(() => page.getByTestId('channels-table').textContent()).toContain('sim:double');
    expect(await page.getByTestId('channels-table').textContent()).toContain('1 (On)');
    await page.screenshot({ path: artefact('fake-channels.png') });

    await page.locator('nav a[data-view=servers]').click();
    await expect.poll(() => page.getByTestId('servers-table').textContent()).toContain('127.0.0.1:5070');
    await page.screenshot({ path: artefact('fake-servers.png') });

    await page.locator('nav a[data-view=clients]').click();
    await expect.poll(() => page.getByTestId('clients-table').textContent()).toContain('tester');
    await page.screenshot({ path: artefact('fake-clients.png') });

    await page.locator('nav a[data-view=searches]').click();
    await expect.poll(() => page.getByTestId('unanswered-table').textContent()).toContain('sim:missing');
    await page.waitForTimeout(2200);
    expect(await page.locator('[data-testid=search-rate-chart] canvas').count()).toBe(1);
    await page.screenshot({ path: artefact('fake-searches.png') });

    await page.locator('nav a[data-view=latency]').click();
    await expect.poll(() => page.locator('[data-testid=latency-histogram] canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('latency-table').textContent()).toContain('127.0.0.1:5070');
    await page.screenshot({ path: artefact('fake-latency.png') });

    await page.locator('nav a[data-view=errors]').click();
    await expect.poll(() => page.getByTestId('errors-grouped').textContent()).toContain('PUTFAIL');
    await page.screenshot({ path: artefact('fake-errors.png') });
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
    await expect.poll(() => p.getByTestId('unanswered-table').textContent()).toContain('sim:missing');
    await p.screenshot({ path: artefact('fake-searches-dark.png') });
    await ctx.close();
  });

  it('reconnects after the daemon drops the connection', async () => {
    const n = fake.subscriptions.length;
    fake.kickClients();
    await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 5000 }).toMatch(/reconnecting/);
    await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 }).toBe('connected');
    // The page restates its subscription on the new connection.
    await expect.poll(() => fake.subscriptions.length).toBeGreaterThan(n);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
