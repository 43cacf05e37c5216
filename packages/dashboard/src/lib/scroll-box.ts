/**
 * The sizes a virtualised table needs (its scroll box's height, a row's height), read without forcing a
 * layout: `bind:clientHeight` reads the box as it mounts, which lays out the just inserted table in the
 * middle of the tab switch's task and again once more rows came. A ResizeObserver's callback runs after
 * the browser's own layout, where reading sizes costs nothing.
 */

/** Pixels of a CSS height given as `Npx` or `Nvh` in a window `windowHeight` px high; NaN for anything else. */
export function cssHeightPx(css: string, windowHeight: number): number {
  const m = /^\s*(\d+(?:\.\d+)?)(px|vh|dvh|svh|lvh)\s*$/.exec(css);
  if (m === null) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'px' ? n : (n * windowHeight) / 100;
}

/**
 * Calls `onSize` with the box's height after each layout that changed it, the first one included, and
 * the height of its first row matching `row` the first time it has one (null otherwise: rows are measured
 * once, their height is fixed; `row` null for a table whose row height is known). Returns the function
 * that stops it.
 */
export function observeBox(
  box: HTMLElement,
  onSize: (height: number, rowHeight: number | null) => void,
  row: string | null = 'tr.row',
): () => void {
  let measured = row === null;
  const ro = new ResizeObserver(() => {
    const first = measured || row === null ? null : box.querySelector(row);
    const h = first === null ? 0 : first.getBoundingClientRect().height;
    if (h > 0) measured = true;
    onSize(box.clientHeight, h > 0 ? h : null);
  });
  ro.observe(box);
  return () => ro.disconnect();
}
