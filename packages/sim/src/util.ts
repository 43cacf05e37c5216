/** Small helpers shared by the simulator's server and clients. */
import { readCString } from '@ca-shark/protocol';

/** A NUL-terminated name or message filling a payload (pad bytes after the NUL are ignored). */
export function payloadString(payload: Uint8Array): string {
  return readCString(payload, 0, payload.length);
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
