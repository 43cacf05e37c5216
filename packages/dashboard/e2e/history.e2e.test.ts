/**
 * History in headless Chromium against the real daemon replaying a short capture that ended before the
 * page opened: the Live table shows the held records, a new filter shows the matching past traffic, the
 * page says when the replay finished, and the search-rate chart opens with the capture's past. Needs no
 * capture rights (`-r FILE --speed max`).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, artefact, buildDashboard, launchBrowser, openTestPage, rowPvs } from './browser.js';
import { DaemonProcess, daemonAvailable } from './daemon-process.js';

const canRun = existsSync(CHROMIUM_PATH) && daemonAvailable;

/** Capture time of the first search: a whole minute, so the chart's first point is this second. */
const T0 = 1_700_000_040;
/** Searches for A:i and B:i, two a second for 20 s of capture time. */
const PAIRS = 40;

let daemon: DaemonProcess | undefined;
let dir = '';
let base = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Rows in the Live table (it renders only those on screen). */
async function rowCount(p: Page): Promise<number> {
  return Number(await p.locator('[role=table][aria-label="Live messages"]').getAttribute('aria-rowcount'));
}

function capture(): Uint8Array {
  const w = new PcapWriter();
  for (let i = 0; i < PAIRS; i++) {
    for (const [k, name] of [`A:${i}`, `B:${i}`].entries())
      w.udp(
        T0 + i / 2 + k * 0.01,
        '10.0.0.5',
        45555,
        '10.0.0.255',
        5064,
        build.searchRequest({ name, cid: 2 * i + k }),
      );
  }
  return concatBytes(w.drain());
}

describe.skipIf(!canRun)('history on a finished replay', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    const dist = await buildDashboard('test-results/dist-history');
    dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-e2e-'));
    const file = join(dir, 'short.pcap');
    writeFileSync(file, capture());
    daemon = await DaemonProcess.start(['-r', file, '--speed', 'max'], dist);
    base = daemon.url;
    // The replay ends before the page opens.
    await daemon.waitForHealth(60_000, (health) => health.eof === true);
    browser = await launchBrowser();
    page = await openTestPage(browser, pageErrors);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('shows the held records on load and says the replay finished, with its message count', async () => {
    await page.goto(`${base}#/live`);
    await expect.poll(() => rowCount(page), { timeout: 15_000 }).toBe(2 * PAIRS);
    const pvs = await rowPvs(page);
    // Newest first, in capture order.
    expect(pvs.slice(0, 4)).toEqual([`B:${PAIRS - 1}`, `A:${PAIRS - 1}`, `B:${PAIRS - 2}`, `A:${PAIRS - 2}`]);
    const notice = page.getByTestId('history-notice');
    await expect
      .poll(() => notice.textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`^Replay finished at \\d\\d:\\d\\d:\\d\\d UTC \\(${2 * PAIRS} messages\\)$`));
    expect(await page.getByText('Waiting for the daemon').count()).toBe(0);
    await page.screenshot({ path: artefact('history-live.png') });
  });

  it('applies a new filter to the held records', async () => {
    await page.goto(`${base}#/live?pv=B:*`);
    await expect.poll(() => rowCount(page), { timeout: 15_000 }).toBe(PAIRS);
    expect((await rowPvs(page)).every((pv) => pv.startsWith('B:'))).toBe(true);
    await page.locator('input[name=pv]').fill('A:1*');
    await page.locator('input[name=pv]').press('Enter');
    const expected = Array.from({ length: PAIRS }, (_, i) => `A:${i}`).filter((n) => n.startsWith('A:1'));
    await expect.poll(async () => new Set(await rowPvs(page)), { timeout: 15_000 }).toEqual(new Set(expected));
    await page.screenshot({ path: artefact('history-filter.png') });
  });

  it("opens the search-rate chart with the capture's past", async () => {
    await page.goto(`${base}#/searches`);
    const chart = page.getByTestId('search-rate');
    await expect.poll(() => chart.getAttribute('data-first'), { timeout: 15_000 }).toBe(String(T0));
    expect(Number(await chart.getAttribute('data-points'))).toBe(PAIRS / 2);
    await page.screenshot({ path: artefact('history-searches.png') });
    expect(pageErrors).toEqual([]);
  });

  it('draws a chart once as its view opens, not again when the layout reports its size or the view overflows', async () => {
    // Every uPlot draw starts with a clearRect of its canvas: count the search-rate chart's. The replay has
    // ended, so its data no longer changes and any draw after the first is a redraw of the same picture.
    // (A string: a function from this file would carry the test runner's `__name` helper, unknown to the page.)
    await page.addInitScript({
      content: `window.__rateDraws = 0;
        const clear = CanvasRenderingContext2D.prototype.clearRect;
        CanvasRenderingContext2D.prototype.clearRect = function (...a) {
          if (this.canvas.closest('[data-testid=search-rate-chart]') !== null) window.__rateDraws++;
          return clear.apply(this, a);
        };`,
    });
    // A new document (a change of the hash alone would keep the page and skip the script above).
    await page.goto('about:blank');
    await page.goto(`${base}#/searches`);
    const chart = page.getByTestId('search-rate');
    await expect.poll(() => chart.getAttribute('data-first'), { timeout: 15_000 }).toBe(String(T0));
    // Its data in: open the view again, which builds the chart anew.
    await page.locator('nav a[data-view=live]').click();
    const draws = (): Promise<number> =>
      page.evaluate(() => (window as unknown as { __rateDraws: number }).__rateDraws);
    await page.evaluate(() => ((window as unknown as { __rateDraws: number }).__rateDraws = 0));
    await page.locator('nav a[data-view=searches]').click();
    await page.locator('[data-testid=search-rate-chart] canvas').waitFor();
    await expect.poll(draws).toBeGreaterThan(0);
    // Frames enough for the first layout's size report (it came a frame after the chart was built).
    await page.evaluate(
      () =>
        new Promise<void>((done) => {
          let n = 10;
          const frame = (): void => (--n > 0 ? void requestAnimationFrame(frame) : done());
          requestAnimationFrame(frame);
        }),
    );
    // The mouse is elsewhere: no cursor draws.
    expect(await draws()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
