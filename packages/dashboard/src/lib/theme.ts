/** Chart colours and axis styling taken from the page's CSS variables, so charts follow the theme. */
import type uPlot from 'uplot';

/** Reads a CSS custom property of the document root. */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** The series colours, in order. */
export function chartColors(): string[] {
  return [
    cssVar('--chart-1', '#1f6feb'),
    cssVar('--chart-2', '#d4600c'),
    cssVar('--chart-3', '#1a7f37'),
    cssVar('--chart-4', '#8250df'),
  ];
}

/** Axis styling for the current theme. */
export function themedAxes(
  yLabel: string,
  yValues?: uPlot.Axis['values'],
  xValues?: uPlot.Axis['values'],
): uPlot.Axis[] {
  const fg = cssVar('--fg-muted', '#5b6570');
  const grid = cssVar('--border', '#d5dbe1');
  return [
    {
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      ...(xValues ? { values: xValues } : {}),
    },
    {
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      label: yLabel,
      size: 60,
      ...(yValues ? { values: yValues } : {}),
    },
  ];
}
