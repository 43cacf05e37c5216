/** Wire constants the conversation tracker reads directly, and a hex helper for fault samples. */
/** Search reply / beacon address meaning "the datagram's source address" (§3.2). */
export const ADDRESS_FROM_SOURCE = 0xffffffff;

/** EVENT_ADD request payload: mask u16 at payload offset 12 (§3.9). */
export const EVENT_ADD_MASK_OFFSET = 12;

/** Lower-case hex of bytes. */
export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}
