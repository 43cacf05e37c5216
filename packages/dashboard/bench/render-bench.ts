/**
 * Render bench: drives ~50,000 CA messages/s into the page and reports the longest main-thread task
 * the browser saw (PerformanceObserver 'longtask', tasks over 50 ms) while the live table renders.
 *
 *   pnpm --filter @ca-shark/dashboard bench                       # fake daemon fixture, 50k msg/s, 5 s
 *   tsx bench/render-bench.ts --rate 100000 --seconds 10
 *   tsx bench/render-bench.ts --url http://127.0.0.1:8080/        # a running ca-sharkd (drive it yourself)
 *
 * Needs a built page (`vite build`, done by the `bench` script) and Debian's /usr/bin/chromium.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_DIR, launchBrowser } from '../e2e/browser.js';
import { startFakeDaemon, type FakeDaemon } from '../e2e/fake-daemon.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '5' },
    url: { type: 'string' },
    view: { type: 'string', default: 'live' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);

interface PageNumbers {
  startupLongest: number;
  longest: number;
  over50: number;
  tasks: number;
  rows: string;
}

let fake: FakeDaemon | undefined;
let url = values.url;
if (!url) {
  fake = await startFakeDaemon({ distDir: resolve(PACKAGE_DIR, 'dist'), rate });
  url = fake.url;
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // Observe from the very first script, so page start-up counts too.
  await page.addInitScript(() => {
    const w = window as unknown as { __bench: { longest: number; over50: number; tasks: number; startupLongest: number; measuring: boolean } };
    w.__bench = { longest: 0, over50: 0, tasks: 0, startupLongest: 0, measuring: false };
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        // Loading the page (parse, first render) is reported apart from the steady stream.
        if (!w.__bench.measuring) {
          w.__bench.startupLongest = Math.max(w.__bench.startupLongest, e.duration);
          continue;
        }
        w.__bench.tasks++;
        w.__bench.longest = Math.max(w.__bench.longest, e.duration);
        if (e.duration > 50) w.__bench.over50++;
      }
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${url}#/${values.view}`);
  await page.locator('[data-testid=connection]').filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
  // Let start-up finish (first frames parsed and rendered), then measure the steady stream.
  await page.waitForTimeout(1500);
  await page.evaluate(() => {
    (window as unknown as { __bench: { measuring: boolean } }).__bench.measuring = true;
  });
  const sentBefore = fake?.sent() ?? 0;
  await page.waitForTimeout(seconds * 1000);
  const sentDuring = (fake?.sent() ?? 0) - sentBefore;
  const n = await page.evaluate(() => {
    const b = (window as unknown as { __bench: Omit<PageNumbers, 'rows'> }).__bench;
    const rows = document.querySelector('[data-testid=status-bar]')?.textContent?.match(/rows\s*([\d\s\u2009]+)/)?.[1] ?? '?';
    return { ...b, rows: rows.trim() };
  });
  const lines = [
    `source            ${fake ? `fake daemon fixture, offered ${rate.toLocaleString('en-US')} msg/s` : url}`,
    `duration          ${seconds} s`,
    ...(fake ? [`delivered         ${Math.round(sentDuring / seconds).toLocaleString('en-US')} msg/s to the page (${fake.dropped().toLocaleString('en-US')} dropped for backpressure)`] : []),
    `rows held         ${n.rows}`,
    `longest task      ${n.longest.toFixed(0)} ms while streaming (PerformanceObserver longtask; 0 = none over 50 ms)`,
    `start-up          longest task ${n.startupLongest.toFixed(0)} ms (loading and first render, not counted above)`,
    `tasks over 50 ms  ${n.over50} of ${n.tasks} long tasks`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await browser.close();
  await fake?.close();
}
