/**
 * How one record reads as a row of the live table: the short summary of its fields, its endpoints and
 * its latency. Kept apart from the components so it is tested without a browser.
 */
import type { RecordJSON } from './contract.js';
import {
  dbrTypeName,
  ecaStatus,
  formatAccessRights,
  formatAlarm,
  formatLatency,
  formatValue,
  valueFormatOf,
} from './dbr.js';
import { isFailure } from './filter.js';

/** Command fields that the row shows elsewhere or that carry no information for a reader. */
const HIDDEN_FIELDS = new Set([
  'name',
  'id',
  'data',
  'metadata',
  'pv',
  'payload',
  'header',
  'payload_size',
  'raw',
  // Shown through `data_type` and `status` (ECA name and severity).
  'data_type_name',
  'status_name',
  'severity',
  'address_raw',
  // A malformed record's bytes are in the detail's hex dump.
  'hex',
]);

/** What a row of the live table shows. */
export interface RowSummary {
  time: number;
  from: string;
  to: string;
  command: string;
  pv: string;
  fields: string;
  latency: string;
  error: boolean;
}

/** `ADDR:PORT` of an endpoint when the port is known. */
export function endpoint(addr: string, port: unknown): string {
  return typeof port === 'number' ? `${addr}:${port}` : addr;
}

function fieldText(key: string, v: unknown): string {
  if (key === 'status') {
    const eca = ecaStatus(v);
    return eca ? eca.name : String(v);
  }
  if (key === 'access_rights') return formatAccessRights(v);
  if (key === 'data_type') return dbrTypeName(v);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string') return o.name;
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * The key fields of a command in one line: the value first (with enum strings, units, precision),
 * then the other decoded fields as `key=value`. Long values are cut to `max` characters.
 */
export function summarizeFields(command: RecordJSON['command'], max = 160): string {
  const parts: string[] = [];
  if (command.data !== undefined && command.data !== null) {
    parts.push(formatValue(command.data, { ...valueFormatOf(command.metadata), maxElements: 5 }));
    // An alarm is worth a glance; a clear one is not.
    const alarm = formatAlarm(command.metadata);
    if (alarm !== '' && alarm !== 'NO_ALARM') parts.push(`[${alarm}]`);
  }
  for (const [k, v] of Object.entries(command)) {
    if (HIDDEN_FIELDS.has(k) || v === undefined || v === null) continue;
    if (k === 'status' && ecaStatus(v)?.ok) continue;
    if (k === 'status' && typeof command.status_name === 'string') {
      parts.push(`status=${command.status_name.replace(/^ECA_/, '')}`);
      continue;
    }
    parts.push(`${k}=${fieldText(k, v)}`);
  }
  const text = parts.join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The row summary of a record. */
export function summarizeRecord(r: RecordJSON): RowSummary {
  return {
    time: r.timestamp,
    from: endpoint(r.src, r.transport?.sport),
    to: endpoint(r.dst, r.transport?.dport),
    command: r.command?.name ?? '?',
    pv: typeof r.pv === 'string' ? r.pv : '',
    fields: r.command ? summarizeFields(r.command) : '',
    latency: formatLatency(r.latency),
    error: isFailure(r),
  };
}

const HEX_BYTES_PER_LINE = 16;
const PRINTABLE_LOW = 0x20;
const PRINTABLE_HIGH = 0x7e;

/** Parses a hex string (whitespace allowed) to bytes; odd or non-hex input gives null. */
export function parseHex(hex: string): Uint8Array | null {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * A classic hex dump: offset, 16 bytes in two groups of 8, and the printable ASCII, one line per 16
 * bytes. Returns an empty list for empty or invalid hex.
 */
export function hexDump(hex: string): string[] {
  const bytes = parseHex(hex);
  if (!bytes) return [];
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += HEX_BYTES_PER_LINE) {
    let hexPart = '';
    let ascii = '';
    for (let i = 0; i < HEX_BYTES_PER_LINE; i++) {
      const b = bytes[off + i];
      if (i === HEX_BYTES_PER_LINE / 2) hexPart += ' ';
      if (b === undefined) {
        hexPart += '   ';
        continue;
      }
      hexPart += `${b.toString(16).padStart(2, '0')} `;
      ascii += b >= PRINTABLE_LOW && b <= PRINTABLE_HIGH ? String.fromCharCode(b) : '.';
    }
    lines.push(`${off.toString(16).padStart(4, '0')}  ${hexPart} |${ascii}|`);
  }
  return lines;
}

/** Rows to render for a virtualised list: indexes `[start, end)` and the pixel offset of `start`. */
export interface VisibleRange {
  start: number;
  end: number;
  offset: number;
}

/** Which rows of a fixed-height list are on screen, with `overscan` extra rows above and below. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  total: number,
  overscan = 10,
): VisibleRange {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(total - 1, first - overscan));
  const end = Math.min(total, first + Math.ceil(Math.max(0, viewport) / rowHeight) + overscan);
  return { start, end: Math.max(start, end), offset: start * rowHeight };
}
