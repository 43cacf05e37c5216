/**
 * The worker's side of the big tables: it keeps each open table's query (sort, filter, rows on screen),
 * sorts and filters the latest snapshot once per snapshot or query change, and hands the page only the
 * rows it draws. Sorting 10,000 channels with a locale-aware comparison takes longer than a frame; here
 * it costs the page nothing.
 */
import { TABLE_COLUMNS, tableRows, type TableId, type TableRows } from './columns.js';
import type { SnapshotMessage, SubscribeFilter } from './contract.js';
import { sortRows, type Column, type SortDir } from './table.js';

/** Most rows of one table sent at once (a screen is about 40). */
export const MAX_TABLE_WINDOW = 500;

/** What the page shows of a table. */
export interface TableQuery {
  /** Column key to sort by ('' = snapshot order). */
  sort: string;
  dir: SortDir;
  filter: SubscribeFilter;
  /** Rows `[start, end)` of the sorted, filtered table. */
  start: number;
  end: number;
}

/** A window of a table: rows `[start, start + rows.length)` of `total`. */
export interface TableWindow<T = unknown> {
  total: number;
  start: number;
  rows: T[];
}

/** The windows the page has asked for, by table. */
export type TableWindows = { [K in TableId]?: TableWindow<TableRows[K]> };

interface Sorted {
  snap: SnapshotMessage;
  key: string;
  rows: unknown[];
}

/** Sorted, filtered tables of the latest snapshot, computed when asked for and cached until it changes. */
export class TableEngine {
  private readonly queries = new Map<TableId, TableQuery>();
  private readonly sorted = new Map<TableId, Sorted>();
  /** What was last sent per table, so an unchanged window is not copied to the page again. */
  private readonly sent = new Map<TableId, { snap: SnapshotMessage; query: TableQuery }>();

  /** Opens, changes or (null) closes a table's query. */
  set(id: TableId, query: TableQuery | null): void {
    if (query === null) {
      this.queries.delete(id);
      this.sorted.delete(id);
    } else this.queries.set(id, query);
    this.sent.delete(id);
  }

  /** The windows that changed since the last call (all open ones when `all`), for snapshot `snap`. */
  windows(snap: SnapshotMessage | null, all = false): TableWindows | undefined {
    if (snap === null || this.queries.size === 0) return undefined;
    const out: Record<string, TableWindow> = {};
    let any = false;
    for (const [id, q] of this.queries) {
      const last = this.sent.get(id);
      if (!all && last && last.snap === snap && last.query === q) continue;
      const rows = this.rowsOf(id, snap, q);
      const start = Math.max(0, Math.min(Math.floor(q.start), rows.length));
      const end = Math.max(start, Math.min(Math.floor(q.end), start + MAX_TABLE_WINDOW, rows.length));
      out[id] = { total: rows.length, start, rows: rows.slice(start, end) };
      this.sent.set(id, { snap, query: q });
      any = true;
    }
    return any ? (out as TableWindows) : undefined;
  }

  /** Every row of table `id` in `snap` under `query` (its filter and sort), for a download. */
  all(id: TableId, snap: SnapshotMessage | null, query: TableQuery): unknown[] {
    return snap === null ? [] : this.rowsOf(id, snap, query);
  }

  private rowsOf(id: TableId, snap: SnapshotMessage, q: TableQuery): unknown[] {
    const key = `${q.sort}\u0000${q.dir}\u0000${JSON.stringify(q.filter)}`;
    const cached = this.sorted.get(id);
    if (cached && cached.snap === snap && cached.key === key) return cached.rows;
    const columns = TABLE_COLUMNS[id] as Column<unknown>[];
    const rows = sortRows(
      tableRows(id, snap, q.filter) as unknown[],
      columns.find((c) => c.key === q.sort),
      q.dir,
    );
    this.sorted.set(id, { snap, key, rows });
    return rows;
  }
}

/**
 * The snapshot without its big lists (channels, clients, top searches, errors), which reach the page
 * as table windows instead: what the page still reads of it (stats, servers, alerts, analyses) is small.
 */
export function lightSnapshot(snap: SnapshotMessage): SnapshotMessage {
  return {
    ...snap,
    channels: [],
    clients: [],
    searches: { top: [], unanswered: snap.searches?.unanswered ?? [] },
    errors: [],
  };
}
