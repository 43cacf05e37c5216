/**
 * The clients of a load step: the dashboard in headless Chromium (with a probe injected before the page's own
 * scripts) and one WebSocket client that reads every frame.
 */
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { countWsFrame, emptyWsCounts, PAGE_SAMPLE_MS } from './load-plan.js';
import type { LongTask, PageSample, ViewSwitch, WsCounts } from './load-plan.js';

/** Records per second the WebSocket client asks for: the most the daemon grants a client (hub.ts MAX_CLIENT_RATE). */
const WS_CLIENT_RATE = 20_000;

/** Samples kept by the probe: enough for a few minutes at one every {@link PAGE_SAMPLE_MS}. */
const MAX_SAMPLES = 6000;

/**
 * Runs in the page before its scripts: records long tasks (PerformanceObserver 'longtask', tasks over 50 ms)
 * and, every PAGE_SAMPLE_MS, how late that timer fired, the newest Live row's capture time and the status
 * bar's own lag, sampling and lag-stage hooks. The newest row's time comes from `data-t` (the live contract) when rows
 * carry it, else from the first row's clock text (HH:MM:SS.mmm UTC, newest rows are on top).
 */
const PROBE = `(() => {
  const probe = { samples: [], longTasks: [] };
  window.__caLoad = probe;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  const clock = (text, nearMs) => {
    const m = /^(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d{3})$/.exec(text.trim());
    if (m === null) return NaN;
    const day = 86400000;
    let ms = Math.floor(nearMs / day) * day + ((+m[1] * 60 + +m[2]) * 60 + +m[3]) * 1000 + +m[4];
    if (ms - nearMs > day / 2) ms -= day; else if (nearMs - ms > day / 2) ms += day;
    return ms / 1000;
  };
  const newest = (nowMs) => {
    // Not the rows of a hidden Live table (the page keeps it mounted while another view shows).
    const rows = document.querySelectorAll('[data-t]:not([data-live-hidden] *)');
    if (rows.length > 0) {
      let t = -Infinity;
      for (const r of rows) t = Math.max(t, Number(r.getAttribute('data-t')));
      return Number.isFinite(t) ? t : NaN;
    }
    const cell = document.querySelector('[data-testid=live-row]:not([data-live-hidden] *) span');
    return cell === null ? NaN : clock(cell.textContent || '', nowMs);
  };
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - ${PAGE_SAMPLE_MS};
    last = now;
    const wall = Date.now();
    const bar = document.querySelector('[data-testid=status-bar]');
    const lag = bar === null ? null : bar.getAttribute('data-lag-ms');
    const sampling = bar === null ? null : bar.getAttribute('data-sampling');
    const stages = bar === null ? null : bar.getAttribute('data-stages');
    if (probe.samples.length < ${MAX_SAMPLES})
      probe.samples.push([wall, late, newest(wall), lag === null ? null : Number(lag),
        sampling === 'true' ? 1 : sampling === 'false' ? 0 : null,
        stages ? stages.split(' ').map(Number) : null]);
  }, ${PAGE_SAMPLE_MS});
})();`;

/** Opens the dashboard at `url` with the probe in place and waits until it shows the connection as open. */
export async function openDashboard(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(PROBE);
  await page.goto(url, { waitUntil: 'load' });
  await page
    .locator('[data-testid=connection][data-state=open]')
    .waitFor({ timeout: 15_000 })
    .catch(() => undefined);
  return page;
}

/** The probe's samples and long tasks; empty when the page does not answer within `timeoutMs`. */
export async function readProbe(
  page: Page,
  timeoutMs: number,
): Promise<{ samples: PageSample[]; longTasks: LongTask[]; answered: boolean }> {
  const read = page.evaluate(
    () => (globalThis as unknown as { __caLoad?: { samples: PageSample[]; longTasks: LongTask[] } }).__caLoad,
  );
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
  const got = await Promise.race([read.catch(() => undefined), timeout]);
  return got === undefined ? { samples: [], longTasks: [], answered: false } : { ...got, answered: true };
}

