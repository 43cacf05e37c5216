/**
 * Downloads from the page, against the real daemon replaying a capture file (no live capture, no root):
 * the pcapng of the current filter (`/api/pcap`, through the page's link, with the page's token) and a
 * table as CSV and NDJSON (the whole table with its filter and sort, made by the data worker).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import { CHROMIUM_PATH, PACKAGE_DIR, buildDashboard, launchBrowser, openTestPage } from './browser.js';
import { DaemonProcess, daemonAvailable } from './daemon-process.js';

const REPO = resolve(PACKAGE_DIR, '../..');
const CLI_MAIN = resolve(REPO, 'packages/cli/src/main.ts');
const CAPTURE = resolve(REPO, 'packages/packet/fixtures/catest.pcap');
const TOKEN = 'e2e-download-token';
const canRun = existsSync(CHROMIUM_PATH) && daemonAvailable;

let daemon: DaemonProcess | undefined;
let base = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function bytesOf(download: Download): Promise<Buffer> {
  return readFileSync(await download.path());
}

/** `ca-shark --format ARGS...` (from the sources) on a capture: its lines. */
function caShark(capture: string, args: string[]): string[] {
  const out = execFileSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', CLI_MAIN, '--format', '{command.name} {pv}', ...args, capture],
    { cwd: REPO, encoding: 'utf8' },
  );
  return out.trimEnd().split('\n');
}

describe.skipIf(!canRun)('downloads from the page (ca-sharkd -r FILE)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const dist = await buildDashboard('test-results/dist-download');
    daemon = await DaemonProcess.start(['-r', CAPTURE, '--speed', 'max'], dist, { token: TOKEN });
    base = daemon.url;
    await daemon.waitForHealth(60_000, (health) => health.eof === true);
    browser = await launchBrowser();
    page = await openTestPage(browser, pageErrors);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('downloads the packets of the current filter as pcapng', async () => {
    await page.goto(`${base}?token=${TOKEN}#/live?pv=test:wf`);
    const link = page.getByTestId('download-pcap');
    await expect.poll(() => link.getAttribute('href')).toContain('pv=test%3Awf');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^ca-shark-\d{8}T\d{6}Z\.pcapng$/);
    // ca-shark reads the file: the same test:wf messages as in the capture.
    const expected = caShark(CAPTURE, ['--pv', 'test:wf']);
    expect(caShark(await download.path(), ['--pv', 'test:wf'])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
  });

  it('downloads a table as CSV and NDJSON, every row with the filter and sort shown', async () => {
    await page.goto(`${base}?token=${TOKEN}#/channels?pv=test:*`);
    const tools = page.getByTestId('channels-table-download');
    await tools.waitFor();
    const shown = Number(await page.getByTestId('channels-table').getAttribute('aria-rowcount'));
    expect(shown).toBeGreaterThan(0);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      tools.getByRole('button', { name: 'CSV' }).click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/^ca-shark-channels-\d{8}T\d{6}Z\.csv$/);
    const lines = (await bytesOf(csv)).toString('utf8').trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^PV,/);
    expect(lines).toHaveLength(shown + 1);
    for (const line of lines.slice(1)) expect(line).toMatch(/^test:/);
    const [ndjson] = await Promise.all([
      page.waitForEvent('download'),
      tools.getByRole('button', { name: 'NDJSON' }).click(),
    ]);
    const rows = (await bytesOf(ndjson))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { pv: string });
    expect(rows).toHaveLength(shown);
    expect(rows.every((r) => r.pv.startsWith('test:'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
