/**
 * `--format TEMPLATE`: a Python `str.format`-like template over a record, as caproto-shark takes:
 * `{token}`, attribute access `{transport.sport}`, index access `{command.data[0]}`, conversions
 * `!r`/`!s`, a format spec `{latency:.6f}` / `{pv:>20}`, and `{{` / `}}` for literal braces.
 */
import { pyFloat, pyNumber, pyRepr, pyStr, writePyFloat } from './pyrepr.js';
import {
  renderCommand,
  renderCommandClass,
  renderIp,
  renderLink,
  renderTransport,
  writeCommand,
  type CommandLike,
} from './render.js';
import { asString, TextBuffer } from './text-buffer.js';

/** The record fields a template reads (the decoder's `CaRecord` satisfies it). */
export interface TemplateRecord {
  readonly frame?: number;
  readonly timestamp: number;
  readonly src: string;
  readonly dst: string;
  readonly ethernet: object;
  readonly ip: object;
  readonly transport: object;
  readonly command: CommandLike;
  readonly pv: string | null;
  readonly role: string | null;
  readonly role_certainty?: string;
  readonly latency?: number;
  readonly circuit?: number;
  readonly server?: string;
  readonly client?: string;
  readonly size?: number;
  readonly request?: object;
}

/** A compiled template: record → line (without newline). */
export type CompiledTemplate = (record: TemplateRecord) => string;

/** Thrown for a template that cannot be used; the message names the bad part and what is valid. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** caproto-shark's default template. */
export const DEFAULT_TEMPLATE = '{timestamp} {src}:{transport.sport}->{dst}:{transport.dport} {command}';
/** The default line with the decoder's class names (`--decoder-names`). */
export const DECODER_NAMES_TEMPLATE = '{timestamp} {src}:{transport.sport}->{dst}:{transport.dport} {decoded}';

/** Tokens a template may use, with what they print. */
export const TOKENS: Readonly<Record<string, string>> = {
  timestamp: 'capture time, Unix seconds (float)',
  src: 'source IPv4 address',
  dst: 'destination IPv4 address',
  ethernet: 'link-layer record (attributes: type, src, dst, ethertype, vlan, ...)',
  ip: 'IPv4 header (attributes: version, hl, tos, len, id, flags, offset, ttl, p, sum, src, dst)',
  transport: 'UDP/TCP header (attributes: protocol, sport, dport, ulen | seq, ack, flags, win, ...)',
  command: 'the CA message, caproto-style (attributes: its fields, e.g. cid, sid, data_type, data)',
  pv: 'PV name, or None',
  latency: 'seconds since the request this response answers, or None',
  role: "'request' or 'response'",
  role_certainty: "'certain', 'inferred' or 'guess'",
  frame: 'frame number in the capture',
  circuit: 'TCP circuit id, or None',
  server: "server endpoint 'ip:port', or None",
  client: "client endpoint 'ip:port', or None",
  size: 'message size in bytes',
  request: 'the request this response answers (attributes: frame, timestamp, command)',
  decoded: "{command} under the decoder's class from the direction (command.name), e.g. ClearChannelResponse",
};

/** Attributes checked when the template is compiled (for the tokens whose shape is fixed). */
const KNOWN_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  ethernet: ['type', 'linktype', 'src', 'dst', 'ethertype', 'vlan', 'packetType', 'ifindex'],
  ip: ['version', 'hl', 'tos', 'len', 'id', 'flags', 'offset', 'ttl', 'p', 'sum', 'src', 'dst', 'options'],
  transport: ['protocol', 'sport', 'dport', 'ulen', 'sum', 'seq', 'ack', 'off', 'flags', 'win', 'urp'],
  request: ['frame', 'timestamp', 'command'],
};
/** Tokens whose values are plain scalars: no attribute access. */
const SCALAR_TOKENS = new Set([
  'decoded',
  'timestamp',
  'src',
  'dst',
  'pv',
  'latency',
  'role',
  'role_certainty',
  'frame',
  'circuit',
  'server',
  'client',
  'size',
]);
/** Tokens that are floats in the peer's output (Python prints them with a `.0` when integral). */
const FLOAT_TOKENS = new Set(['timestamp', 'latency']);

type Accessor = { kind: 'attr'; name: string } | { kind: 'index'; index: number | string };

interface Field {
  token: string;
  path: Accessor[];
  conversion: 'r' | 's' | null;
  spec: FormatSpec | null;
  source: string;
}

