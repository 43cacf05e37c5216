/**
 * Pieces of the Live table and the record detail kept apart from the components so they are tested
 * without a browser: endpoints, the hex dump, the virtualised list's visible range. (A row's summary line
 * comes from the daemon; see live-record.ts for the page's own from a full record.)
 */

// The summary line is the daemon's own (it sends it in every live record): one implementation.
export { summarizeFields } from '@ca-shark/analysis/summary';

/** `ADDR:PORT` of an endpoint when the port is known. */
export function endpoint(addr: string, port: unknown): string {
  return typeof port === 'number' ? `${addr}:${port}` : addr;
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
