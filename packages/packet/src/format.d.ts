/**
 * Address formatting with small bounded caches: a capture holds few distinct addresses, so formatting each
 * one once keeps string building out of the per-packet path.
 */
/** Dotted-quad text of an IPv4 address given as an unsigned 32-bit number. */
export declare function dottedQuad(addr: number): string;
/** Colon-hex text of `len` bytes at `off` (hardware addresses; 6-byte ones are cached). */
export declare function hwAddress(buf: Uint8Array, off: number, len: number): string;
//# sourceMappingURL=format.d.ts.map