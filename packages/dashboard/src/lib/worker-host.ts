/**
 * The data worker's logic, apart from the Worker global so it is tested in Node: runs a
 * {@link LiveClient}, answers the page's commands, and posts an update after each (throttled) change.
 */
import type { RecordJSON, SubscribeFilter } from './contract.js';
import { LiveClient, type LiveClientOptions } from './live-client.js';
import { summarizeRecord, type RowSummary } from './records.js';
import type { ClientStatus, LatencySeriesData, WindowRow, WorkerCommand, WorkerUpdate } from './worker-protocol.js';

/** Most rows the page may ask for at once (a screen is about 40). */
const MAX_WINDOW = 500;

/** Handles the page's commands; `post` sends updates back. Returns the command handler. */
export function createWorkerHost(
  post: (u: WorkerUpdate) => void,
  options: Omit<LiveClientOptions, 'url'> = {},
): (cmd: WorkerCommand) => void {
  let client: LiveClient | null = null;
  let window = { start: 0, end: 50 };
  let sentSnapshot: unknown = null;
  let sentRates = -1;
  let wantLatency = false;
  // The page may set its filter (from the URL) before it starts the connection.
  let filter: SubscribeFilter = {};
  let filterSeq = 0;
  let sentLatency = -1;

  // A row stays on screen for several updates: summarise it once.
  const summaries = new WeakMap<RecordJSON, RowSummary>();
  function summaryOf(r: RecordJSON): RowSummary {
    let s = summaries.get(r);
    if (!s) {
      s = summarizeRecord(r);
      summaries.set(r, s);
    }
    return s;
  }

  function status(c: LiveClient): ClientStatus {
    return {
      state: c.state,
      source: c.source,
      daemonVersion: c.daemonVersion,
      serverDropped: c.serverDropped,
      received: c.received,
      heldDropped: c.heldDropped,
      attempts: c.attempts,
      nextAttemptAt: c.nextAttemptAt,
      lastError: c.lastError,
      paused: c.isPaused,
      heldCount: c.heldCount,
      rowCount: c.rows.size,
      capacity: c.rows.capacity,
      filter: c.currentFilter,
      filterError: c.filterError,
      filterSeq: c.filterSeq,
    };
  }

  function update(): void {
    const c = client;
    if (!c) return;
    const newestSeq = c.rows.pushed - 1;
    const rows: WindowRow[] = c.rows
      .sliceNewest(window.start, window.end)
      .map((record, i) => ({ seq: newestSeq - (window.start + i), record, summary: summaryOf(record) }));
    const u: WorkerUpdate = { type: 'update', status: status(c), window: { start: window.start, rows } };
    if (c.snapshot !== sentSnapshot && c.snapshot) {
      u.snapshot = c.snapshot;
      sentSnapshot = c.snapshot;
    }
    if (c.rates.pushed !== sentRates) {
      u.rates = c.rates.sliceNewest(0, c.rates.size).reverse();
      sentRates = c.rates.pushed;
    }
    if (wantLatency && c.latency.version !== sentLatency) {
      u.latency = c.latency.all().map((s): LatencySeriesData => ({
        server: s.server,
        kind: s.kind,
        count: s.count,
        histogram: [...s.histogram],
        points: s.series.sliceNewest(0, s.series.size).reverse(),
      }));
      sentLatency = c.latency.version;
    }
    post(u);
  }

  return (cmd) => {
    switch (cmd.type) {
      case 'start':
        if (client) client.stop();
        client = new LiveClient({ ...options, url: cmd.url });
        client.setFilter(filter, filterSeq);
        client.onChange(update);
        client.start();
        break;
      case 'stop':
        client?.stop();
        break;
      case 'window': {
        const start = Math.max(0, Math.floor(cmd.start));
        window = { start, end: Math.max(start, Math.min(start + MAX_WINDOW, Math.floor(cmd.end))) };
        update();
        break;
      }
      case 'filter':
        filter = cmd.filter;
        filterSeq = cmd.seq;
        client?.setFilter(cmd.filter, cmd.seq);
        break;
      case 'pause':
        client?.pause();
        break;
      case 'resume':
        client?.resume();
        break;
      case 'clear':
        client?.clear();
        break;
      case 'latency':
        wantLatency = cmd.on;
        sentLatency = -1;
        update();
        break;
      default:
        break;
    }
  };
}