/** Compile a template; throws {@link TemplateError} naming the bad token and listing the valid ones. */
export function compileTemplate(template: string): CompiledTemplate {
  if (template === DEFAULT_TEMPLATE) return defaultLine;
  const pieces: (string | Field)[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '{') {
      if (template[i + 1] === '{') {
        literal += '{';
        i += 2;
        continue;
      }
      const close = template.indexOf('}', i + 1);
      if (close < 0) throw new TemplateError(`unclosed '{' at position ${i} in template ${JSON.stringify(template)}`);
      if (literal) pieces.push(literal);
      literal = '';
      pieces.push(parseField(template.slice(i + 1, close)));
      i = close + 1;
    } else if (c === '}') {
      if (template[i + 1] !== '}') {
        throw new TemplateError(
          `single '}' at position ${i} in template ${JSON.stringify(template)}; write '}}' for a literal brace`,
        );
      }
      literal += '}';
      i += 2;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal) pieces.push(literal);
  return (record) => {
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : renderField(p, record);
    return out;
  };
}

/**
 * {@link DEFAULT_TEMPLATE} written out: the line printed for every record by default, so it skips the
 * general template machinery (the template tests check both give the same text).
 */
function defaultLine(record: TemplateRecord): string {
  return asString((out) => writeDefaultLine(out, record));
}

/** The default line of `record` (see {@link defaultLine}), written into `out`. */
export function writeDefaultLine(out: TextBuffer, record: TemplateRecord): void {
  const t = record.transport as { sport?: unknown; dport?: unknown };
  // The messages of a packet share its time and endpoints (three lines in four on realistic.pcap), and
  // the next packets mostly their endpoints: that text is written once and copied while it stays the same.
  const { timestamp, src, dst } = record;
  const sport = t.sport;
  const dport = t.dport;
  if (
    !prefixOf.written ||
    !Object.is(timestamp, prefixOf.timestamp) ||
    src !== prefixOf.src ||
    dst !== prefixOf.dst ||
    sport !== prefixOf.sport ||
    dport !== prefixOf.dport
  ) {
    if (
      !prefixOf.written ||
      src !== prefixOf.src ||
      dst !== prefixOf.dst ||
      sport !== prefixOf.sport ||
      dport !== prefixOf.dport
    ) {
      endpoints.length = 0;
      endpoints.text(src);
      endpoints.byte(COLON);
      writePort(endpoints, sport);
      endpoints.pair(MINUS, GREATER);
      endpoints.text(dst);
      endpoints.byte(COLON);
      writePort(endpoints, dport);
      endpoints.byte(SPACE);
      endpointsText = endpointViews.of(endpoints);
      prefixOf.src = src;
      prefixOf.dst = dst;
      prefixOf.sport = sport;
      prefixOf.dport = dport;
    }
    prefix.length = 0;
    writePyFloat(prefix, timestamp);
    prefix.byte(SPACE);
    prefix.copy(endpointsText);
    prefixOf.timestamp = timestamp;
    prefixOf.written = true;
    prefixText = prefixViews.of(prefix);
  }
  out.copy(prefixText);
  writeCommand(out, record.command, record.pv, record.size);
}
const SPACE = 0x20;
const COLON = 0x3a;
const MINUS = 0x2d;
const GREATER = 0x3e;
/** `src:sport->dst:dport ` of the last default line... */
const endpoints = new TextBuffer(64);
/** ...and `time src:sport->dst:dport `, with what they were written from. */
const prefix = new TextBuffer(96);

/**
 * Views of a buffer's text by its length, made once per length and buffer: the prefix and endpoints texts
 * are copied with one `set()` each (a new view per packet cost more in allocation and write barriers than
 * the copy saved).
 */
class TextViews {
  private views: Uint8Array[] = [];
  private viewed: Uint8Array | null = null;

  /** A view of `buffer`'s text (its first `length` bytes), valid until the buffer is written again. */
  of(buffer: TextBuffer): Uint8Array {
    const bytes = buffer.bytes;
    if (this.viewed !== bytes) {
      this.views = [];
      this.viewed = bytes;
    }
    return (this.views[buffer.length] ??= bytes.subarray(0, buffer.length));
  }
}
const endpointViews = new TextViews();
const prefixViews = new TextViews();
/** `endpoints`' and `prefix`'s texts: the one copied into each new prefix, the other into every line. */
let endpointsText: Uint8Array = new Uint8Array(0);
let prefixText: Uint8Array = new Uint8Array(0);
const prefixOf: {
  written: boolean;
  timestamp: number;
  src: string;
  dst: string;
  sport: unknown;
  dport: unknown;
} = {
  written: false,
  timestamp: Number.NaN,
  src: '',
  dst: '',
  sport: undefined,
  dport: undefined,
};

