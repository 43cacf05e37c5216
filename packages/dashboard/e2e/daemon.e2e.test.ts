/**
 * End to end with the real daemon: `ca-sharkd --demo` captures the simulator's IOC and clients (with a
 * search storm for missing PVs) on lo, serves the built page, and the page is driven in headless
 * Chromium. Needs root (live capture); skipped otherwise. Screenshots of every view go to test-results/.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH, artefact, buildDashboard, launchBrowser, rowPvs } from './browser.js';
import { DaemonProcess, daemonAvailable } from './daemon-process.js';

const canRun = process.getuid?.() === 0 && existsSync(CHROMIUM_PATH) && daemonAvailable;

let daemon: DaemonProcess | undefined;
let base = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** Content-Security-Policy violations, from the page's event and from Chromium's console (page and worker). */
const cspViolations: string[] = [];

async function show(view: string): Promise<void> {
  await page.locator(`nav a[data-view=${view}]`).click();
  await page.getByTestId(`${view}-view`).waitFor();
}

describe.skipIf(!canRun)('dashboard on ca-sharkd --demo (live capture on lo)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    const dist = await buildDashboard('test-results/dist-daemon');
    daemon = await DaemonProcess.start(['--demo'], dist);
    base = daemon.url;
    await daemon.waitForHealth(60_000);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('worker', (w) =>
      w.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(`worker: ${m.text()}`);
      }),
    );
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('shows live rows with PV names from the simulator', async () => {
    // Other CA traffic on a shared machine's lo must not crowd the demo's rows out of the sampled stream.
    const response = await page.goto(`${base}#/live?pv=demo:*`);
    // The page runs under the daemon's strict policy: own origin only, its WebSocket through 'self'.
    expect(response?.headers()['content-security-policy']).toMatch(/connect-src 'self'.*frame-ancestors 'none'/);
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    await expect
      .poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 15_000 })
      .toBe('connected');
    await expect
      .poll(async () => (await rowPvs(page)).filter((p) => p.startsWith('demo:')).length, { timeout: 30_000 })
      .toBeGreaterThan(3);
    expect(await page.getByTestId('status-bar').textContent()).toContain('demo lo');
    await page.screenshot({ path: artefact('daemon-live.png') });
  });

  it('applies a PV filter as the subscription and shows only matching rows', async () => {
    await page.keyboard.press('/');
    await page.keyboard.type('demo:missing:*');
    await page.keyboard.press('Enter');
    // Playwright learns of the page's history.replaceState from a later DevTools event, not by the time the
    // key press returns: a loaded CI run read the old URL once.
    await expect.poll(() => page.url()).toContain('#/live?pv=demo:missing:*');
    // The storm client retries every few seconds.
    await expect.poll(async () => (await rowPvs(page)).length, { timeout: 30_000 }).toBeGreaterThan(0);
    const pvs = await rowPvs(page);
    expect(pvs.every((p) => /^demo:missing:/.test(p))).toBe(true);
    await page.screenshot({ path: artefact('daemon-live-filtered.png') });
  });

  it('opens a record: decoded fields and the hex dump of its bytes', async () => {
    // The filter's first rows are held ones from the history scan, which carry no full record (their
    // detail says so); a row streamed live after them is held in full for a while.
    const rowIds = (): Promise<number[]> =>
      page.locator('[data-testid=live-row]').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-id'))));
    const held = Math.max(0, ...(await rowIds()));
    await expect.poll(async () => Math.max(0, ...(await rowIds())), { timeout: 30_000 }).toBeGreaterThan(held);
    const live = Math.max(...(await rowIds()));
    await page.locator(`[data-testid=live-row][data-id="${live}"]`).focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('[data-testid=record-detail]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid=detail-pv]').textContent()).toMatch(/^demo:missing:\d+$/);
    // SEARCH is command 6: the dump starts with its header.
    expect(await detail.locator('[data-testid=hex-dump]').textContent()).toMatch(/^0000 {2}00 06 /);
    await page.screenshot({ path: artefact('daemon-detail.png') });
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/live$/);
  });

  it('lists connected channels', async () => {
    await show('channels');
    // The demo's clients come and go: some rows of the PV may be cleared, one must be connected.
    const rows = page
      .locator('[data-testid=channels-table] tr', { hasText: 'demo:double' })
      .filter({ hasText: 'connected' });
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await rows.first().textContent()).toMatch(/demo:double.*127\.0\.0\.1:\d+.*connected.*DOUBLE/);
    // The demo's load client writes: the write audit lists them with the writing process.
    const writes = page.locator('[data-testid=writes-table] tbody tr', { hasText: 'demo:' });
    await expect.poll(() => writes.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await writes.first().textContent()).toMatch(/\d\d:\d\d:\d\d\.\d{3}127\.0\.0\.1:\d+.*demo:\w+/);
    await page.screenshot({ path: artefact('daemon-channels.png') });
  });

  it('lists the PVs of the search storm as never found, from the live analyses', async () => {
    await show('searches');
    const rows = page.locator('[data-testid=never-found-table] tbody tr');
    await expect
      .poll(() => rows.filter({ hasText: /demo:missing:\d+/ }).count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    // PV, a search count, and the searching process on loopback.
    expect(
      await rows
        .filter({ hasText: /demo:missing:\d+/ })
        .first()
        .textContent(),
    ).toMatch(/^demo:missing:\d+\s*\d+.*127\.0\.0\.1:\d+/);
    // The snapshot carries the daemon's analyses (not the fallback of an older daemon).
    const res = await fetch(`${base}api/report?section=never_found`);
    const report = (await res.json()) as { never_found?: { pv: string }[] };
    expect(report.never_found, `HTTP ${res.status}: ${JSON.stringify(report).slice(0, 300)}`).toBeDefined();
    expect(report.never_found?.some((n) => /^demo:missing:/.test(n.pv))).toBe(true);
    // Storms come from the report; the table or its empty note is there once the first answer came.
    await expect
      .poll(() => page.getByTestId('searches-view').textContent(), { timeout: 10_000 })
      .not.toContain('Asking the daemon for its report');
    expect(await page.getByTestId('searches-view').textContent()).not.toContain('report unavailable');
    await page.waitForTimeout(2500);
    await page.screenshot({ path: artefact('daemon-searches.png') });
  });

  it('shows servers, clients, latency and errors', async () => {
    await show('servers');
    await expect
      .poll(() => page.getByTestId('servers-table').textContent(), { timeout: 15_000 })
      .toContain('127.0.0.1:');
    await page.screenshot({ path: artefact('daemon-servers.png') });
    await show('clients');
    await expect
      .poll(() => page.getByTestId('clients-table').textContent(), { timeout: 15_000 })
      .toContain('127.0.0.1');
    await page.screenshot({ path: artefact('daemon-clients.png') });
    await show('latency');
    await expect
      .poll(() => page.getByTestId('latency-table').textContent(), { timeout: 15_000 })
      .toMatch(/read|create|search/);
    await page.screenshot({ path: artefact('daemon-latency.png') });
    await show('errors');
    await page.getByTestId('alert-badge').waitFor();
    await page.screenshot({ path: artefact('daemon-errors.png') });
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('cannot be framed by another page', async () => {
    const other = await browser.newPage();
    const refusals: string[] = [];
    other.on('console', (m) => refusals.push(m.text()));
    // A page of another origin (about:blank with HTML of the attacker's choosing) frames the dashboard.
    await other.setContent(`<iframe id="f" src="${base}"></iframe>`);
    await expect
      .poll(() => refusals.some((t) => /frame-ancestors|Refused to (display|frame)/i.test(t)), { timeout: 10_000 })
      .toBe(true);
    const framed = other.frames().find((f) => f.url().startsWith(base));
    expect(
      (await framed
        ?.locator('[data-testid=connection]')
        .count()
        .catch(() => 0)) ?? 0,
    ).toBe(0);
    await other.close();
  });
});
