/**
 * Record filters shared by the `ca-shark` command line and the daemon: by PV name glob, by host address
 * or subnet, by command name or family, and "errors only".
 *
 * The filter works on the structural minimum of a decoded record ({@link FilterableRecord}) so that it
 * accepts the decoder's records as well as their JSON form. This module (`@ca-shark/analysis/filter`)
 * imports nothing from node, so the dashboard bundles the same code and its verdicts are the daemon's.
 *
 * Filter values can come from any WebSocket client and PV names off the wire: globs are matched without
 * regular expressions in time bounded by name length × pattern length (see glob.ts), and every criterion
 * has a cap on how many values it takes.
 */
import type { CommandFields } from '@ca-shark/protocol';
import { FilterError, quoteValue } from './filter-error.js';
import { compileGlob, type GlobMatcher } from './glob.js';

export { FilterError } from './filter-error.js';
export { compileGlob, GlobMatcher, MAX_GLOB_ALTERNATIVES, MAX_GLOB_LENGTH } from './glob.js';

/** Most values one criterion (PV globs, hosts, command names) takes. */
export const MAX_FILTER_VALUES = 32;
/**
 * Most pattern tokens all PV globs of one filter may expand to together: the pattern-length factor of the
 * per-record cost, so one subscription cannot make every record cost millions of steps.
 */
export const MAX_PV_PATTERN_SIZE = 4096;

/** The part of a decoded record that filters look at. */
export interface FilterableRecord {
  /** Source IPv4 address, dotted quad. */
  readonly src: string;
  /** Destination IPv4 address, dotted quad. */
  readonly dst: string;
  /** PV name the message is about, or null when it is about none (or it is not known). */
  readonly pv?: string | null;
  /** Decoded command: `name` is the caproto class name (`SearchRequest`, `Malformed`, ...). */
  readonly command: CommandFields;
  /** The sensor that captured it, on a central daemon fed by sensors over NATS (absent on a single host). */
  readonly sensor?: string;
}

/** What to keep. Every given criterion must hold (AND); values inside one criterion are alternatives (OR). */
export interface FilterSpec {
  /**
   * PV name globs (`*`, `?`, `[abc]`, `[a-z]`, `[!abc]`, `{a,b}`, `\\x`); case-sensitive like EPICS names. At
   * most {@link MAX_FILTER_VALUES} globs of at most 256 characters and 64 brace alternatives each.
   */
  pv?: readonly string[];
  /** `ADDR`, `ADDR/PREFIXLEN` or `ADDR/NETMASK`; a record matches when its source or destination is inside. */
  host?: readonly string[];
  /**
   * Command class names (`SearchRequest`), base names matching both directions (`ReadNotify`), or
   * families (`search`, `read`, ...; see {@link COMMAND_FAMILIES}). Case-insensitive. An entry may hold
   * several names separated by commas.
   */
  command?: readonly string[];
  /** Keep only failures: error statuses, `ErrorResponse`, `CreateChFailResponse`, `NotFoundResponse`, `Malformed`. */
  errors?: boolean;
  /**
   * Sensor name globs (same syntax as `pv`): on a central daemon, keep records captured by these sensors. A
   * record without a sensor (a single-host daemon, `ca-shark`) never matches.
   */
  sensor?: readonly string[];
}

/** A compiled filter: true to keep the record. */
export type RecordPredicate = (record: FilterableRecord) => boolean;

/**
 * Every command class name the decoder emits (caproto's names, plus `Beacon` and `Malformed`). Used to
 * validate `--command` values and to list them in error messages.
 */
export const COMMAND_NAMES: readonly string[] = [
  'VersionRequest',
  'VersionResponse',
  'SearchRequest',
  'SearchResponse',
  'NotFoundResponse',
  'Beacon',
  'RsrvIsUpResponse',
  'RepeaterRegisterRequest',
  'RepeaterConfirmResponse',
  'CreateChanRequest',
  'CreateChanResponse',
  'CreateChFailResponse',
  'AccessRightsResponse',
  'ServerDisconnResponse',
  'HostNameRequest',
  'ClientNameRequest',
  'ClearChannelRequest',
  'ClearChannelResponse',
  'ReadNotifyRequest',
  'ReadNotifyResponse',
  'ReadRequest',
  'ReadResponse',
  'ReadSyncRequest',
  'ReadSyncResponse',
  'WriteRequest',
  'WriteNotifyRequest',
  'WriteNotifyResponse',
  'EventAddRequest',
  'EventAddResponse',
  'EventCancelRequest',
  'EventCancelResponse',
  'EventsOffRequest',
  'EventsOnRequest',
  'EchoRequest',
  'EchoResponse',
  'ErrorResponse',
  'Malformed',
];

