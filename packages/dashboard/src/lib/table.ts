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
  /**
   * The cell's content as HTML, for a control such as a button (a click on it is the table owner's to
   * handle, by delegation): the column escapes what it writes (row-html.ts' `escapeHtml`). `text` stays
   * the cell's text for sorting and export.
   */
  html?: (row: T) => string;
  /** The cell's text is a PV name or an IOC address: a click opens its chart (see chart-state). */
  chart?: 'pv' | 'ioc';
  /** Shown only by a central daemon (fed by sensors over NATS), whose rows carry the field. */
  centralOnly?: boolean;
  /**
   * Width in CSS pixels in a table of fixed layout (the big snapshot tables): the browser then lays out
   * only the rows drawn, never measures every cell for column widths, and columns keep their place
   * while the rows under them change.
   */
  width?: number;
}

/** The columns a table shows: those marked {@link Column.centralOnly} only on a central daemon. */
export function shownColumns<T>(columns: readonly Column<T>[], central: boolean): Column<T>[] {
  return columns.filter((c) => central || c.centralOnly !== true);
}

/** Rows `[start, end)` of a table to draw. */
export interface RowRange {
  start: number;
  end: number;
}

/**
 * The rows of a virtualised table to draw: those in a scroll box `viewport` px high scrolled down
 * `scrollTop` px, rows `rowHeight` px high, and `overscan` rows either side (a short scroll shows rows at
 * once). `total` bounds the range when known (a table held by the data worker asks before it knows).
 */
export function rowWindow(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  overscan: number,
  total = Number.POSITIVE_INFINITY,
): RowRange {
  const h = rowHeight > 0 ? rowHeight : 1;
  const visible = Math.ceil(Math.max(0, viewport) / h);
  // Scrolled past the end (the table shrank under its scroll box): the last rows.
  const first = Math.max(0, Math.min(Math.floor(Math.max(0, scrollTop) / h), total - visible));
  const end = Math.max(0, Math.min(total, first + visible + overscan));
  return { start: Math.max(0, Math.min(first - overscan, end)), end };
}

/** Sort direction. */
export type SortDir = 'asc' | 'desc';

/** Digits a number in a sort key is padded to (longer runs compare by length first anyway). */
const KEY_DIGITS = 16;

/**
 * A text's sort key for natural order by plain comparison: lower case, each run of digits zero-padded
 * (`a9` → `a0…09` before `a10` → `a0…10`). Keys are made once per row; comparing them with `<` is many
 * times faster than a locale-aware comparison, which matters for 10,000-row tables.
 */
export function naturalKey(text: string): string {
  return text.toLowerCase().replace(/\d+/g, (d) => (d.length >= KEY_DIGITS ? d : d.padStart(KEY_DIGITS, '0')));
}

/**
 * Sorts rows by a column (stable; empty values last in both directions; text in natural order).
 * Returns a new array.
 */
export function sortRows<T>(rows: readonly T[], column: Column<T> | undefined, dir: SortDir): T[] {
  if (!column) return [...rows];
  const key = column.sortValue ?? column.text;
  const decorated = rows.map((row, i) => {
    const k = key(row);
    return { row, i, k: typeof k === 'string' && k !== '' ? naturalKey(k) : k };
  });
  const sign = dir === 'asc' ? 1 : -1;
  decorated.sort((a, b) => {
    const ae = a.k === null || a.k === undefined || a.k === '';
    const be = b.k === null || b.k === undefined || b.k === '';
    if (ae || be) return ae === be ? a.i - b.i : ae ? 1 : -1;
    let c: number;
    if (typeof a.k === 'number' && typeof b.k === 'number') c = a.k - b.k;
    else {
      const x = typeof a.k === 'string' ? a.k : naturalKey(String(a.k));
      const y = typeof b.k === 'string' ? b.k : naturalKey(String(b.k));
      c = x < y ? -1 : x > y ? 1 : 0;
    }
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
