/**
 * The screenshots in docs/dashboard.md: every view of a page on a running daemon, at 1280×720 (and the
 * phone layout at 390 px), into docs/img/. Not a test; run by hand against a daemon with traffic, e.g.
 *
 *   node packages/daemon/dist/main.js -r /tmp/caps/realistic.pcap --speed 0.5 --listen 127.0.0.1:18777 &
 *   sleep 30; pnpm exec tsx packages/dashboard/e2e/screenshots.ts http://127.0.0.1:18777/
 *
 * then shrink them (`pngquant --force --ext .png --quality 60-85 docs/img/dashboard-*.png`).
 */
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { VIEWS } from '../src/lib/filter.js';
import { PACKAGE_DIR, launchBrowser } from './browser.js';

const base = process.argv[2] ?? 'http://127.0.0.1:8080/';
const out = (name: string): string => resolve(PACKAGE_DIR, '../../docs/img', `dashboard-${name}.png`);

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, colorScheme: 'light' });
const settle = (p: Page, ms = 1500): Promise<void> => p.waitForTimeout(ms);
for (const view of VIEWS) {
  await page.goto(`${base}#/${view}`);
  await settle(page, view === 'talkers' || view === 'circuits' ? 2500 : 1500);
  await page.screenshot({ path: out(view) });
}
await page.goto(`${base}#/live`);
await settle(page);
await page.locator('[data-testid=live-row]').first().click();
await settle(page, 800);
await page.screenshot({ path: out('record') });
await page.keyboard.press('Escape');
for (const kind of ['pv', 'ioc'] as const) {
  await page.goto(`${base}#/${kind === 'pv' ? 'channels' : 'servers'}`);
  await settle(page);
  await page.locator(`[data-chart=${kind}]`).first().click();
  await page.getByTestId('chart-panel').getByRole('button', { name: '1 min' }).click();
  await settle(page, 2500);
  await page.screenshot({ path: out(`${kind}-chart`) });
  await page.getByRole('button', { name: '10 min' }).first().click();
}
await page.goto(`${base}#/talkers`);
await page.getByTestId('theme-toggle').selectOption('dark');
await settle(page, 2500);
await page.screenshot({ path: out('talkers-dark') });
await page.getByTestId('theme-toggle').selectOption('system');
const phone = await browser.newPage({ viewport: { width: 390, height: 760 }, colorScheme: 'light' });
await phone.goto(`${base}#/circuits`);
await settle(phone, 2500);
await phone.screenshot({ path: out('phone') });
await phone.getByTestId('views-menu').click();
await phone.screenshot({ path: out('phone-menu') });
await browser.close();
