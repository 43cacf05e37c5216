/**
 * The filter bar in headless Chromium against the fake daemon: brace globs and the shared families reach
 * the daemon unchanged, and an invalid filter is reported next to the bar while the previous filter (its
 * subscription, rows and URL) stays in force.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { artefact, rowPvs } from './browser.js';
import type { FakeDaemon } from './fake-daemon.js';
import { useFakeDaemonPage } from './fixture.js';

const fx = useFakeDaemonPage('test-results/dist-filter', { rate: 300 });
const pageErrors = fx.pageErrors;
let fake: FakeDaemon;
let page: Page;
beforeAll(() => void ({ fake, page } = fx));

/** Types `text` into the filter field `name` (replacing what is there) and presses Enter. */
async function typeFilter(p: Page, name: 'pv' | 'host' | 'command', text: string): Promise<void> {
  const input = p.locator(`input[name=${name}]`);
  await input.fill(text);
  await input.press('Enter');
}

describe('filter bar against the fake daemon', { timeout: 60_000 }, () => {
  it('sends a brace glob whole and shows the PVs of every alternative', async () => {
    await page.goto(fake.url);
    await page.locator('[data-testid=live-row]').first().waitFor();
    await typeFilter(page, 'pv', 'sim:{counter,enum}');
    await expect.poll(() => fake.subscriptions.at(-1)).toEqual({ pv: ['sim:{counter,enum}'] });
    await expect
      .poll(async () => new Set(await rowPvs(page)), { timeout: 10_000 })
      .toEqual(new Set(['sim:counter', 'sim:enum']));
    expect(await page.locator('[data-testid=filter-error]').count()).toBe(0);
  });

  it('reports an invalid glob inline and keeps the previous filter, its rows and its URL', async () => {
    const subscriptions = fake.subscriptions.length;
    const url = page.url();
    await typeFilter(page, 'pv', 'sim:{counter');
    const error = page.locator('[data-testid=filter-error]');
    await error.waitFor();
    expect(await error.textContent()).toBe('bad PV glob "sim:{counter": unclosed {');
    expect(await page.locator('input[name=pv]').getAttribute('aria-invalid')).toBe('true');
    // The field keeps what the user typed so it can be corrected.
    expect(await page.locator('input[name=pv]').inputValue()).toBe('sim:{counter');
    await page.waitForTimeout(800);
    expect(fake.subscriptions.length).toBe(subscriptions);
    expect(page.url()).toBe(url);
    const pvs = await rowPvs(page);
    expect(pvs.length).toBeGreaterThan(0);
    expect(new Set(pvs)).toEqual(new Set(['sim:counter', 'sim:enum']));
    await page.screenshot({ path: artefact('filter-error.png') });
  });

  it('clears the error once a valid filter is applied, families included', async () => {
    await typeFilter(page, 'pv', '');
    await typeFilter(page, 'command', 'write');
    await expect.poll(() => fake.subscriptions.at(-1)).toEqual({ command: ['write'] });
    expect(await page.locator('[data-testid=filter-error]').count()).toBe(0);
    await expect.poll(async () => new Set(await rowPvs(page)), { timeout: 10_000 }).toEqual(new Set(['sim:long']));
  });

  it('reports a bad host or command name the same way', async () => {
    await typeFilter(page, 'host', '10.0.0');
    await expect
      .poll(() => page.locator('[data-testid=filter-error]').textContent())
      .toMatch(/^bad host address "10\.0\.0"/);
    await typeFilter(page, 'host', '');
    await typeFilter(page, 'command', 'serch');
    await expect
      .poll(() => page.locator('[data-testid=filter-error]').textContent())
      .toMatch(/^unknown command "serch"/);
    expect(fake.subscriptions.at(-1)).toEqual({ command: ['write'] });
  });

  it('reports an invalid filter in a deep link and shows the rows of the filter in force', async () => {
    await page.goto(`${fake.url}#/live?cmd=serch`);
    await page.locator('[data-testid=live-row]').first().waitFor();
    expect(await page.locator('[data-testid=filter-error]').textContent()).toMatch(/^unknown command "serch"/);
    expect(pageErrors).toEqual([]);
  });
});
