/** Columns and sorting for the snapshot tables (channels, servers, clients, searches, errors). */

/** One column of a {@link DataTable}. */
export interface Column<T> {
  key: string;
  label: string;
  /** Right-aligned, tabular digits. */
  numeric?: boolean;
  /** Monospace text (addresses, PV names, values). */
  mono?: boolean;
  /** Sort key; default the displayed text. */
  sortValue?: (row: T) => number | string | null | undefined;
  /** Displayed text. */
  text: (row: T) => string;
  /** Optional CSS class per cell (e.g. 'error'). */
  cellClass?: (row: T) => string;
  title?: string;
  /** Tooltip of a cell (e.g. the detail behind a summary figure). */
  cellTitle?: (row: T) => string;
}

/** Sort direction. */
export type SortDir = 'asc' | 'desc';

/** Natural order of text (`a9` before `a10`); a Collator compares far faster than `localeCompare`. */
const collator = new Intl.Collator('en', { numeric: true });

/**
 * Sorts rows by a column (stable; empty values last in both directions). Returns a new array.
 */
export function sortRows<T>(rows: readonly T[], column: Column<T> | undefined, dir: SortDir): T[] {
  if (!column) return [...rows];
  const key = column.sortValue ?? column.text;
  const decorated = rows.map((row, i) => ({ row, i, k: key(row) }));
  const sign = dir === 'asc' ? 1 : -1;
  decorated.sort((a, b) => {
    const ae = a.k === null || a.k === undefined || a.k === '';
    const be = b.k === null || b.k === undefined || b.k === '';
    if (ae || be) return ae === be ? a.i - b.i : ae ? 1 : -1;
    let c: number;
    if (typeof a.k === 'number' && typeof b.k === 'number') c = a.k - b.k;
    else c = collator.compare(String(a.k), String(b.k));
    return c !== 0 ? c * sign : a.i - b.i;
  });
  return decorated.map((d) => d.row);
}

/** Age in words from seconds (`4 s`, `3 min`, `2 h`). */
export function formatAge(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
