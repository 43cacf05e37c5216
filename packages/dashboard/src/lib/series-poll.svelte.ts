/**
 * A reactive poll of a daemon JSON endpoint for a component: asks again every second while the shared
 * time range follows live data, once for a fixed range, and stops when the component goes.
 */
import { JsonPoller, type PollResult, type SeriesView, apiUrl, parseSeries, seriesTimes } from './series.js';
import { rangeParams, settings } from './settings.svelte.js';

/** How often a live chart or table asks again. */
export const LIVE_POLL_MS = 1000;

/** The latest answer of a poll. */
export class PollState<T> {
  value = $state.raw<T | null>(null);
  error = $state('');
  /** Answers received (0 until the first). */
  answers = $state(0);
}

/**
 * Polls `url()` (re-read whenever its reactive inputs change) while the calling component lives; call it
 * during component initialisation.
 */
export function usePoll<T>(url: () => string, parse: (body: unknown) => T, liveMs = LIVE_POLL_MS): PollState<T> {
  const state = new PollState<T>();
  const onResult = (r: PollResult<T>): void => {
    state.answers++;
    if (r.error !== null) state.error = r.error;
    else {
      state.error = '';
      state.value = r.value;
    }
  };
  let poller: JsonPoller<T> | null = null;
  $effect(() => {
    const u = url();
    const interval = 'last' in settings.range ? liveMs : 0;
    if (poller === null) {
      poller = new JsonPoller<T>(u, parse, onResult, (x) => fetch(x), interval);
      poller.start();
    } else poller.setUrl(u, interval);
  });
  $effect(() => () => {
    poller?.stop();
    poller = null;
  });
  return state;
}

/** A PV's or an IOC's series over the shared range, polled while the calling component lives. */
export class SeriesPoll {
  private readonly poll: PollState<SeriesView>;
  /** The latest series of this key (null until it came). */
  readonly series = $derived.by((): SeriesView | null => {
    const v = this.poll.value;
    return v !== null && v.key === this.key() ? v : null;
  });
  /** Its time column. */
  readonly times = $derived.by((): number[] => (this.series === null ? [] : seriesTimes(this.series)));

  constructor(
    kind: 'pv' | 'ioc',
    private readonly key: () => string,
  ) {
    this.poll = usePoll(
      () => apiUrl(window.location, `series/${kind}`, { key: key(), ...rangeParams(settings.range) }),
      parseSeries,
    );
  }

  /** Why the last request failed ('' when it did not). */
  get error(): string {
    return this.poll.error;
  }
}
