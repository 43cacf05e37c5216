import { describe, expect, it } from 'vitest';
import { pyArray, pyFloat, pyRepr, pyStr, pyString, writePyFloat, writePyString } from './pyrepr.js';
import { TextBuffer, asString } from './text-buffer.js';

describe('pyFloat (Python repr of a float)', () => {
  it.each([
    [1550679069.309346, '1550679069.309346'],
    [1550679069.3, '1550679069.3'],
    [1550679069, '1550679069.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [3, '3.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [1234567890123456.7, '1234567890123456.8'],
    [-2.5, '-2.5'],
    [Number.NaN, 'nan'],
    [Infinity, 'inf'],
  ])('%s → %s', (x, text) => {
    expect(pyFloat(x)).toBe(text);
  });
});

describe('pyString / pyRepr / pyStr', () => {
  it('quotes like Python', () => {
    expect(pyString('rpi:color')).toBe("'rpi:color'");
    expect(pyString("it's")).toBe('"it\'s"');
    expect(pyString('a\'b"c')).toBe("'a\\'b\"c'");
    expect(pyString('tab\there\n\x01')).toBe("'tab\\there\\n\\x01'");
  });

  it('renders lists, None, booleans, dicts and bytes', () => {
    expect(pyRepr(['000000'])).toBe("['000000']");
    expect(pyRepr([1, 2.5])).toBe('[1, 2.5]');
    expect(pyRepr([1, 2], { floats: true })).toBe('[1.0, 2.0]');
    expect(pyRepr(null)).toBe('None');
    expect(pyRepr(true)).toBe('True');
    expect(pyRepr({ a: 1, b: 'x', c: undefined })).toBe("{'a': 1, 'b': 'x'}");
    expect(pyRepr(new Uint8Array([0x41, 0, 0x27]))).toBe("b'A\\x00\\''");
    expect(pyStr('bare')).toBe('bare');
    expect(pyStr(null)).toBe('None');
  });

  it('summarises arrays over 1000 items like numpy', () => {
    const big = Array.from({ length: 1001 }, (_, i) => i);
    expect(pyRepr(big)).toBe('[0, 1, 2, ..., 998, 999, 1000]');
    expect(pyRepr(big.slice(0, 1000))).toContain(', 500, ');
  });
});

describe('pyFloat at the edges of plain notation (expected strings printed by CPython 3.11 repr)', () => {
  it('switches to exponents below 1e-4 and from 1e16, and adds .0 to integral values', () => {
    expect(
      [
        1e-4,
        0.00012345,
        1.5,
        3.0,
        1e15,
        9999999999999998.0,
        1e16,
        123456789.123,
        0.1 + 0.2,
        -2.5e-5,
        1550523551.051435,
      ].map(pyFloat),
    ).toEqual([
      '0.0001',
      '0.00012345',
      '1.5',
      '3.0',
      '1000000000000000.0',
      '9999999999999998.0',
      '1e+16',
      '123456789.123',
      '0.30000000000000004',
      '-2.5e-05',
      '1550523551.051435',
    ]);
  });
});

/** Python's repr of a float computed the long way (JavaScript's shortest digits, re-laid as Python does). */
function referenceFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16)
    out =
      digits[0] +
      (digits.length > 1 ? '.' + digits.slice(1) : '') +
      'e' +
      (exp < 0 ? '-' : '+') +
      String(Math.abs(exp)).padStart(2, '0');
  else if (exp < 0) out = '0.' + '0'.repeat(-exp - 1) + digits;
  else if (digits.length <= exp + 1) out = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
  else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return x < 0 ? '-' + out : out;
}

describe('pyFloat fast path for few decimals', () => {
  it('gives the shortest repr for readings with up to 3 decimals and times with up to 6, and everything else', () => {
    // A fixed linear congruential sequence: the same values on every run.
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const values: number[] = [
      1796515690.238571,
      3999999999.999999,
      4e9 + 0.5,
      999999999999.999,
      1e12 + 0.001,
      0.001,
      0.00009,
      1e-6,
    ];
    for (let i = 0; i < 50_000; i++) {
      const k = Math.floor((next() - 0.5) * 2e6 * 10 ** Math.floor(next() * 12));
      values.push(
        k / 1000,
        k / 1e6,
        k / 1e9,
        Math.fround(k / 1000),
        1.5e9 + Math.floor(next() * 1e12) / 1e6,
        next() * 4.3e9,
        k / 1000 + 1e-9,
      );
    }
    const wrong = values.filter((x) => pyFloat(x) !== referenceFloat(x)).map((x) => [x, pyFloat(x), referenceFloat(x)]);
    expect(wrong).toEqual([]);
  });
});

describe('arrays: number[] and typed arrays print alike', () => {
  it('formats typed arrays as lists, floats or integers', () => {
    expect(pyArray(new Float64Array([1, 2.5, -0.125]), true)).toBe('[1.0, 2.5, -0.125]');
    expect(pyArray([1, 2.5, -0.125], true)).toBe('[1.0, 2.5, -0.125]');
    expect(pyArray(new Float32Array([0.1]), true)).toBe('[0.10000000149011612]');
    expect(pyArray(new Int16Array([-1, 2]), false)).toBe('[-1, 2]');
    expect(pyArray(new Uint8Array([65, 0]), false)).toBe('[65, 0]');
    expect(pyArray(new Float64Array(0), true)).toBe('[]');
  });

  it('summarises a 30,000-element waveform from its six printed items', () => {
    const wave = new Float64Array(30_000).map((_, i) => i / 4);
    expect(pyArray(wave, true)).toBe('[0.0, 0.25, 0.5, ..., 7499.25, 7499.5, 7499.75]');
    expect(pyArray(Array.from(wave), true)).toBe(pyArray(wave, true));
  });
});

describe('writePyFloat / writePyString give pyFloat’s / pyString’s text', () => {
  it('on capture times, readings, edge values and texts', () => {
    let state = 7;
    const random = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const values = [0, -0, 1e-4, 9.9999e-5, 0.5, 3, -2.5, 4e9, 3999999999.999999, 1e16, Number.NaN, -Infinity];
    for (let i = 0; i < 5000; i++) {
      values.push(1.7e9 + Math.round(random() * 1e12) / 1e6, Math.round((random() - 0.5) * 1e7) / 1e3, random() * 100);
    }
    for (const x of values)
      expect(
        asString((out) => writePyFloat(out, x)),
        String(x),
      ).toBe(pyFloat(x));
    for (const s of ['sim:wave30000_0', "it's", 'tab\there', 'ünï', '', 'back\\slash'])
      expect(asString((out) => writePyString(out, s))).toBe(pyString(s));
  });

  it('after other text, with the character to escape anywhere (the copy so far is not kept)', () => {
    for (const s of ['sim:pv1\n', 'x'.repeat(100) + "'", 'é' + 'y'.repeat(70), 'a'.repeat(200), 'pv\x7f', 'ok']) {
      const out = new TextBuffer(4);
      out.text('pv=');
      writePyString(out, s);
      out.text(', next');
      expect(out.toString()).toBe(`pv=${pyString(s)}, next`);
    }
  });
});
