/**
 * Record filters shared by the `ca-shark` command line and the daemon: by PV name glob, by host address
 * or subnet, by command name or family, and "errors only".
 *
 * The filter works on the structural minimum of a decoded record ({@link FilterableRecord}) so that it
 * accepts the decoder's records as well as their JSON form.
 */

/** The part of a decoded record that filters look at. */
export interface FilterableRecord {
  /** Source IPv4 address, dotted quad. */
  readonly src: string;
  /** Destination IPv4 address, dotted quad. */
  readonly dst: string;
  /** PV name the message is about, or null when it is about none (or it is not known). */
  readonly pv?: string | null;
  /** Decoded command: `name` is the caproto class name (`SearchRequest`, `Malformed`, ...). */
  readonly command: { readonly name: string } & Readonly<Record<string, unknown>>;
}

/** What to keep. Every given criterion must hold (AND); values inside one criterion are alternatives (OR). */
export interface FilterSpec {
  /** PV name globs (`*`, `?`, `[abc]`, `[!abc]`, `{a,b}`); case-sensitive like EPICS names. */
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
}

/** A compiled filter: true to keep the record. */
export type RecordPredicate = (record: FilterableRecord) => boolean;

/** Thrown by {@link compileFilter} for an unusable filter value; the message names the value. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

/**
 * Every command class name the decoder emits (caproto's names, plus `Beacon` and `Malformed`). Used to
 * validate `--command` values and to list them in error messages.
 */
export const COMMAND_NAMES: readonly string[] = [
  'VersionRequest', 'VersionResponse',
  'SearchRequest', 'SearchResponse', 'NotFoundResponse',
  'Beacon', 'RsrvIsUpResponse',
  'RepeaterRegisterRequest', 'RepeaterConfirmResponse',
  'CreateChanRequest', 'CreateChanResponse', 'CreateChFailResponse',
  'AccessRightsResponse', 'ServerDisconnResponse',
  'HostNameRequest', 'ClientNameRequest',
  'ClearChannelRequest', 'ClearChannelResponse',
  'ReadNotifyRequest', 'ReadNotifyResponse', 'ReadRequest', 'ReadResponse', 'ReadSyncRequest', 'ReadSyncResponse',
  'WriteRequest', 'WriteNotifyRequest', 'WriteNotifyResponse',
  'EventAddRequest', 'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse',
  'EventsOffRequest', 'EventsOnRequest',
  'EchoRequest', 'EchoResponse',
  'ErrorResponse',
  'Malformed',
];

/** Command families accepted by `--command`, each mapped to the class names it stands for. */
export const COMMAND_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  search: ['SearchRequest', 'SearchResponse', 'NotFoundResponse'],
  read: ['ReadNotifyRequest', 'ReadNotifyResponse', 'ReadRequest', 'ReadResponse', 'ReadSyncRequest', 'ReadSyncResponse'],
  write: ['WriteRequest', 'WriteNotifyRequest', 'WriteNotifyResponse'],
  monitor: ['EventAddRequest', 'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse', 'EventsOffRequest', 'EventsOnRequest'],
  beacon: ['Beacon', 'RsrvIsUpResponse'],
  error: ['ErrorResponse', 'CreateChFailResponse', 'Malformed'],
  connect: [
    'VersionRequest', 'VersionResponse', 'HostNameRequest', 'ClientNameRequest',
    'CreateChanRequest', 'CreateChanResponse', 'CreateChFailResponse', 'AccessRightsResponse',
  ],
  disconnect: ['ClearChannelRequest', 'ClearChannelResponse', 'ServerDisconnResponse'],
  version: ['VersionRequest', 'VersionResponse'],
  repeater: ['RepeaterRegisterRequest', 'RepeaterConfirmResponse'],
  echo: ['EchoRequest', 'EchoResponse'],
};

/** Commands that are failures whatever their fields say. */
const FAILURE_COMMANDS = new Set(['ErrorResponse', 'CreateChFailResponse', 'NotFoundResponse', 'Malformed']);
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

  const pvGlobs = spec.pv ?? [];
  if (pvGlobs.length > 0) {
    const patterns = pvGlobs.map(globToRegExp);
    tests.push((r) => {
      const pv = r.pv;
      if (typeof pv !== 'string') return false;
      for (const p of patterns) if (p.test(pv)) return true;
      return false;
    });
  }

  const hosts = spec.host ?? [];
  if (hosts.length > 0) {
    const nets = hosts.map(parseSubnet);
    tests.push((r) => {
      const s = ipv4ToInt(r.src);
      const d = ipv4ToInt(r.dst);
      for (const n of nets) {
        if (s !== null && ((s & n.mask) >>> 0) === n.network) return true;
        if (d !== null && ((d & n.mask) >>> 0) === n.network) return true;
      }
      return false;
    });
  }

  const commandValues = (spec.command ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (commandValues.length > 0) {
    const wanted = resolveCommandNames(commandValues);
    tests.push((r) => wanted.has(r.command.name));
  }

  if (spec.errors === true) tests.push(isFailure);

  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
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
        `unknown command ${JSON.stringify(raw)}; use a family (${Object.keys(COMMAND_FAMILIES).join(', ')}) ` +
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
  if (addr === null) throw new FilterError(`bad host address ${JSON.stringify(text)}: expected ADDR[/MASK] with an IPv4 ADDR`);
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
        throw new FilterError(`bad mask in ${JSON.stringify(text)}: expected a prefix length 0..32 or a dotted netmask`);
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

/**
 * Translate a shell-style glob into an anchored RegExp: `*` any run, `?` one character, `[abc]` / `[!abc]`
 * / `[a-z]` classes, `{a,b}` alternatives, `\x` a literal x. Throws {@link FilterError} on an unclosed
 * `[` or `{`.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) {
      re += escapeRegExp(glob[++i]);
    } else if (c === '*') {
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new FilterError(`bad PV glob ${JSON.stringify(glob)}: unclosed [`);
      let body = glob.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      re += '[' + (negate ? '^' : '') + body.replace(/[\\\]^]/g, '\\$&') + ']';
      i = close;
    } else if (c === '{') {
      braceDepth++;
      re += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      re += ')';
    } else if (c === ',' && braceDepth > 0) {
      re += '|';
    } else {
      re += escapeRegExp(c);
    }
  }
  if (braceDepth > 0) throw new FilterError(`bad PV glob ${JSON.stringify(glob)}: unclosed {`);
  return new RegExp('^' + re + '$', 's');
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
