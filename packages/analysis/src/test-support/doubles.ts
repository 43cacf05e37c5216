/**
 * Doubles for the tests of the JSON number writers (json-number.ts, json-digits.ts): generated from a
 * seed, so that a failure can be run again, and checked against `JSON.stringify`.
 */

/** A deterministic generator of numbers in [0, 1) (xorshift32). */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** `count` numbers made by `make` from the generator seeded with `seed`. */
export function* generated(count: number, make: (r: () => number) => number, seed = 1): Generator<number> {
  const r = random(seed);
  for (let i = 0; i < count; i++) yield make(r);
}

/**
 * The doubles of `xs` and their negatives that `write` writes otherwise than `JSON.stringify`, as
 * [value, written, expected]; at most 5.
 */
export function mismatches(xs: Iterable<number>, write: (x: number) => string): [number, string, string][] {
  const bad: [number, string, string][] = [];
  for (const x of xs) {
    for (const v of [x, -x]) {
      const written = write(v);
      const expected = JSON.stringify(v);
      if (written !== expected && bad.length < 5) bad.push([v, written, expected]);
    }
  }
  return bad;
}
