/** Shared helpers of the browser tests: build the page, launch Debian's Chromium headless. */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '@ca-shark/bench/chromium';

/** The dashboard package root. */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where screenshots and other artefacts go (gitignored). */
export const RESULTS_DIR = resolve(PACKAGE_DIR, 'test-results');

/** Debian's Chromium (or `CHROMIUM_PATH`), as the load bench launches it. */
export { CHROMIUM_PATH } from '@ca-shark/bench/chromium';

/** Builds the page with Vite into `outDir` (relative to the package). */
export async function buildDashboard(outDir: string): Promise<string> {
  const { build } = await import('vite');
  const out = resolve(PACKAGE_DIR, outDir);
  await build({
    root: PACKAGE_DIR,
    configFile: resolve(PACKAGE_DIR, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: out, emptyOutDir: true },
  });
  return out;
}

/** Launches headless Chromium with the workspace's one set of flags (`@ca-shark/bench/chromium`). */
export const launchBrowser = launchChromium;

/** Makes sure the artefact directory exists and returns a path in it. */
export function artefact(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return resolve(RESULTS_DIR, name);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** The PV names of the Live table's rows, newest first. */
export function rowPvs(page: Page): Promise<string[]> {
  return page.locator('[data-testid=row-pv]').allTextContents();
}

/**
 * A 1280x800 light-scheme page that pushes every uncaught page error and console error into `errors`, so a
 * test can assert that the page ran clean.
 */
export async function openTestPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return page;
}
