/**
 * Which PV or IOC chart is open. Any cell that shows a PV name or an IOC address carries
 * `data-chart="pv|ioc"` and `data-key`; a click on it anywhere on the page opens its chart (App.svelte
 * listens once for the whole page).
 */

/** A chart to show: a PV's or an IOC's (server endpoint "ip:port"). */
export interface ChartTarget {
  kind: 'pv' | 'ioc';
  key: string;
}

class ChartState {
  open = $state.raw<ChartTarget | null>(null);
}

/** The chart panel's state. */
export const charts = new ChartState();

/** Opens the chart of a PV or an IOC. */
export function openChart(target: ChartTarget): void {
  charts.open = target;
}

/** Closes the chart panel. */
export function closeChart(): void {
  charts.open = null;
}

/** The chart an element (or its nearest ancestor with `data-chart`) links to, or null. */
export function chartTargetOf(el: Element | null): ChartTarget | null {
  const link = el?.closest('[data-chart]');
  if (!link) return null;
  const kind = link.getAttribute('data-chart');
  const key = link.getAttribute('data-key') ?? '';
  return (kind === 'pv' || kind === 'ioc') && key !== '' ? { kind, key } : null;
}