/**
 * Command families accepted by `--command` and by the `command` field of a subscription, each mapped to the
 * class names it stands for. A command may be in several families (`CreateChFailResponse` is in `connect` and
 * `error`, `NotFoundResponse` in `search` and `error`). Documented in docs/cli.md, docs/websocket.md and
 * docs/dashboard.md; a test checks the three lists against this table.
 */
export const COMMAND_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  search: ['SearchRequest', 'SearchResponse', 'NotFoundResponse'],
  read: [
    'ReadNotifyRequest',
    'ReadNotifyResponse',
    'ReadRequest',
    'ReadResponse',
    'ReadSyncRequest',
    'ReadSyncResponse',
  ],
  write: ['WriteRequest', 'WriteNotifyRequest', 'WriteNotifyResponse'],
  monitor: [
    'EventAddRequest',
    'EventAddResponse',
    'EventCancelRequest',
    'EventCancelResponse',
    'EventsOffRequest',
    'EventsOnRequest',
  ],
  beacon: ['Beacon', 'RsrvIsUpResponse'],
  // The commands that are failures whatever their fields: `errors` also keeps failed statuses.
  error: ['ErrorResponse', 'CreateChFailResponse', 'NotFoundResponse', 'Malformed'],
  connect: [
    'VersionRequest',
    'VersionResponse',
    'HostNameRequest',
    'ClientNameRequest',
    'CreateChanRequest',
    'CreateChanResponse',
    'CreateChFailResponse',
    'AccessRightsResponse',
  ],
  disconnect: ['ClearChannelRequest', 'ClearChannelResponse', 'ServerDisconnResponse'],
  version: ['VersionRequest', 'VersionResponse'],
  repeater: ['RepeaterRegisterRequest', 'RepeaterConfirmResponse'],
  echo: ['EchoRequest', 'EchoResponse'],
};

/** Commands that are failures whatever their fields say. */
const FAILURE_COMMANDS = new Set(COMMAND_FAMILIES.error);
/** Responses whose status field is an ECA code (success bit = bit 0). */
const STATUS_FIELDS = ['status', 'status_code'] as const;
const STATUS_RESPONSES = new Set(['ReadNotifyResponse', 'WriteNotifyResponse', 'EventAddResponse']);
const ECA_SUCCESS_BIT = 1;

/**
 * Compile a {@link FilterSpec} into a predicate. Throws {@link FilterError} naming the offending value for a
 * bad glob, address or command name, so that a command line can report it before reading any input.
 */
