/**
 * The status bar's lag and where it accrues, end to end: the fake daemon stamps each records frame with
 * the stage times a live daemon sends (`postedAt`, `decodedAt`, `publishedAt`), and the page must split the
 * newest row's lag into those stages in the lag's tooltip and `data-stages` (what the load bench reads).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { FakeDaemon, FakeStages } from './fake-daemon.js';
import { useFakeDaemonPage } from './fixture.js';

/** A decoder 1.2 s behind, as in the load bench at a flood's start. */
const STAGES: FakeStages = { capture: 40, decoder: 1200, main: 30, hub: 80 };
const DAEMON_MS = STAGES.capture + STAGES.decoder + STAGES.main + STAGES.hub;

const fx = useFakeDaemonPage('test-results/dist-lag-stages', { rate: 200, stagesMs: STAGES });
const pageErrors = fx.pageErrors;
let fake: FakeDaemon;
let page: Page;
beforeAll(() => void ({ fake, page } = fx));

/** The page and the fake daemon share two cores with other tests: allow them time. */
const SLOW = { timeout: 20_000 };

describe('the status bar’s lag stages', { timeout: 60_000 }, () => {
  it('shows each of the daemon’s stages and the way to the page, in data-stages and the tooltip', async () => {
    await page.goto(fake.url);
    const bar = page.getByTestId('status-bar');
    await expect.poll(() => bar.getAttribute('data-stages'), SLOW).toMatch(/^\d+ \d+ \d+ \d+ \d+$/);
    const [capture, decoder, main, hub, transit] = ((await bar.getAttribute('data-stages')) ?? '')
      .split(' ')
      .map(Number);
    expect({ capture, decoder, main, hub }).toEqual(STAGES);
    // The socket and the page's worker: on one machine, well under the daemon's part.
    expect(transit).toBeGreaterThanOrEqual(0);
    expect(transit).toBeLessThan(DAEMON_MS);
    // The lag itself covers the daemon's stages (and grows with the time since the frame).
    expect(Number(await bar.getAttribute('data-lag-ms'))).toBeGreaterThanOrEqual(DAEMON_MS);
    const lag = page.getByTestId('lag');
    expect(await lag.textContent()).toMatch(/^(lag|behind) \d\.\d s$/);
    expect(await lag.getAttribute('title')).toMatch(
      /capture to decoder 40 ms, decoding 1\.2 s, daemon's main thread 30 ms, daemon send 80 ms, to the page \d+ ms$/,
    );
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
