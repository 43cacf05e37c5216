/**
 * The live-stream filter on the page: what the filter bar edits, what the page sends to the daemon as its
 * subscription, and what the URL carries. Matching is the daemon's own code (`@ca-shark/analysis/filter`,
 * which has no node dependencies), so the rows the page keeps locally — those in flight from an older
 * subscription are dropped — are exactly the ones the daemon would send, and an invalid filter gets the
 * same FilterError the daemon would answer with.
 */
import {
  compileFilter,
  compileHostMatcher,
  compilePvMatcher,
  compileSensorMatcher,
  FilterError,
  resolveCommandNames,
} from '@ca-shark/analysis/filter';
import type { LiveRecord, SubscribeFilter } from './contract.js';

export {
  COMMAND_FAMILIES,
  compileFilter,
  FilterError,
  isFailure,
  type RecordPredicate,
} from '@ca-shark/analysis/filter';

/** An empty filter: everything passes. */
export function emptyFilter(): SubscribeFilter {
  return {};
}

/**
 * Splits a filter-bar field (or a URL list) into terms at whitespace and commas, except commas inside a
 * glob's `{a,b}` alternatives or after a `\` escape: `sim:{ai,bi}1, x*` is two terms.
 */
export function splitTerms(text: string): string[] {
  const out: string[] = [];
  let term = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      term += c + text[++i];
    } else if (depth === 0 && (c === ',' || /\s/.test(c))) {
      if (term !== '') out.push(term);
      term = '';
    } else {
      if (c === '{') depth++;
      else if (c === '}' && depth > 0) depth--;
      term += c;
    }
  }
  if (term !== '') out.push(term);
  return out;
}

/** Drops empty parts so `{}` means "everything" and equal filters serialise equally. */
export function normalizeFilter(f: SubscribeFilter): SubscribeFilter {
  const out: SubscribeFilter = {};
  if (f.pv && f.pv.length > 0) out.pv = [...f.pv];
  if (f.host && f.host.length > 0) out.host = [...f.host];
  if (f.command && f.command.length > 0) out.command = [...f.command];
  if (f.errors) out.errors = true;
  if (f.sensor && f.sensor.length > 0) out.sensor = [...f.sensor];
  return out;
}

/** True when the filter lets everything through. */
export function isEmptyFilter(f: SubscribeFilter): boolean {
  return Object.keys(normalizeFilter(f)).length === 0;
}

/** Why the daemon would refuse the filter (the shared FilterError's message), or null when it is valid. */
export function filterProblem(f: SubscribeFilter): string | null {
  try {
    compileFilter(f);
    return null;
  } catch (err) {
    if (err instanceof FilterError) return err.message;
    throw err;
  }
}

/** The views of the page, in tab order. */
export const VIEWS = [
  'live',
  'channels',
  'servers',
  'clients',
  'searches',
  'latency',
  'talkers',
  'circuits',
  'errors',
] as const;
/** One of {@link VIEWS}. */
export type ViewName = (typeof VIEWS)[number];

/** What the URL holds: the view and the filter. */
export interface PageState {
  view: ViewName;
  filter: SubscribeFilter;
}

/** Reads `#/VIEW?pv=a*,b&host=10.0.0.0/8&cmd=search&errors=1`; unknown views fall back to live. */
export function parseHash(hash: string): PageState {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const viewText = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const view = (VIEWS as readonly string[]).includes(viewText) ? (viewText as ViewName) : 'live';
  const list = (k: string): string[] | undefined => {
    const v = params.get(k);
    return v === null ? undefined : splitTerms(v);
  };
  const filter = normalizeFilter({
    pv: list('pv'),
    host: list('host'),
    command: list('cmd'),
    errors: params.get('errors') === '1',
    sensor: list('sensor'),
  });
  return { view, filter };
}

/** Writes the page state as a hash; the inverse of {@link parseHash}. */
export function formatHash(state: PageState): string {
  const f = normalizeFilter(state.filter);
  const parts: string[] = [];
  // Globs keep `*` and `:` readable; only characters that would break the query are escaped.
  const enc = (xs: string[]): string =>
    xs.map((x) => encodeURIComponent(x).replace(/%3A/gi, ':').replace(/%2F/gi, '/')).join(',');
  if (f.pv) parts.push(`pv=${enc(f.pv)}`);
  if (f.host) parts.push(`host=${enc(f.host)}`);
  if (f.command) parts.push(`cmd=${enc(f.command)}`);
  if (f.errors) parts.push('errors=1');
  if (f.sensor) parts.push(`sensor=${enc(f.sensor)}`);
  return `#/${state.view}${parts.length > 0 ? `?${parts.join('&')}` : ''}`;
}

/**
 * A predicate for snapshot rows from the PV and host parts of a filter (commands and errors do not
 * apply to state tables). `addrs` of a row are its endpoints, `ip:port` or plain addresses. Throws
 * FilterError for an invalid filter; the page only ever holds filters that compiled.
 */
export function compileRowFilter(
  f: SubscribeFilter,
): (pv: string | null | undefined, addrs: readonly (string | null | undefined)[]) => boolean {
  const pvMatch = compilePvMatcher(f.pv ?? []);
  const hostMatch = compileHostMatcher(f.host ?? []);
  return (pv, addrs) => {
    if (pvMatch !== null && (typeof pv !== 'string' || !pvMatch(pv))) return false;
    if (hostMatch !== null) {
      const ips = addrs.filter((a): a is string => typeof a === 'string').map((a) => a.replace(/:\d+$/, ''));
      if (!ips.some(hostMatch)) return false;
    }
    return true;
  };
}

/** The address part of `ip:port`. */
function hostOf(endpoint: string): string {
  const colon = endpoint.lastIndexOf(':');
  return colon < 0 ? endpoint : endpoint.slice(0, colon);
}

/**
 * The subscription as a test of Live rows, built from the shared filter's matchers: the daemon filters
 * the stream, and the page applies the same rule only to drop rows still in flight from an older
 * subscription. `errors` reads the row's `error` flag, which the daemon sets with the shared
 * `isFailure`. Throws FilterError for an invalid filter.
 */
export function compileLiveFilter(f: SubscribeFilter): (r: LiveRecord) => boolean {
  const pvMatch = compilePvMatcher(f.pv ?? []);
  const hostMatch = compileHostMatcher(f.host ?? []);
  const commands = (f.command ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  // compileFilter checks the counts and names and throws the daemon's FilterError for a bad one.
  compileFilter(f);
  const wanted = commands.length > 0 ? resolveCommandNames(commands) : null;
  const errorsOnly = f.errors === true;
  const sensorMatch = compileSensorMatcher(f.sensor ?? []);
  return (r) =>
    (sensorMatch === null || (typeof r.sensor === 'string' && sensorMatch(r.sensor))) &&
    (pvMatch === null || (typeof r.pv === 'string' && pvMatch(r.pv))) &&
    (hostMatch === null || hostMatch(hostOf(r.src)) || hostMatch(hostOf(r.dst))) &&
    (wanted === null || wanted.has(r.cmd)) &&
    (!errorsOnly || r.error);
}