export function compileFilter(spec: FilterSpec): RecordPredicate {
  const tests: RecordPredicate[] = [];

  const pv = compilePvMatcher(spec.pv ?? []);
  if (pv !== null) tests.push((r) => typeof r.pv === 'string' && pv(r.pv));

  const host = compileHostMatcher(spec.host ?? []);
  if (host !== null) tests.push((r) => host(r.src) || host(r.dst));

  const commandValues = (spec.command ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (commandValues.length > 0) {
    checkCount(commandValues, 'commands');
    const wanted = resolveCommandNames(commandValues);
    tests.push((r) => wanted.has(r.command.name));
  }

  if (spec.errors === true) tests.push(isFailure);

  const sensor = compileSensorMatcher(spec.sensor ?? []);
  if (sensor !== null) tests.push((r) => typeof r.sensor === 'string' && sensor(r.sensor));

  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
}

/**
 * Compile PV globs into one test of a name (true when any glob matches), or null for no globs (no
 * criterion). Throws {@link FilterError} for a bad glob or one over the limits.
 */
export function compilePvMatcher(globs: readonly string[]): ((pv: string) => boolean) | null {
  if (globs.length === 0) return null;
  checkCount(globs, 'PV globs');
  const matchers: GlobMatcher[] = globs.map(compileGlob);
  const size = matchers.reduce((n, m) => n + m.size, 0);
  if (size > MAX_PV_PATTERN_SIZE) {
    throw new FilterError(
      `PV globs are too large: they expand to ${size} pattern characters, more than ${MAX_PV_PATTERN_SIZE}; ` +
        'use fewer globs or {a,b} alternatives',
    );
  }
  return (pv) => {
    for (const m of matchers) if (m.test(pv)) return true;
    return false;
  };
}

/**
 * Compile sensor name globs into one test of a name, or null for no globs. Throws {@link FilterError} for a
 * bad glob or too many.
 */
export function compileSensorMatcher(globs: readonly string[]): ((sensor: string) => boolean) | null {
  if (globs.length === 0) return null;
  checkCount(globs, 'sensor globs');
  const matchers = globs.map(compileGlob);
  return (name) => matchers.some((m) => m.test(name));
}

/**
 * Compile `ADDR[/MASK]` values into one test of a dotted quad (true when it is inside any), or null for no
 * values. Throws {@link FilterError} for a bad address or mask.
 */
export function compileHostMatcher(hosts: readonly string[]): ((addr: string) => boolean) | null {
  if (hosts.length === 0) return null;
  checkCount(hosts, 'hosts');
  const nets = hosts.map(parseSubnet);
  return (addr) => {
    const a = ipv4ToInt(addr);
    if (a === null) return false;
    for (const n of nets) if ((a & n.mask) >>> 0 === n.network) return true;
    return false;
  };
}

function checkCount(values: readonly string[], what: string): void {
  if (values.length > MAX_FILTER_VALUES) {
    throw new FilterError(`more than ${MAX_FILTER_VALUES} ${what} in one filter (${values.length})`);
  }
}

/**
 * True when a record reports a failure: an ECA status without the success bit on a read/write/monitor
 * response or an `ErrorResponse`, a failed channel creation, a NOT_FOUND, or a malformed message.
 */
export function isFailure(record: FilterableRecord): boolean {
  const cmd = record.command;
  if (FAILURE_COMMANDS.has(cmd.name)) return true;
  if (!STATUS_RESPONSES.has(cmd.name)) return false;
  for (const field of STATUS_FIELDS) {
    const status = cmd[field];
    if (typeof status === 'number') return (status & ECA_SUCCESS_BIT) === 0;
  }
  return false;
}

/**
 * Resolve `--command` values (class names, base names without Request/Response, families; any case) into
 * the set of class names. Throws {@link FilterError} for a value that names nothing.
 */
export function resolveCommandNames(values: readonly string[]): Set<string> {
  const byLower = new Map(COMMAND_NAMES.map((n) => [n.toLowerCase(), n]));
  const out = new Set<string>();
  for (const raw of values) {
    const v = raw.toLowerCase();
    const family = COMMAND_FAMILIES[v];
    const exact = byLower.get(v);
    const request = byLower.get(v + 'request');
    const response = byLower.get(v + 'response');
    if (family === undefined && exact === undefined && request === undefined && response === undefined) {
      throw new FilterError(
        `unknown command ${quoteValue(raw)}; use a family (${Object.keys(COMMAND_FAMILIES).join(', ')}) ` +
          `or a name (${COMMAND_NAMES.join(', ')})`,
      );
    }
    for (const n of family ?? []) out.add(n);
    if (exact !== undefined) out.add(exact);
    if (request !== undefined) out.add(request);
    if (response !== undefined) out.add(response);
  }
  return out;
}

/** An IPv4 network as host-order integers. */
interface Subnet {
  network: number;
  mask: number;
}

function parseSubnet(text: string): Subnet {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = ipv4ToInt(addrText);
  if (addr === null)
    throw new FilterError(`bad host address ${quoteValue(text)}: expected ADDR[/MASK] with an IPv4 ADDR`);
  let mask = 0xffffffff;
  if (slash >= 0) {
    const maskText = text.slice(slash + 1);
    if (/^\d{1,2}$/.test(maskText) && Number(maskText) <= 32) {
      const bits = Number(maskText);
      mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    } else {
      const m = ipv4ToInt(maskText);
      // A dotted netmask must be contiguous ones followed by zeros.
      if (m === null || ((~m >>> 0) & ((~m >>> 0) + 1)) !== 0) {
        throw new FilterError(`bad mask in ${quoteValue(text)}: expected a prefix length 0..32 or a dotted netmask`);
      }
      mask = m;
    }
  }
  return { network: (addr & mask) >>> 0, mask };
}

/** Dotted quad to an unsigned 32-bit integer, or null when the text is not one. */
export function ipv4ToInt(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let out = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out = out * 256 + n;
  }
  return out;
}