/** The page's views in tab order (the dashboard's `VIEWS`), each with the element that says it is shown. */
const VIEW_ROOTS: Readonly<Record<string, string>> = {
  channels: '[data-testid=channels-view]',
  servers: '[data-testid=servers-view]',
  clients: '[data-testid=clients-view]',
  searches: '[data-testid=searches-view]',
  latency: '[data-testid=latency-view]',
  talkers: '[data-testid=talkers-view]',
  circuits: '[data-testid=circuits-view]',
  errors: '[data-testid=errors-view]',
  // Shown, not kept hidden behind another view (the page keeps the Live table mounted once it was shown).
  live: '[data-testid=live-scroller]:not([data-live-hidden] *)',
};

/** Longest a switch may take before the tour gives up on it (a frozen page). */
const SWITCH_TIMEOUT_MS = 10_000;

/**
 * The in-page code of one switch (a string: this package is not compiled against the DOM): clicks the view's
 * tab, then resolves with the milliseconds until a frame was painted with `root` in the DOM; NaN without
 * the tab.
 */
function switchScript(view: string, root: string): string {
  return `(async () => {
    const t0 = performance.now();
    // A mark in the page's trace (--trace): its long tasks are attributed to the switch they fall in.
    performance.mark(${JSON.stringify(`ca-shark:switch:${view}`)});
    const tab = document.querySelector(${JSON.stringify(`nav a[data-view=${view}]`)});
    if (tab === null) return NaN;
    tab.click();
    await new Promise((done) => {
      const painted = () => {
        if (document.querySelector(${JSON.stringify(root)}) !== null || performance.now() - t0 > ${SWITCH_TIMEOUT_MS})
          requestAnimationFrame(() => setTimeout(done, 0));
        else requestAnimationFrame(painted);
      };
      painted();
    });
    return performance.now() - t0;
  })()`;
}

/**
 * Clicks through every view of the page and back to Live, `pauseMs` apart, and measures each switch as the
 * issue states it: from the click to the first frame painted with the new view in the DOM. A switch that
 * does not finish within {@link SWITCH_TIMEOUT_MS} counts as that long.
 */
export async function tourViews(page: Page, pauseMs: number): Promise<ViewSwitch[]> {
  const switches: ViewSwitch[] = [];
  for (const [view, root] of Object.entries(VIEW_ROOTS)) {
    await page.waitForTimeout(pauseMs);
    const ms = await page.evaluate<number>(switchScript(view, root)).catch(() => NaN);
    switches.push({ view, ms });
  }
  // The table shows the slowest; every switch goes to stderr, to compare views between builds.
  process.stderr.write(
    `bench:load: tab switches ms: ${switches.map((s) => `${s.view} ${s.ms.toFixed(0)}`).join(', ')}\n`,
  );
  return switches;
}

/** A WebSocket client subscribed to everything, counting what it reads. */
export interface WsReader {
  counts: WsCounts;
  /** Starts counting from zero (the snapshot and hello of the connection do not belong to a step). */
  reset(): void;
  close(): void;
}

/** Connects to `/ws` and resolves once the daemon said hello. */
export function connectWs(url: string, timeoutMs: number): Promise<WsReader> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const reader: WsReader = {
      counts: emptyWsCounts(),
      reset() {
        reader.counts = emptyWsCounts();
      },
      close() {
        socket.terminate();
      },
    };
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no hello from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      countWsFrame(reader.counts, frame);
      if ((frame as { type?: unknown }).type === 'hello') {
        clearTimeout(timer);
        socket.send(JSON.stringify({ type: 'subscribe', filter: {} }));
        // Ask for as many records as a daemon gives one client; a daemon without per-client rates answers
        // with an error frame, which only counts as a frame.
        socket.send(JSON.stringify({ type: 'rate', recordsPerSecond: WS_CLIENT_RATE }));
        resolve(reader);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
