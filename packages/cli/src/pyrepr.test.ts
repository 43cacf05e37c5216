import { describe, expect, it } from 'vitest';
import { pyFloat, pyRepr, pyStr, pyString } from './pyrepr.js';

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
    expect([1e-4, 0.00012345, 1.5, 3.0, 1e15, 9999999999999998.0, 1e16, 123456789.123, 0.1 + 0.2, -2.5e-5, 1550523551.051435].map(pyFloat)).toEqual(
      ['0.0001', '0.00012345', '1.5', '3.0', '1000000000000000.0', '9999999999999998.0', '1e+16', '123456789.123', '0.30000000000000004', '-2.5e-05', '1550523551.051435']);
  });
});
