/** Small helpers shared by the simulator's server and clients. */

/** Text up to the first NUL (or the end), read as Latin-1 like C strings on the wire. */
export function decodeCString(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

/** Latin-1 bytes of a string followed by its NUL terminator (the encoder adds the 8-byte pad). */
export function encodeCString(text: string): Uint8Array {
  const out = Buffer.alloc(Buffer.byteLength(text, 'latin1') + 1);
  out.write(text, 'latin1');
  return out;
}

/** True for 127.0.0.0/8 (and its IPv4-mapped IPv6 form). */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.');
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
