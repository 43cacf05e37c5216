/**
 * A data-table row's cells as HTML text, for `{@html}`: the page draws tens of rows of up to 13 columns on
 * a tab switch and again on every snapshot, and a Svelte component per cell (its text, class, tooltip and
 * chart link each a reactive effect) cost 100-200 ms of a switch's task at 250 Mbit/s; the browser parses
 * a row's text in a fraction of that, and an unchanged row costs one string comparison. Every piece of
 * captured data is escaped here: PV names, values and host names come off the wire.
 */
import type { Column } from './table.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside an element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}

/** Pixels a character of table text takes at most, about: a longer text than its column holds gets a tooltip. */
const CHAR_PX = 7.5;
/** A cell's side padding (app.css). */
const PAD_PX = 16;

/** Whether `text` may not fit its cell: over 40 characters, or wider than the column's fixed width. */
export function mayBeCut(column: Column<never>, text: string): boolean {
  return text.length > 40 || (column.width !== undefined && text.length * CHAR_PX > column.width - PAD_PX);
}

/**
 * The `<td>` cells of `row`: class `num` / `mono` and the column's own class, the column's cell tooltip
 * (else the text itself when it may be cut), and for PV and IOC columns the chart link chart-state.ts
 * follows; a column with its own `html` writes the cell's content itself.
 */
export function rowHtml<T>(columns: readonly Column<T>[], row: T): string {
  let html = '';
  for (const c of columns) {
    const text = c.text(row);
    const classes = [c.numeric ? 'num' : '', c.mono ? 'mono' : '', c.cellClass?.(row) ?? ''].filter((x) => x !== '');
    const title = c.cellTitle?.(row) ?? (c.html === undefined && mayBeCut(c as Column<never>, text) ? text : undefined);
    const safe = escapeHtml(text);
    html += '<td';
    if (classes.length > 0) html += ` class="${escapeHtml(classes.join(' '))}"`;
    if (title !== undefined && title !== '') html += ` title="${escapeHtml(title)}"`;
    html += '>';
    html +=
      c.html !== undefined
        ? c.html(row)
        : c.chart !== undefined && text !== ''
          ? `<span class="chart-link" data-chart="${c.chart}" data-key="${safe}">${safe}</span>`
          : safe;
    html += '</td>';
  }
  return html;
}
