/** Test helpers: hex strings ↔ bytes (spaces and `|` separators ignored). */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** ASCII text as bytes, NUL-padded to `size`. */
export function ascii(s: string, size = s.length): string {
  const out: string[] = [];
  for (let i = 0; i < size; i++) out.push((i < s.length ? s.charCodeAt(i) : 0).toString(16).padStart(2, '0'));
  return out.join(' ');
}

function be(size: number, write: (v: DataView) => void): string {
  const b = new Uint8Array(size);
  write(new DataView(b.buffer));
  return toHex(b);
}
/** Big-endian hex of one number, for hand-built payload rows. */
export const f64 = (x: number) => be(8, (v) => v.setFloat64(0, x));
export const f32 = (x: number) => be(4, (v) => v.setFloat32(0, x));
export const i32 = (x: number) => be(4, (v) => v.setInt32(0, x));
export const i16 = (x: number) => be(2, (v) => v.setInt16(0, x));
export const u16 = (x: number) => be(2, (v) => v.setUint16(0, x));
export const u32 = (x: number) => be(4, (v) => v.setUint32(0, x));
/** `n` zero bytes. */
export const zeros = (n: number) => Array(n).fill('00').join(' ');
