/**
 * Chart colours and axis styling taken from the page's CSS variables, so charts follow the theme, and the
 * axis labels every chart shares: 24-hour times in the page's time zone, counts grouped like the tables.
 */
import type uPlot from 'uplot';
import { formatCount } from './dbr.js';
import { axisTimes, legendTime } from './time.js';

let probe: HTMLElement | null = null;

/** Resolved colours of the theme they were read in (see {@link themeKey}). */
const resolved = new Map<string, string>();
let resolvedFor = '';

/** What the colours depend on: the chosen theme (`data-theme` on the root) and the system's scheme. */
function themeKey(): string {
  const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  return `${document.documentElement.dataset.theme ?? 'system'}|${dark ? 'dark' : 'light'}`;
}

/**
 * Reads a colour custom property of the document root, resolved (the theme's `light-dark()` values are
 * only resolved on a property that uses them, so a hidden probe element does). Each read forces a style
 * recalculation (81 ms of one tab switch at 250 Mbit/s), so values are kept until the theme changes.
 */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined' || document.body === null) return fallback;
  const key = themeKey();
  if (key !== resolvedFor) {
    resolved.clear();
    resolvedFor = key;
  }
  const id = `${name}|${fallback}`;
  const known = resolved.get(id);
  if (known !== undefined) return known;
  const value = readVar(name, fallback);
  resolved.set(id, value);
  return value;
}

function readVar(name: string, fallback: string): string {
  if (probe === null || !probe.isConnected) {
    probe = document.createElement('span');
    probe.style.display = 'none';
    document.body.appendChild(probe);
  }
  probe.style.color = '';
  probe.style.color = `var(${name}, ${fallback})`;
  const v = getComputedStyle(probe).color.trim();
  return v || fallback;
}

/** The series colours, in order: eight distinct hues (a mean and its max never share one). */
export function chartColors(): string[] {
  const fallbacks = ['#1f6feb', '#d4600c', '#1a7f37', '#8250df', '#bf3989', '#0a7d8c', '#9a6700', '#57606a'];
  return fallbacks.map((f, i) => cssVar(`--chart-${i + 1}`, f));
}

/** A colour with an alpha (for fills): `rgb(r, g, b)` or `#rrggbb` in, `rgba(...)` out. */
export function withAlpha(color: string, alpha: number): string {
  const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(color);
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${alpha})`;
  return color;
}

/** An axis number: grouped like the tables' counts from 1,000 up, a few significant digits below. */
export function formatAxisNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1000) return formatCount(v);
  if (a === 0 || a >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** The x axis's span in seconds. */
function spanOf(u: uPlot): number {
  const { min, max } = u.scales.x;
  return min !== undefined && max !== undefined && min !== null && max !== null ? max - min : 0;
}

/** Tick labels of a time x axis: 24-hour, the page's time zone. */
export const timeAxisValues: uPlot.Axis['values'] = (u, splits) => axisTimes(splits, spanOf(u));

/** The x series of a time chart: its legend shows the cursor's time in 24-hour form. */
export function timeSeries(): uPlot.Series {
  return { value: (u, v) => legendTime(v, spanOf(u)) };
}

/** Axis styling for the current theme: 24-hour times on x, grouped numbers on y. */
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
      values: xValues ?? timeAxisValues,
    },
    {
      stroke: fg,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      label: yLabel,
      size: 60,
      values: yValues ?? ((_u, splits) => splits.map(formatAxisNumber)),
    },
  ];
}
