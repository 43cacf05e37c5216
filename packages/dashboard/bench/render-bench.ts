/**
 * Render bench: floods the page with CA messages and reports the longest main-thread task the browser
 * saw (PerformanceObserver 'longtask', tasks over 50 ms) while the live table renders, then switches
 * through the views and reports how long each switch took (click to the next painted frame) and how many
 * rows each view put in the DOM. The fake daemon samples as the daemon does (`--max-per-second`) and
 * fills every table with `--table-rows` rows.
 *
 *   pnpm --filter @ca-shark/dashboard bench                       # fake daemon fixture, 100k msg/s, 5 s
 *   tsx --conditions=source bench/render-bench.ts --dist /tmp/old-dist --format full  # a page built before the compact stream
 *   tsx --conditions=source bench/render-bench.ts --rate 100000 --seconds 10
 *   tsx --conditions=source bench/render-bench.ts --url http://127.0.0.1:8080/        # a running ca-sharkd (drive it yourself)
 *   tsx --conditions=source bench/render-bench.ts --trace --tours 3   # per switch: main-thread CPU from a trace
 *                                                                 # (written to test-results/render-bench-trace.json)
 *   tsx --conditions=source bench/render-bench.ts --daemon                            # as root: ca-sharkd -i lo + ca-sim IOC and
 *                                                                 # monitor load aimed at --rate msg/s
 *
 * Needs a built page (`vite build`, done by the `bench` script) and Debian's /usr/bin/chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { PACKAGE_DIR, artefact, freePort, launchBrowser } from '../e2e/browser.js';
import { startFakeDaemon, type FakeDaemon } from '../e2e/fake-daemon.js';
import { SWITCH_MARK, switchCosts, type SwitchCost } from './switch-trace.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '5' },
    dist: { type: 'string' },
    format: { type: 'string', default: 'compact' },
    'max-per-second': { type: 'string', default: '2000' },
    'table-rows': { type: 'string', default: '500' },
    // A daemon under a flood holds a few hundred alert groups (up to 200 per severity).
    'alert-rows': { type: 'string', default: '200' },
    url: { type: 'string' },
    view: { type: 'string', default: 'live' },
    daemon: { type: 'boolean', default: false },
    // Tours of the views; with --trace, each switch's main-thread CPU from a Chromium trace.
    tours: { type: 'string', default: '1' },
    trace: { type: 'boolean', default: false },
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

const REPO = resolve(PACKAGE_DIR, '../..');
const children: ChildProcess[] = [];

/** Runs a workspace command from its TypeScript sources. */
function runTs(main: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', resolve(REPO, main), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer`);
}

async function daemonStats(base: string): Promise<{
  messagesPerSecond: number;
  capture: { dropped: number; ifDropped: number };
  websocket: { dropped: number };
} | null> {
  try {
    return (await (await fetch(`${base}api/stats`)).json()) as never;
  } catch {
    return null;
  }
}

