/**
 * The data worker's logic, apart from the Worker global so it is tested in Node: runs a
 * {@link LiveClient}, answers the page's commands, and posts an update after each (throttled) change.
 */
import type { SubscribeFilter } from './contract.js';
import { HistoryLoader } from './history-loader.js';
import { LiveClient, type LiveClientOptions, defaultTimers } from './live-client.js';
import { fetchRecord, type RecordFetch } from './record-fetch.js';
import { lightSnapshot, TableEngine } from './table-engine.js';
import { TABLE_COLUMNS } from './columns.js';
import { LIVE_EXPORT_COLUMNS, tableText } from './export.js';
import { shownColumns, type Column } from './table.js';
import { isCentral } from './status.js';
import type {
  ClientStatus,
  LatencySeriesData,
  WindowRow,
  WorkerCommand,
  WorkerMessage,
  WorkerUpdate,
} from './worker-protocol.js';

/** Most rows the page may ask for at once (a screen is about 40). */
const MAX_WINDOW = 500;

/** Options of {@link createWorkerHost}: the client's, and the `fetch` full records are asked with. */
export type WorkerHostOptions = Omit<LiveClientOptions, 'url'> & { fetch?: RecordFetch };

/** Handles the page's commands; `post` sends updates back. Returns the command handler. */
export function createWorkerHost(
  post: (u: WorkerMessage) => void,
  options: WorkerHostOptions = {},
): (cmd: WorkerCommand) => void {
  const { fetch: fetchFn = (url: string) => fetch(url), ...clientOptions } = options;
  let client: LiveClient | null = null;
  let window = { start: 0, end: 50 };
  let sentSnapshot: unknown = null;
  let sentRates = -1;
  let wantLatency = false;
  // The page may set its filter (from the URL) before it starts the connection.
  let filter: SubscribeFilter = {};
  let filterSeq = 0;
  let sentLatency = -1;
  const tables = new TableEngine();
  /** The charts' past and the input's state, from the daemon's `/api/history`. */
  let loader: HistoryLoader | null = null;
  /**
   * Rows that came in between what the page showed when it paused and the worker reading the pause: shown
   * after resume, so that pausing never moves the rows under the user's pointer.
   */
  let hiddenWhilePaused = 0;

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
      rowCount: c.rows.size - hiddenWhilePaused,
      capacity: c.rows.capacity,
      filter: c.currentFilter,
      filterError: c.filterError,
      filterSeq: c.filterSeq,
      stream: { ...c.stream, history: c.stream.history && { ...c.stream.history } },
      lastSnapshotAt: c.lastSnapshotAt,
      input: c.input,
    };
  }

  function update(): void {
    const c = client;
    if (!c) return;
    if (!c.isPaused) hiddenWhilePaused = 0;
    const newestSeq = c.rows.pushed - 1 - hiddenWhilePaused;
    const rows: WindowRow[] = c.rows
      .sliceNewest(window.start + hiddenWhilePaused, window.end + hiddenWhilePaused)
      .map((record, i) => ({ seq: newestSeq - (window.start + i), record }));
    const u: WorkerUpdate = { type: 'update', status: status(c), window: { start: window.start, rows } };
    if (c.snapshot !== sentSnapshot && c.snapshot) {
      u.snapshot = lightSnapshot(c.snapshot);
      sentSnapshot = c.snapshot;
    }
    const t = tables.windows(c.snapshot);
    if (t) u.tables = t;
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
        client = new LiveClient({ ...clientOptions, url: cmd.url });
        client.setFilter(filter, filterSeq);
        client.onChange(update);
        client.start();
        loader?.stop();
        loader = startHistory(client, cmd.url);
        break;
      case 'stop':
        client?.stop();
        loader?.stop();
        break;
      case 'window': {
        const start = Math.max(0, Math.floor(cmd.start));
        window = { start, end: Math.max(start, Math.min(start + MAX_WINDOW, Math.floor(cmd.end))) };
        update();
        break;
      }
      case 'filter':
        hiddenWhilePaused = 0;
        filter = cmd.filter;
        filterSeq = cmd.seq;
        client?.setFilter(cmd.filter, cmd.seq);
        break;
      case 'pause':
        if (client && !client.isPaused && cmd.newestSeq !== undefined) {
          const newer = client.rows.pushed - 1 - cmd.newestSeq;
          hiddenWhilePaused = Math.max(0, Math.min(newer, client.rows.size));
        }
        client?.pause();
        break;
      case 'resume':
        client?.resume();
        break;
      case 'clear':
        hiddenWhilePaused = 0;
        client?.clear();
        break;
      case 'latency':
        wantLatency = cmd.on;
        sentLatency = -1;
        update();
        break;
      case 'table':
        tables.set(cmd.id, cmd.query);
        update();
        break;
      case 'record':
        void answerRecord(cmd.id, cmd.url);
        break;
      case 'export': {
        let text = '';
        let rows = 0;
        if (cmd.table === 'live') {
          const live = client === null ? [] : client.rows.sliceNewest(0, client.rows.size);
          text = tableText(cmd.format, LIVE_EXPORT_COLUMNS, live);
          rows = live.length;
        } else if (cmd.query !== null) {
          const all = tables.all(cmd.table, client?.snapshot ?? null, cmd.query);
          const columns = shownColumns(TABLE_COLUMNS[cmd.table] as Column<unknown>[], isCentral(client?.source));
          text = tableText(cmd.format, columns, all);
          rows = all.length;
        }
        post({ type: 'export', id: cmd.id, text, rows });
        break;
      }
      default:
        break;
    }
  };

  /** Loads the charts' past into `c` and keeps following it (see history-loader.ts). */
  function startHistory(c: LiveClient, url: string): HistoryLoader {
    const l = new HistoryLoader(fetchFn, url, clientOptions.timers ?? defaultTimers, (u) => {
      c.input = u.input;
      if (u.rates.length > 0) c.addRateHistory(u.rates);
      for (const s of u.latency ?? []) c.latency.seed(s.server, s.kind, s.points);
      update();
    });
    l.start();
    return l;
  }

  async function answerRecord(id: number, url: string): Promise<void> {
    // Rows of a daemon that streamed full records carry them; the others are asked of the daemon.
    if (id < 0) {
      const kept = client?.legacyRecord(id);
      post({
        type: 'record',
        id,
        record: kept ?? null,
        error: kept ? null : `record ${id} is no longer held by the page`,
      });
      return;
    }
    const r = await fetchRecord(fetchFn, url, id);
    post({ type: 'record', id, ...r });
  }
}