function writePort(out: TextBuffer, port: unknown): void {
  if (typeof port === 'number' && Number.isSafeInteger(port)) out.int(port);
  else out.text(typeof port === 'number' ? pyNumber(port) : pyStr(port));
}

function validTokensText(): string {
  return Object.keys(TOKENS)
    .map((t) => `{${t}}`)
    .join(', ');
}

function parseField(body: string): Field {
  const source = `{${body}}`;
  let rest = body;
  let spec: FormatSpec | null = null;
  let conversion: Field['conversion'] = null;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    spec = parseSpec(rest.slice(colon + 1), source);
    rest = rest.slice(0, colon);
  }
  const bang = rest.indexOf('!');
  if (bang >= 0) {
    const conv = rest.slice(bang + 1);
    if (conv !== 'r' && conv !== 's') throw new TemplateError(`bad conversion '!${conv}' in ${source}: use !r or !s`);
    conversion = conv;
    rest = rest.slice(0, bang);
  }
  const m = /^([A-Za-z_]\w*)/.exec(rest);
  if (m === null) {
    throw new TemplateError(`bad token ${source}: expected a name; valid tokens are ${validTokensText()}`);
  }
  const token = m[1];
  if (!(token in TOKENS)) {
    throw new TemplateError(`unknown token {${token}} in ${source}; valid tokens are ${validTokensText()}`);
  }
  const path: Accessor[] = [];
  let pos = token.length;
  while (pos < rest.length) {
    if (rest[pos] === '.') {
      const am = /^\.([A-Za-z_]\w*)/.exec(rest.slice(pos));
      if (am === null) throw new TemplateError(`bad attribute after '.' in ${source}`);
      path.push({ kind: 'attr', name: am[1] });
      pos += am[0].length;
    } else if (rest[pos] === '[') {
      const end = rest.indexOf(']', pos);
      if (end < 0) throw new TemplateError(`unclosed '[' in ${source}`);
      const key = rest.slice(pos + 1, end);
      path.push({ kind: 'index', index: /^\d+$/.test(key) ? Number(key) : key });
      pos = end + 1;
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(rest[pos])} in ${source}`);
    }
  }
  if (path.length > 0) {
    if (SCALAR_TOKENS.has(token)) {
      throw new TemplateError(
        `{${token}} has no attributes (in ${source}); tokens with attributes are {ethernet}, {ip}, {transport}, {command}, {request}`,
      );
    }
    const known = KNOWN_ATTRIBUTES[token];
    const first = path[0];
    if (known !== undefined && first.kind === 'attr' && !known.includes(first.name)) {
      throw new TemplateError(
        `unknown attribute {${token}.${first.name}} in ${source}; {${token}} has ${known.join(', ')}`,
      );
    }
  }
  return { token, path, conversion, spec, source };
}

function renderField(field: Field, record: TemplateRecord): string {
  const root = (record as unknown as Record<string, unknown>)[field.token];
  let value: unknown = root;
  for (const step of field.path) {
    if (value === null || value === undefined || typeof value !== 'object') {
      value = undefined;
      break;
    }
    const key = step.kind === 'attr' ? step.name : step.index;
    value = (value as Record<string | number, unknown>)[key];
  }
  // A CHAR waveform decodes to a Uint8Array, which pyRepr would print as bytes: it is a list of values.
  const last = field.path.at(-1);
  if (value instanceof Uint8Array && last?.kind === 'attr' && last.name === 'data') value = Array.from(value);
  if (field.spec !== null && field.conversion === null) return applySpec(field.spec, value, field);
  let text: string;
  if (field.path.length === 0) text = tokenText(field.token, value, record, field.conversion === 'r');
  else text = field.conversion === 'r' ? pyRepr(value) : pyStr(value);
  return field.spec !== null ? applySpec(field.spec, text, field) : text;
}

/** Text of a whole token (no attribute access). */
export function tokenText(token: string, value: unknown, record: TemplateRecord, repr = false): string {
  switch (token) {
    case 'command':
      return renderCommand(record.command, record.pv, record.size);
    case 'decoded':
      return renderCommandClass(record.command, record.pv);
    case 'ethernet':
      return renderLink(record.ethernet as Record<string, unknown>);
    case 'ip':
      return renderIp(record.ip as Record<string, unknown>);
    case 'transport':
      return renderTransport(record.transport as Record<string, unknown>);
    default:
      if (typeof value === 'number' && FLOAT_TOKENS.has(token)) return pyFloat(value);
      return repr ? pyRepr(value) : pyStr(value);
  }
}

// ---------------------------------------------------------------------------------------------------
// Format specs: [[fill]align][sign][width][,][.precision][type]

interface FormatSpec {
  fill: string;
  align: '<' | '>' | '^' | '=' | null;
  sign: '+' | '-' | ' ' | null;
  width: number;
  grouping: boolean;
  precision: number | null;
  type: string | null;
}

function parseSpec(text: string, source: string): FormatSpec {
  const m = /^(?:(.)?([<>^=]))?([+\- ])?(0)?(\d+)?(,)?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s.exec(text);
  if (m === null) throw new TemplateError(`bad format spec ':${text}' in ${source}`);
  const zero = m[4] !== undefined;
  return {
    fill: m[1] ?? (zero ? '0' : ' '),
    align: (m[2] as FormatSpec['align']) ?? (zero ? '=' : null),
    sign: (m[3] as FormatSpec['sign']) ?? null,
    width: m[5] !== undefined ? Number(m[5]) : 0,
    grouping: m[6] !== undefined,
    precision: m[7] !== undefined ? Number(m[7]) : null,
    type: m[8] ?? null,
  };
}

function applySpec(spec: FormatSpec, value: unknown, field: Field): string {
  let body: string;
  let numeric = false;
  if (typeof value === 'number' && spec.type !== 's') {
    numeric = true;
    body = formatNumber(spec, value, FLOAT_TOKENS.has(field.token) && field.path.length === 0);
  } else if (spec.type !== null && spec.type !== 's') {
    if (value === null || value === undefined) body = 'None';
    else throw new TemplateError(`format ':${spec.type}' in ${field.source} needs a number, got ${pyRepr(value)}`);
  } else {
    body = typeof value === 'string' ? value : pyStr(value);
    if (spec.precision !== null) body = body.slice(0, spec.precision);
  }
  return pad(body, spec, numeric);
}

function formatNumber(spec: FormatSpec, x: number, isFloat: boolean): string {
  const abs = Math.abs(x);
  let digits: string;
  switch (spec.type) {
    case 'd':
    case 'n':
      digits = String(Math.trunc(abs));
      break;
    case 'x':
      digits = Math.trunc(abs).toString(16);
      break;
    case 'X':
      digits = Math.trunc(abs).toString(16).toUpperCase();
      break;
    case 'o':
      digits = Math.trunc(abs).toString(8);
      break;
    case 'b':
      digits = Math.trunc(abs).toString(2);
      break;
    case 'e':
    case 'E': {
      const t = abs.toExponential(spec.precision ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      digits = spec.type === 'E' ? t.toUpperCase() : t;
      break;
    }
    case 'f':
    case 'F':
      digits = abs.toFixed(spec.precision ?? 6);
      break;
    case '%':
      digits = (abs * 100).toFixed(spec.precision ?? 6) + '%';
      break;
    case 'g':
    case 'G':
      digits = String(Number(abs.toPrecision(spec.precision ?? 6)));
      break;
    default:
      digits =
        spec.precision !== null
          ? String(Number(abs.toPrecision(spec.precision)))
          : isFloat
            ? pyFloat(abs)
            : pyNumber(abs);
  }
  if (spec.grouping) {
    const [intPart, frac] = digits.split('.');
    digits = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac !== undefined ? '.' + frac : '');
  }
  const sign = x < 0 || Object.is(x, -0) ? '-' : spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '';
  if (spec.align === '=') {
    const width = Math.max(0, spec.width - sign.length);
    return sign + digits.padStart(width, spec.fill);
  }
  return sign + digits;
}

function pad(body: string, spec: FormatSpec, numeric: boolean): string {
  if (body.length >= spec.width) return body;
  const n = spec.width - body.length;
  const align = spec.align ?? (numeric ? '>' : '<');
  if (align === '=') return body;
  if (align === '<') return body + spec.fill.repeat(n);
  if (align === '>') return spec.fill.repeat(n) + body;
  const left = Math.floor(n / 2);
  return spec.fill.repeat(left) + body + spec.fill.repeat(n - left);
}
