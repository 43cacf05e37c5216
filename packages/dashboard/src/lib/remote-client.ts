/**
 * The page's handle on the data worker: sends commands, keeps the latest update. Framework-free; the
 * runes module turns its change notifications into re-renders.
 */
import type { SnapshotMessage, SubscribeFilter } from './contract.js';
import type { TableId } from './columns.js';
import { emptyStreamStatus, type RatePoint } from './live-client.js';
import type { TableQuery, TableWindows } from './table-engine.js';
import type { TableFormat } from './export.js';
import type {
  ClientStatus,
  ExportAnswer,
  LatencySeriesData,
  RecordAnswer,
  WindowRow,
  WorkerCommand,
  WorkerMessage,
} from './worker-protocol.js';

/** What the page needs of a Worker. */
export interface WorkerLike {
  postMessage(cmd: WorkerCommand): void;
  onmessage: ((ev: { data: WorkerMessage }) => void) | null;
  terminate(): void;
}

/** Status before the worker has said anything. */
export function initialStatus(capacity = 100_000): ClientStatus {
  return {
    state: 'connecting',
    source: null,
    daemonVersion: '',
    serverDropped: 0,
    received: 0,
    heldDropped: 0,
    attempts: 0,
    nextAttemptAt: 0,
    lastError: '',
    paused: false,
    heldCount: 0,
    rowCount: 0,
    capacity,
    filter: {},
    filterError: '',
    filterSeq: 0,
    stream: emptyStreamStatus(),
    lastSnapshotAt: 0,
    input: null,
  };
}

/** Proxy of the {@link LiveClient} that runs in the worker. */
export class RemoteClient {
  status: ClientStatus = initialStatus();
  window: { start: number; rows: WindowRow[] } = { start: 0, rows: [] };
  snapshot: SnapshotMessage | null = null;
  /** Windows of the open big tables (sorted and filtered in the worker). */
  tables: TableWindows = {};
  rates: RatePoint[] = [];
  latency: LatencySeriesData[] = [];
  /** Bumped when `latency` changes. */
  latencyVersion = 0;
  private readonly listeners = new Set<() => void>();
  private readonly recordWaiters = new Map<number, ((a: RecordAnswer) => void)[]>();
  private readonly exportWaiters = new Map<number, (a: ExportAnswer) => void>();
  private nextExport = 1;
  private lastWindow = { start: -1, end: -1 };
  private readonly tableQueries = new Map<TableId, string>();
  /** Number of the last filter sent to the worker; `status.filterSeq` says when the worker has handled it. */
  filterSeq = 0;
  /**
   * Pause state asked of the worker and not yet seen in its status, or null. Updates the worker made
   * before it read the command must not move the rows under a user who has just paused.
   */
  private pauseAsked: boolean | null = null;

  constructor(private readonly worker: WorkerLike) {
    worker.onmessage = (ev) => this.receive(ev.data);
  }

  /** Registers a change listener; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies one update from the worker. */
  receive(u: WorkerMessage): void {
    if (u?.type === 'export') {
      this.exportWaiters.get(u.id)?.(u);
      this.exportWaiters.delete(u.id);
      return;
    }
    if (u?.type === 'record') {
      const waiters = this.recordWaiters.get(u.id) ?? [];
      this.recordWaiters.delete(u.id);
      for (const w of waiters) w(u);
      return;
    }
    if (u?.type !== 'update') return;
    if (this.pauseAsked !== null && u.status.paused !== this.pauseAsked) {
      this.status = { ...u.status, paused: this.pauseAsked };
      if (!this.pauseAsked) this.window = u.window;
    } else {
      this.pauseAsked = null;
      this.status = u.status;
      this.window = u.window;
    }
    if (u.snapshot) this.snapshot = u.snapshot;
    if (u.tables) this.tables = { ...this.tables, ...u.tables };
    if (u.rates) this.rates = u.rates;
    if (u.latency) {
      this.latency = u.latency;
      this.latencyVersion++;
    }
    for (const l of this.listeners) l();
  }

  start(url: string): void {
    this.worker.postMessage({ type: 'start', url });
  }

  stop(): void {
    this.worker.postMessage({ type: 'stop' });
    this.worker.terminate();
  }

  /** Asks for rows `[start, end)` counted from the newest (only when the range changed). */
  setWindow(start: number, end: number): void {
    if (start === this.lastWindow.start && end === this.lastWindow.end) return;
    this.lastWindow = { start, end };
    this.worker.postMessage({ type: 'window', start, end });
  }

  /** Opens or changes (query) or closes (null) a big table; only a changed query is sent. */
  setTable(id: TableId, query: TableQuery | null): void {
    const key = JSON.stringify(query);
    if (this.tableQueries.get(id) === key) return;
    if (query === null) {
      this.tableQueries.delete(id);
      const { [id]: _closed, ...open } = this.tables;
      this.tables = open;
    } else this.tableQueries.set(id, key);
    this.worker.postMessage({ type: 'table', id, query });
  }

  /** Replaces the subscription; rows shown under the old filter disappear at once. */
  setFilter(filter: SubscribeFilter): void {
    this.window = { start: 0, rows: [] };
    this.status = { ...this.status, rowCount: 0, heldCount: 0 };
    this.worker.postMessage({ type: 'filter', filter, seq: ++this.filterSeq });
    for (const l of this.listeners) l();
  }

  /** Pauses or resumes; the rows shown freeze at once, the worker's status follows with its next update. */
  setPaused(paused: boolean): void {
    this.pauseAsked = paused;
    this.status = { ...this.status, paused };
    if (!paused) this.worker.postMessage({ type: 'resume' });
    else {
      const top = this.window.rows[0];
      this.worker.postMessage(
        top === undefined ? { type: 'pause' } : { type: 'pause', newestSeq: top.seq + this.window.start },
      );
    }
  }

  clear(): void {
    this.worker.postMessage({ type: 'clear' });
  }

  /** Asks the worker for the full record `id` (fetched from `url`, `/api/record/:id`). */
  requestRecord(id: number, url: string): Promise<RecordAnswer> {
    return new Promise((resolve) => {
      const waiters = this.recordWaiters.get(id);
      if (waiters) waiters.push(resolve);
      else {
        this.recordWaiters.set(id, [resolve]);
        this.worker.postMessage({ type: 'record', id, url });
      }
    });
  }

  /** The whole of a table (`live`: the Live table) as the page shows it, in `format` (made in the worker). */
  exportTable(table: TableId | 'live', query: TableQuery | null, format: TableFormat): Promise<ExportAnswer> {
    const id = this.nextExport++;
    return new Promise((resolve) => {
      this.exportWaiters.set(id, resolve);
      this.worker.postMessage({ type: 'export', id, table, query, format });
    });
  }

  /** Turns the latency series on while the latency view is shown (they cost a copy per update). */
  wantLatency(on: boolean): void {
    this.worker.postMessage({ type: 'latency', on });
  }
}
