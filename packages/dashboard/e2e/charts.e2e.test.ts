/**
 * Charts, top talkers, circuits, the 390 px layout and the theme setting, in headless Chromium against the
 * real daemon replaying a libca capture (`-r --speed max`, no privileges needed): the series the page
 * draws are the ones the decoding worker kept. Screenshots go to test-results/ (`charts-*.png`).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { VIEWS } from '../src/lib/filter.js';
import { artefact, buildDashboard, launchBrowser, openTestPage } from './browser.js';
import { DaemonProcess } from './daemon-process.js';

const CAPTURE = fileURLToPath(new URL('../../decoder/fixtures/libca-sim.pcap', import.meta.url));

let daemon: DaemonProcess | undefined;
let browser: Browser;
let page: Page;
let base = '';
const pageErrors: string[] = [];

beforeAll(async () => {
  const dist = await buildDashboard('test-results/dist-charts');
  daemon = await DaemonProcess.start(['-r', CAPTURE, '--speed', 'max'], dist);
  base = daemon.url;
  // Every record of the replay decoded (and in the daemon's series) before the page opens.
  await daemon.waitForHealth(60_000, (h) => h.eof === true);
  browser = await launchBrowser();
  page = await openTestPage(browser, pageErrors);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

async function show(p: Page, view: string): Promise<void> {
  await p.goto(`${base}#/${view}`);
  await p.getByTestId(`${view}-view`).waitFor();
}

/** The page's horizontal overflow: document width beyond the viewport (0 when nothing scrolls sideways). */
function sideways(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

describe('charts, talkers, circuits and layout on a replayed capture', { timeout: 90_000 }, () => {
  it('opens a PV chart from a PV name in a table, with its update rate and value', async () => {
    await show(page, 'channels');
    const pv = page.locator('[data-testid=channels-table] [data-chart=pv][data-key="sim:double"]').first();
    await pv.click();
    const panel = page.getByTestId('chart-panel');
    await panel.waitFor();
    expect(await page.getByTestId('chart-key').textContent()).toBe('sim:double');
    // The capture has 2 monitor updates of sim:double (42.5, then 4.5): the chart says how many it drew.
    await expect.poll(() => page.getByTestId('pv-chart-note').textContent()).toMatch(/\b2 monitor updates/);
    await page.getByTestId('pv-value-chart').locator('canvas').waitFor();
    // Each chart is built in a task of its own after the view painted (after-paint.ts).
    await page.getByTestId('pv-rate-chart').locator('canvas').waitFor();
    expect(await page.getByTestId('pv-rate-chart').locator('canvas').count()).toBe(1);
    // The cursor's time in the legend is 24-hour, never AM/PM (the axes use the same formatter).
    const over = page.getByTestId('pv-rate-chart').locator('.u-over');
    const box = await over.boundingBox();
    if (box === null) throw new Error('no chart');
    await page.mouse.move(box.x + box.width * 0.98, box.y + box.height / 2);
    const time = page.getByTestId('pv-rate-chart').locator('.u-legend .u-series').first().locator('.u-value');
    await expect.poll(() => time.textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    await page.screenshot({ path: artefact('charts-pv.png') });
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
  });

  it('opens an IOC chart from Servers; dragging across a chart sets the range of every chart', async () => {
    await show(page, 'servers');
    await page.locator('[data-testid=servers-table] [data-chart=ioc]').first().click();
    await page.getByTestId('ioc-chart').waitFor();
    const chart = page.getByTestId('ioc-messages-chart').locator('.u-over');
    await chart.waitFor();
    const box = await chart.boundingBox();
    if (box === null) throw new Error('no chart');
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect
      .poll(() => page.getByTestId('range-fixed').textContent())
      .toMatch(/\d\d:\d\d:\d\d – \d\d:\d\d:\d\d UTC/);
    await page.getByTestId('ioc-latency-chart').locator('canvas').waitFor();
    await page.screenshot({ path: artefact('charts-ioc.png') });
    await page.getByRole('button', { name: 'Back to live' }).click();
    await page.getByTestId('range-fixed').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Close the chart' }).click();
  });

  it('lists top talkers and the circuits with how they ended', async () => {
    await show(page, 'talkers');
    await expect.poll(() => page.getByTestId('talkers-pvs').textContent()).toContain('sim:double');
    expect(await page.getByTestId('talkers-iocs').textContent()).toContain('127.0.0.1:45123');
    await page.screenshot({ path: artefact('charts-talkers.png') });

    await show(page, 'circuits');
    const rows = page.locator('[data-testid=circuits-table] tbody tr');
    await rows.first().waitFor();
    const text = await rows.allTextContents();
    expect(text.some((r) => r.includes('127.0.0.1:45123'))).toBe(true);
    expect(text.join('\n')).toMatch(/\d\d:\d\d:\d\d\.\d{3}/);
    expect(text.join('\n')).toMatch(/closed \(FIN\)|reset \(RST\)|open/);
    expect(await page.getByTestId('circuits-count').textContent()).toMatch(/\(\d+: \d+ open, \d+ ended · times UTC\)/);
    await page.screenshot({ path: artefact('charts-circuits.png') });
  });

  it('fits a 390 px phone: tabs in a menu, the alert badge in sight, no sideways page scroll', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 800 }, colorScheme: 'light' });
    phone.on('pageerror', (e) => pageErrors.push(String(e)));
    for (const view of VIEWS) {
      await phone.goto(`${base}#/${view}`);
      await phone.waitForTimeout(300);
      expect(await sideways(phone), view).toBeLessThanOrEqual(0);
    }
    await show(phone, 'channels');
    expect(await phone.locator('nav.tabs').isVisible()).toBe(false);
    const badge = await phone.getByTestId('alert-badge').boundingBox();
    expect(badge).not.toBeNull();
    expect((badge?.x ?? 0) + (badge?.width ?? 0)).toBeLessThanOrEqual(390);
    await phone.getByTestId('views-menu').click();
    await phone.screenshot({ path: artefact('charts-phone-menu.png') });
    await phone.locator('[data-menu-view=circuits]').click();
    await phone.getByTestId('circuits-view').waitFor();
    expect(phone.url()).toMatch(/#\/circuits$/);
    // A wide table scrolls inside its panel, not the page.
    expect(await sideways(phone)).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: artefact('charts-phone-circuits.png') });
    await phone.close();
  });

  it('remembers the theme choice across reloads, whatever the system says', async () => {
    await show(page, 'talkers');
    const background = (): Promise<string> => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background()).toBe('rgb(255, 255, 255)');
    await page.getByTestId('theme-toggle').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await background()).toBe('rgb(15, 20, 25)');
    await page.reload();
    await page.getByTestId('talkers-view').waitFor();
    expect(await page.getByTestId('theme-toggle').inputValue()).toBe('dark');
    expect(await background()).toBe('rgb(15, 20, 25)');
    await page.screenshot({ path: artefact('charts-talkers-dark.png') });
    await page.getByTestId('timezone-toggle').selectOption('local');
    await page.reload();
    await page.getByTestId('talkers-view').waitFor();
    expect(await page.getByTestId('timezone-toggle').inputValue()).toBe('local');
    await page.getByTestId('theme-toggle').selectOption('system');
    await page.getByTestId('timezone-toggle').selectOption('utc');
    expect(await background()).toBe('rgb(255, 255, 255)');
    expect(pageErrors).toEqual([]);
  });
});
