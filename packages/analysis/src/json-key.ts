/**
 * A key of a JSON object as the writers of json.ts and json-shapes.ts copy it: `,"key":` encoded once,
 * as 32-bit words (one unaligned store per 4 bytes). Apart from json.ts so that json-shapes.ts can encode
 * its keys when it is loaded, whichever of the two modules is loaded first.
 */
import { viewOf } from './json-digits.js';
import type { JsonSink } from './json-number.js';

export const WORD_BYTES = 4;

const encoder = new TextEncoder();

/** A key's `,"key":` bytes as written by {@link putKey}. */
export interface KeyBytes {
  readonly key: string;
  /** `,"key":` as little-endian 32-bit words (the last one padded), and its length in bytes. */
  readonly words: Int32Array;
  readonly size: number;
}

/** `,"key":` encoded once, for {@link putKey}. */
export function keyBytes(key: string): KeyBytes {
  const bytes = encoder.encode(',' + JSON.stringify(key) + ':');
  const words = new Int32Array(Math.ceil(bytes.length / WORD_BYTES));
  new Uint8Array(words.buffer).set(bytes);
  // The words' bytes in memory order are the text's when read back little-endian (as they are written).
  const view = new DataView(words.buffer);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * WORD_BYTES, true);
  return { key, words, size: bytes.length };
}

/** Appends `,"key":` (the words of {@link keyBytes}, as json.ts's `writeKey` writes them). */
export function putKey(out: JsonSink, k: KeyBytes): void {
  const words = k.words;
  out.reserve(words.length * WORD_BYTES);
  const at = out.length;
  const view = viewOf(out.bytes);
  for (let i = 0; i < words.length; i++) view.setInt32(at + i * WORD_BYTES, words[i], true);
  out.length = at + k.size;
}
