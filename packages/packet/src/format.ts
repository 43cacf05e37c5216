/**
 * Address formatting with small bounded caches: a capture holds few distinct addresses, so formatting each
 * one once keeps string building out of the per-packet path.
 */

const CACHE_LIMIT = 65536;

const quads = new Map<number, string>();

/** Dotted-quad text of an IPv4 address given as an unsigned 32-bit number. */
export function dottedQuad(addr: number): string {
  let s = quads.get(addr);
  if (s === undefined) {
    s = `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
    if (quads.size >= CACHE_LIMIT) quads.clear();
    quads.set(addr, s);
  }
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const macs = new Map<number, string>();

/** Colon-hex text of `len` bytes at `off` (hardware addresses; 6-byte ones are cached). */
export function hwAddress(buf: Uint8Array, off: number, len: number): string {
  if (len === 6) {
    const key =
      (buf[off] * 0x10000 + buf[off + 1] * 0x100 + buf[off + 2]) * 0x1000000 +
      buf[off + 3] * 0x10000 +
      buf[off + 4] * 0x100 +
      buf[off + 5];
    let s = macs.get(key);
    if (s === undefined) {
      s = formatHex(buf, off, len);
      if (macs.size >= CACHE_LIMIT) macs.clear();
      macs.set(key, s);
    }
    return s;
  }
  return formatHex(buf, off, len);
}

function formatHex(buf: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (i === 0 ? '' : ':') + HEX[buf[off + i]];
  return s;
}
