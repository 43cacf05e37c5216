/**
 * The live-stream filter: what the filter bar edits, what the page sends to the daemon as its
 * subscription, what the URL carries, and a local matcher that keeps rows in flight from an older
 * subscription out of the table.
 */
import type { RecordJSON, SubscribeFilter } from './contract.js';
import { ecaStatus } from './dbr.js';

/** Command families the daemon understands, with the caproto class names in each. */
export const COMMAND_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  search: ['SearchRequest', 'SearchResponse', 'NotFoundResponse'],
  read: ['ReadNotifyRequest', 'ReadNotifyResponse', 'ReadRequest', 'ReadResponse', 'ReadSyncRequest', 'ReadSyncResponse'],
  write: ['WriteRequest', 'WriteNotifyRequest', 'WriteNotifyResponse'],
  monitor: ['EventAddRequest', 'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse', 'EventsOffRequest', 'EventsOnRequest'],
  beacon: ['Beacon', 'RepeaterRegisterRequest', 'RepeaterConfirmResponse'],
  error: ['ErrorResponse', 'CreateChFailResponse', 'NotFoundResponse', 'Malformed'],
  connect: [
    'VersionRequest', 'VersionResponse', 'CreateChanRequest', 'CreateChanResponse', 'AccessRightsResponse',
    'CreateChFailResponse', 'ClearChannelRequest', 'ClearChannelResponse', 'ServerDisconnResponse',
    'ClientNameRequest', 'HostNameRequest',
  ],
};

/** Command names that are errors whatever their fields. */
const ERROR_COMMANDS = new Set(['ErrorResponse', 'CreateChFailResponse', 'NotFoundResponse', 'Malformed']);

/** An empty filter: everything passes. */
export function emptyFilter(): SubscribeFilter {
  return {};
}

/** Splits a filter-bar field into terms (commas or whitespace). */
export function splitTerms(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Drops empty parts so `{}` means "everything" and equal filters serialise equally. */
export function normalizeFilter(f: SubscribeFilter): SubscribeFilter {
  const out: SubscribeFilter = {};
  if (f.pv && f.pv.length > 0) out.pv = [...f.pv];
  if (f.host && f.host.length > 0) out.host = [...f.host];
  if (f.command && f.command.length > 0) out.command = [...f.command];
  if (f.errors) out.errors = true;
  return out;
}

/** True when the filter lets everything through. */
export function isEmptyFilter(f: SubscribeFilter): boolean {
  return Object.keys(normalizeFilter(f)).length === 0;
}

/** Compiles a PV glob (`*`, `?`, `[abc]`, `[!abc]`) to an anchored, case-sensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/** Parses a dotted quad to a 32-bit unsigned integer, or null. */
export function ipv4ToInt(addr: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

/** Compiles `ADDR[/MASK]` (prefix length or dotted mask) to a predicate on dotted quads; null if bad. */
export function hostMatcher(spec: string): ((addr: string) => boolean) | null {
  const [addrText, maskText] = spec.split('/', 2);
  const addr = ipv4ToInt(addrText);
  if (addr === null) return null;
  let mask = 0xffffffff;
  if (maskText !== undefined) {
    if (/^\d{1,2}$/.test(maskText)) {
      const bits = Number(maskText);
      if (bits > 32) return null;
      mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    } else {
      const m = ipv4ToInt(maskText);
      if (m === null) return null;
      mask = m;
    }
  }
  const net = (addr & mask) >>> 0;
  return (a: string) => {
    const n = ipv4ToInt(a);
    return n !== null && ((n & mask) >>> 0) === net;
  };
}

/** True when `name` is selected by a command term: a family, a class name, or a name without Request/Response. */
export function commandMatches(term: string, name: string): boolean {
  const t = term.toLowerCase();
  const family = COMMAND_FAMILIES[t];
  if (family) return family.includes(name);
  const n = name.toLowerCase();
  return n === t || n.replace(/(request|response)$/, '') === t.replace(/(request|response)$/, '');
}

/** True when a record reports a failure: an error command or a status that is not success. */
export function isErrorRecord(r: RecordJSON): boolean {
  const name = r.command?.name;
  if (ERROR_COMMANDS.has(name)) return true;
  const status = r.command?.status;
  if (status !== undefined && status !== null && /Response$/.test(name) && name !== 'SearchResponse') {
    const eca = ecaStatus(status);
    if (eca && !eca.ok) return true;
  }
  return false;
}

/** A compiled filter for matching records locally. */
export type RecordPredicate = (r: RecordJSON) => boolean;

/** Compiles a subscription filter into a predicate with the same meaning the daemon gives it. */
export function compileFilter(f: SubscribeFilter): RecordPredicate {
  const pvRes = (f.pv ?? []).map(globToRegExp);
  const hosts = (f.host ?? []).map(hostMatcher).filter((m): m is (a: string) => boolean => m !== null);
  const commands = f.command ?? [];
  const errors = f.errors === true;
  return (r) => {
    if (pvRes.length > 0) {
      const pv = r.pv;
      if (typeof pv !== 'string' || !pvRes.some((re) => re.test(pv))) return false;
    }
    if (hosts.length > 0 && !hosts.some((m) => m(r.src) || m(r.dst))) return false;
    if (commands.length > 0 && !commands.some((c) => commandMatches(c, r.command?.name ?? ''))) return false;
    if (errors && !isErrorRecord(r)) return false;
    return true;
  };
}

/** The views of the page, in tab order. */
export const VIEWS = ['live', 'channels', 'servers', 'clients', 'searches', 'latency', 'errors'] as const;
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
    return v === null ? undefined : v.split(',').filter((s) => s !== '');
  };
  const filter = normalizeFilter({
    pv: list('pv'),
    host: list('host'),
    command: list('cmd'),
    errors: params.get('errors') === '1',
  });
  return { view, filter };
}

/** Writes the page state as a hash; the inverse of {@link parseHash}. */
export function formatHash(state: PageState): string {
  const f = normalizeFilter(state.filter);
  const parts: string[] = [];
  // Globs keep `*` and `:` readable; only characters that would break the query are escaped.
  const enc = (xs: string[]): string => xs.map((x) => encodeURIComponent(x).replace(/%3A/gi, ':').replace(/%2F/gi, '/')).join(',');
  if (f.pv) parts.push(`pv=${enc(f.pv)}`);
  if (f.host) parts.push(`host=${enc(f.host)}`);
  if (f.command) parts.push(`cmd=${enc(f.command)}`);
  if (f.errors) parts.push('errors=1');
  return `#/${state.view}${parts.length > 0 ? `?${parts.join('&')}` : ''}`;
}

/**
 * A predicate for snapshot rows from the PV and host parts of a filter (commands and errors do not
 * apply to state tables). `addrs` of a row are its endpoints, `ip:port` or plain addresses.
 */
export function compileRowFilter(f: SubscribeFilter): (pv: string | null | undefined, addrs: readonly (string | null | undefined)[]) => boolean {
  const pvRes = (f.pv ?? []).map(globToRegExp);
  const hosts = (f.host ?? []).map(hostMatcher).filter((m): m is (a: string) => boolean => m !== null);
  return (pv, addrs) => {
    if (pvRes.length > 0 && (typeof pv !== 'string' || !pvRes.some((re) => re.test(pv)))) return false;
    if (hosts.length > 0) {
      const ips = addrs.filter((a): a is string => typeof a === 'string').map((a) => a.replace(/:\d+$/, ''));
      if (!hosts.some((m) => ips.some((ip) => m(ip)))) return false;
    }
    return true;
  };
}
