/**
 * Page state shared by the components: the live client (one WebSocket for the page), the current view,
 * the selected row, and the URL that carries view and filter. The client is not reactive itself (its
 * ring buffer would be far too costly to proxy); its updates bump `ui.tick` at most once per animation
 * frame (a few times a second), and components that read `ui.tick` re-render then.
 */
import type { LiveRecord, SnapshotMessage, SubscribeFilter } from './contract.js';
import { filterProblem, formatHash, normalizeFilter, parseHash, type ViewName } from './filter.js';
import { defaultSocketUrl } from './live-client.js';
import { RemoteClient, type WorkerLike } from './remote-client.js';

/**
 * The page's connection to the daemon. It runs in a worker: parsing tens of thousands of records a
 * second there keeps the page's main thread free for rendering.
 */
export const client = new RemoteClient(
  new Worker(new URL('./live.worker.ts', import.meta.url), {
    type: 'module',
    name: 'ca-shark data',
  }) as unknown as WorkerLike,
);

/**
 * Reactive UI state. Records and filters are held raw (not deeply proxied): they are large, never
 * mutated in place, and must keep their identity for `===` (the selected row).
 */
class UiState {
  view = $state<ViewName>('live');
  filter = $state.raw<SubscribeFilter>({});
  /** Why the last filter asked for was refused, shown next to the filter bar ('' when it was not). */
  filterError = $state('');
  /** Bumped on every (throttled) change of the client, once per animation frame at most. */
  tick = $state(0);
  /**
   * The latest snapshot (about once a second), for what is derived from it alone: those derivations and
   * the rows they feed rerun when it changes, not on every `tick` (several a second while records stream).
   */
  snapshot = $state.raw<SnapshotMessage | null>(null);
  /** The Live row whose detail is open; the full record is fetched from the daemon. */
  selected = $state.raw<LiveRecord | null>(null);
  /** Sequence number of the selected row (rows are copies from the worker). */
  selectedSeq = $state(-1);
  paused = $state(false);
}

/** The page's UI state. */
export const ui = new UiState();

/** The filter request whose refusal by the daemon has been shown already. */
let refusalShown = 0;

/** An animation frame is booked to apply the worker's updates that arrived since the last one. */
let framePending = false;

client.onChange(() => {
  // Several worker messages in one frame (an update and a table answer, say) render once.
  if (framePending) return;
  framePending = true;
  requestAnimationFrame(() => {
    framePending = false;
    applyUpdate();
  });
});

function applyUpdate(): void {
  ui.tick++;
  if (client.snapshot !== ui.snapshot) ui.snapshot = client.snapshot;
  ui.paused = client.status.paused;
  const s = client.status;
  // The daemon refused the latest filter (the local check passed): show why, fall back to what it kept.
  if (s.filterSeq === client.filterSeq && s.filterError !== '' && refusalShown !== s.filterSeq) {
    refusalShown = s.filterSeq;
    ui.filterError = s.filterError;
    if (!sameFilter(s.filter, ui.filter)) {
      ui.filter = normalizeFilter(s.filter);
      writeHash();
    }
  }
}

/** Opens the detail panel of a Live row (null closes it). */
export function select(record: LiveRecord | null, seq = -1): void {
  ui.selected = record;
  ui.selectedSeq = record ? seq : -1;
}

function sameFilter(a: SubscribeFilter, b: SubscribeFilter): boolean {
  return JSON.stringify(normalizeFilter(a)) === JSON.stringify(normalizeFilter(b));
}

/** Applies the URL's view and filter (on load and when the user edits the URL or goes back). */
export function applyHash(): void {
  const state = parseHash(window.location.hash);
  ui.view = state.view;
  if (!sameFilter(state.filter, ui.filter)) takeFilter(state.filter);
}

/**
 * Makes `f` the filter if the shared filter accepts it; otherwise keeps the current one and shows why.
 * Returns whether it was taken.
 */
function takeFilter(f: SubscribeFilter): boolean {
  const problem = filterProblem(f);
  if (problem !== null) {
    ui.filterError = problem;
    return false;
  }
  ui.filterError = '';
  ui.filter = f;
  client.setFilter(f);
  return true;
}

function writeHash(): void {
  const hash = formatHash({ view: ui.view, filter: ui.filter });
  if (window.location.hash !== hash) history.replaceState(null, '', hash);
}

/** Switches view and records it in the URL (a history entry, so Back returns to the previous view). */
export function showView(view: ViewName): void {
  ui.view = view;
  const hash = formatHash({ view, filter: ui.filter });
  if (window.location.hash !== hash) history.pushState(null, '', hash);
}

/**
 * Replaces the subscription and records it in the URL. An invalid filter leaves the subscription, the
 * table and the URL as they were and sets `ui.filterError` instead.
 */
export function setFilter(filter: SubscribeFilter): void {
  const f = normalizeFilter(filter);
  // Inputs report "change" on blur too; an unchanged filter must not wipe the table.
  if (sameFilter(f, ui.filter)) {
    ui.filterError = '';
    return;
  }
  if (!takeFilter(f)) return;
  select(null);
  writeHash();
}

/** Pauses or resumes the live table. */
export function setPaused(paused: boolean): void {
  client.setPaused(paused);
  ui.paused = paused;
}

/** Toggles pause (the space key). */
export function togglePause(): void {
  setPaused(!client.status.paused);
}

/** Starts the connection and follows the URL. */
export function startApp(): () => void {
  applyHash();
  writeHash();
  const onHash = (): void => applyHash();
  window.addEventListener('hashchange', onHash);
  window.addEventListener('popstate', onHash);
  client.start(defaultSocketUrl(window.location));
  return () => {
    window.removeEventListener('hashchange', onHash);
    window.removeEventListener('popstate', onHash);
    client.stop();
  };
}
