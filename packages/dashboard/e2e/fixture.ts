/** The setup the browser tests against the fake daemon share: build, fake daemon, Chromium, one page. */
import { afterAll, beforeAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { buildDashboard, launchBrowser, openTestPage } from './browser.js';
import { startFakeDaemon, type FakeDaemon, type FakeDaemonOptions } from './fake-daemon.js';

/** What a test file gets: filled in by `beforeAll`. */
export interface FakeFixture {
  fake: FakeDaemon;
  browser: Browser;
  page: Page;
  /** Uncaught page errors and console errors. */
  pageErrors: string[];
}

/**
 * Builds the page into `outDir` (under the package), starts the fake daemon with `options` and a
 * Chromium page before the file's tests, and closes them after.
 */
export function useFakeDaemonPage(outDir: string, options: Omit<FakeDaemonOptions, 'distDir'>): FakeFixture {
  const fx = { pageErrors: [] as string[] } as unknown as FakeFixture;
  beforeAll(async () => {
    const dist = await buildDashboard(outDir);
    fx.fake = await startFakeDaemon({ distDir: dist, ...options });
    fx.browser = await launchBrowser();
    fx.page = await openTestPage(fx.browser, fx.pageErrors);
  }, 120_000);
  afterAll(async () => {
    await fx.browser?.close();
    await fx.fake?.close();
  });
  return fx;
}