let fake: FakeDaemon | undefined;
let url = values.url;
if (values.daemon) {
  // A private CA port keeps the load off anything else speaking CA on this host.
  const caPort = 20000 + Math.floor(Math.random() * 20000);
  const httpPort = await freePort();
  // Each monitor of a PV updating at 100 Hz gives 100 messages/s.
  const monitors = Math.max(1, Math.round(rate / 100 / 5));
  runTs('packages/daemon/src/main.ts', [
    '-i',
    'lo',
    '--ports',
    `${caPort},${caPort + 1}`,
    '--listen',
    `127.0.0.1:${httpPort}`,
    '--dashboard',
    resolve(PACKAGE_DIR, 'dist'),
    '--buffer-size',
    '64M',
    '--log-level',
    'warn',
  ]);
  url = `http://127.0.0.1:${httpPort}/`;
  await waitFor(`${url}api/health`, 60_000);
  runTs('packages/sim/src/main.ts', [
    'ioc',
    '--pvs',
    String(monitors),
    '--rate',
    '100',
    '--port',
    String(caPort),
    '--beacon-port',
    String(caPort + 1),
  ]);
  await new Promise((r) => setTimeout(r, 2000));
  runTs('packages/sim/src/main.ts', [
    'load',
    '--clients',
    '5',
    '--channels',
    String(monitors),
    '--monitors',
    String(monitors),
    '--pvs',
    String(monitors),
    '--ops',
    '50',
    '--duration',
    String(seconds + 30),
    '--port',
    String(caPort),
    '--addr-list',
    `127.0.0.1:${caPort}`,
  ]);
  await new Promise((r) => setTimeout(r, 3000));
} else if (!url) {
  fake = await startFakeDaemon({
    distDir: resolve(values.dist ?? resolve(PACKAGE_DIR, 'dist')),
    rate,
    format: values.format === 'full' ? 'full' : 'compact',
    maxPerSecond: Number(values['max-per-second']),
    tableRows: Number(values['table-rows']),
    alertRows: Number(values['alert-rows']),
  });
  url = fake.url;
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // tsx keeps function names with a `__name` helper that the page does not have.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  // Observe from the very first script, so page start-up counts too.
  await page.addInitScript(() => {
    const w = window as unknown as {
      __bench: { longest: number; over50: number; tasks: number; startupLongest: number; measuring: boolean };
    };
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
  const stats = url && !fake ? await daemonStats(url) : null;
  const bar = await page.evaluate(() => {
    const el = document.querySelector('[data-testid=status-bar]');
    return { lag: el?.getAttribute('data-lag-ms') ?? null, sampling: el?.getAttribute('data-sampling') ?? null };
  });
  const streaming = await page.evaluate(() => ({
    ...(window as unknown as { __bench: Omit<PageNumbers, 'rows'> }).__bench,
  }));
  // Tab switches under the same flood: click, then wait for the view and the next painted frame.
  const switches: { view: string; ms: number; domRows: number }[] = [];
  const tour = ['channels', 'clients', 'searches', 'errors', 'servers', 'latency', 'live', 'channels', 'live'];
  if (values.trace)
    await browser.startTracing(page, {
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'toplevel'],
    });
  for (const view of Array.from({ length: Number(values.tours) }, () => tour).flat()) {
    await page.waitForTimeout(700);
    const r = await page.evaluate(
      async ([v, mark]) => {
        const root: Record<string, string> = {
          live: '[data-testid=live-scroller]:not([data-live-hidden] *)',
          channels: '[data-testid=channels-view]',
          clients: '[data-testid=clients-view]',
          searches: '[data-testid=searches-view]',
          errors: '[data-testid=errors-view]',
          servers: '[data-testid=servers-view]',
          latency: '[data-testid=latency-view]',
        };
        const t0 = performance.now();
        performance.mark(`${mark}${v}`);
        (document.querySelector(`nav a[data-view=${v}]`) as HTMLElement).click();
        await new Promise<void>((done) => {
          const check = (): void => {
            if (document.querySelector(root[v])) requestAnimationFrame(() => setTimeout(done, 0));
            else requestAnimationFrame(check);
          };
          check();
        });
        const ms = performance.now() - t0;
        const domRows = document.querySelectorAll('tbody tr, [data-testid=live-row]:not([data-live-hidden] *)').length;
        return { ms, domRows };
      },
      [view, SWITCH_MARK] as const,
    );
    switches.push({ view, ...r });
  }
  await page.waitForTimeout(700);
  // The tasks that began within this long after a click count for its switch (the tour waits 700 ms).
  const traceText = values.trace ? (await browser.stopTracing()).toString('utf8') : '';
  if (values.trace) writeFileSync(artefact('render-bench-trace.json'), traceText);
  const costs: SwitchCost[] = values.trace ? switchCosts(JSON.parse(traceText) as never, 600) : [];
  const n = await page.evaluate(() => {
    const b = (window as unknown as { __bench: Omit<PageNumbers, 'rows'> }).__bench;
    const rows =
      document.querySelector('[data-testid=status-bar]')?.textContent?.match(/rows\s*([\d\s\u2009]+)/)?.[1] ?? '?';
    return { ...b, rows: rows.trim() };
  });
  const slowest = switches.reduce((a, b) => (b.ms > a.ms ? b : a), switches[0]);
  const lines = [
    `source            ${fake ? `fake daemon fixture, offered ${rate.toLocaleString('en-US')} msg/s` : values.daemon ? `ca-sharkd -i lo with ca-sim load aimed at ${rate.toLocaleString('en-US')} msg/s` : url}`,
    ...(stats
      ? [
          `daemon            ${Math.round(stats.messagesPerSecond).toLocaleString('en-US')} CA msg/s decoded, libpcap drops ${stats.capture.dropped + stats.capture.ifDropped}, WebSocket drops ${stats.websocket.dropped}`,
        ]
      : []),
    `duration          ${seconds} s`,
    ...(fake
      ? [
          `delivered         ${Math.round(sentDuring / seconds).toLocaleString('en-US')} msg/s to the page (${fake.dropped().toLocaleString('en-US')} dropped for backpressure)`,
        ]
      : []),
    `page              ${fake ? `${values.format} stream, ${Number(values['table-rows']).toLocaleString('en-US')} rows per table, ${Number(values['alert-rows']).toLocaleString('en-US')} more alerts` : ''}`,
    `rows held         ${n.rows}`,
    `status bar        data-lag-ms=${bar.lag} data-sampling=${bar.sampling}`,
    `longest task      ${streaming.longest.toFixed(0)} ms while streaming (PerformanceObserver longtask; 0 = none over 50 ms)`,
    `tasks over 50 ms  ${streaming.over50} of ${streaming.tasks} long tasks while streaming`,
    `tab switches      ${switches.map((x) => `${x.view} ${x.ms.toFixed(0)} ms (${x.domRows} rows)`).join(', ')}`,
    `slowest switch    ${slowest.view} ${slowest.ms.toFixed(0)} ms`,
    `longest task      ${n.longest.toFixed(0)} ms over streaming and switching; ${n.over50} tasks over 50 ms`,
    `start-up          longest task ${n.startupLongest.toFixed(0)} ms (loading and first render, not counted above)`,
    ...(costs.length > 0
      ? [
          'per switch (trace; main-thread tasks begun within 600 ms of the click): wall ms, CPU ms, longest task wall/CPU ms, top self times',
          ...costs.map(
            (c, i) =>
              `  ${c.view.padEnd(9)} ${(switches[i]?.ms ?? NaN).toFixed(0).padStart(4)} ms  cpu ${c.cpuMs.toFixed(0).padStart(4)}  longest ${c.longestMs.toFixed(0).padStart(3)}/${c.longestCpuMs.toFixed(0).padStart(3)}  ${c.events.map((e) => `${e.name} ${e.ms.toFixed(0)}`).join(', ')}`,
          ),
          'per view over the tours, median (max): switch ms, CPU ms, style+layout ms, longest task ms, its CPU ms',
          ...[...new Set(costs.map((c) => c.view))].map((v) => {
            const mine = costs.map((c, i) => ({ c, ms: switches[i]?.ms ?? NaN })).filter((x) => x.c.view === v);
            const stat = (xs: number[]): string => {
              const s = [...xs].sort((a, b) => a - b);
              return `${(s[(s.length - 1) >> 1] ?? NaN).toFixed(0)} (${(s.at(-1) ?? NaN).toFixed(0)})`;
            };
            return `  ${v.padEnd(9)} ${[
              stat(mine.map((x) => x.ms)),
              stat(mine.map((x) => x.c.cpuMs)),
              stat(mine.map((x) => x.c.layoutMs)),
              stat(mine.map((x) => x.c.longestMs)),
              stat(mine.map((x) => x.c.longestCpuMs)),
            ].join('  ')}  n=${mine.length}`;
          }),
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await browser.close();
  await fake?.close();
  for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGINT');
}
