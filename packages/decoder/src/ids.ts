
/** Search reply / beacon address meaning "the datagram's source address" (§3.2). */
export const ADDRESS_FROM_SOURCE = 0xffffffff;

/** EVENT_ADD request payload: mask u16 at payload offset 12 (§3.9). */
export const EVENT_ADD_MASK_OFFSET = 12;


/** Reads a NUL-terminated Latin-1 string from a padded field. */
export function cstring(b: Uint8Array, off = 0, max = b.length - off): string {
  const end = Math.min(b.length, off + max);
  let s = '';
  for (let i = off; i < end; i++) {
    const c = b[i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** IPv4 address from a big-endian u32. */
export function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Lower-case hex of bytes. */
export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}
