/**
 * The page's settings, remembered in localStorage: the theme (system, light or dark), the time zone of
 * every time shown (UTC or local), and the time range all charts share (the last N seconds, or a range
 * zoomed into on a chart). `version` moves whenever something charts draw with changes (theme, system
 * colour scheme, time zone), so charts rebuild with the new colours and labels.
 */
import { setTimeZoneMode, type TimeZoneMode } from './time.js';

/** Theme choice: follow the system's colour scheme, or force one. */
export type ThemeChoice = 'system' | 'light' | 'dark';

/** The range the charts show: the last `last` seconds (following new data), or a fixed capture-time range. */
export type ChartRange = { last: number } | { from: number; to: number };

/** The ranges offered (seconds). */
export const RANGE_CHOICES: readonly { last: number; label: string }[] = [
  { last: 60, label: '1 min' },
  { last: 300, label: '5 min' },
  { last: 600, label: '10 min' },
  { last: 3600, label: '1 h' },
  { last: 6 * 3600, label: '6 h' },
  { last: 24 * 3600, label: '24 h' },
];

const THEME_KEY = 'ca-shark.theme';
const ZONE_KEY = 'ca-shark.timezone';

function stored(key: string): string | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage.getItem(key);
  } catch {
    // Storage may be disabled (private mode, a sandboxed frame): the defaults apply.
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered, but applied for this page.
  }
}

/** A stored theme choice, or 'system' for anything else. */
export function parseTheme(v: string | null): ThemeChoice {
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** A stored time zone choice, or 'utc' for anything else. */
export function parseTimeZone(v: string | null): TimeZoneMode {
  return v === 'local' ? 'local' : 'utc';
}

class Settings {
  theme = $state<ThemeChoice>(parseTheme(stored(THEME_KEY)));
  timeZone = $state<TimeZoneMode>(parseTimeZone(stored(ZONE_KEY)));
  range = $state.raw<ChartRange>({ last: 600 });
  version = $state(0);
}

/** The page's settings. */
export const settings = new Settings();
setTimeZoneMode(settings.timeZone);

/** Sets `data-theme` on the document root (none for 'system': the CSS follows prefers-color-scheme). */
function applyTheme(choice: ThemeChoice): void {
  if (typeof document === 'undefined') return;
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
}

/** Applies the remembered settings; call once at start. Returns a function that stops following the system. */
export function startSettings(): () => void {
  applyTheme(settings.theme);
  if (typeof window === 'undefined' || typeof window.matchMedia !== 'function') return () => undefined;
  const media = window.matchMedia('(prefers-color-scheme: dark)');
  const onChange = (): void => {
    if (settings.theme === 'system') settings.version++;
  };
  media.addEventListener('change', onChange);
  return () => media.removeEventListener('change', onChange);
}

/** Chooses and remembers the theme. */
export function setTheme(choice: ThemeChoice): void {
  settings.theme = choice;
  store(THEME_KEY, choice);
  applyTheme(choice);
  settings.version++;
}

/** Chooses and remembers the time zone of every time on the page. */
export function setTimeZone(zone: TimeZoneMode): void {
  settings.timeZone = zone;
  setTimeZoneMode(zone);
  store(ZONE_KEY, zone);
  settings.version++;
}

/** Sets the range every chart shows. */
export function setRange(range: ChartRange): void {
  settings.range = range;
}

/** The query parameters of a range for `/api/series` and `/api/talkers`. */
export function rangeParams(range: ChartRange): Record<string, string> {
  return 'last' in range ? { last: String(range.last) } : { from: String(range.from), to: String(range.to) };
}
