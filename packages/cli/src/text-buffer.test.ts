import { describe, expect, it } from 'vitest';
import { asString, decimalDigits, encoded, TextBuffer } from './text-buffer.js';

describe('TextBuffer', () => {
  it('writes ASCII, non-ASCII and long text as UTF-8, growing as needed', () => {
    const out = new TextBuffer(4);
    const long = 'x'.repeat(100) + 'é';
    out.text('ab');
    out.text('ça');
    out.text(long);
    out.text('€'.repeat(60));
    expect(out.toString()).toBe('abça' + long + '€'.repeat(60));
    expect(out.length).toBe(Buffer.byteLength(out.toString()));
  });

  it('writes integers as String() does, and fixed-width digits', () => {
    const out = new TextBuffer(1);
    for (const v of [0, -0, 7, 10, 99, 100, -12345, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER]) {
      out.length = 0;
      out.int(v);
      expect(out.toString()).toBe(String(v));
    }
    out.length = 0;
    out.digits(42, 5);
    out.byte(0x2c);
    out.digits(123456, 3);
    out.spaces(2);
    out.spaces(-1);
    expect(out.toString()).toBe('00042,456  ');
  });

  it('copies encoded constants, short ones and long ones, growing as needed', () => {
    const out = new TextBuffer(2);
    const short = encoded('pv=');
    const long = encoded('é'.repeat(40) + 'x'.repeat(30));
    expect(short).toBeInstanceOf(Uint8Array);
    out.raw(short);
    out.raw(long);
    expect(out.toString()).toBe('pv=' + 'é'.repeat(40) + 'x'.repeat(30));
  });

  it('copies a view of another buffer with one set(), short or long, growing as needed', () => {
    const out = new TextBuffer(1);
    const other = new TextBuffer(8);
    other.text('1.5 a:1->b:2 ');
    out.copy(other.bytes.subarray(0, other.length));
    out.copy(new Uint8Array(0));
    out.copy(encoded('z'.repeat(100)));
    out.copy(other.bytes.subarray(4, 7));
    expect(out.toString()).toBe('1.5 a:1->b:2 ' + 'z'.repeat(100) + 'a:1');
  });

  it('counts decimal digits', () => {
    for (const v of [0, 9, 10, 9999, 10000, 123456789, 1e15]) expect(decimalDigits(v)).toBe(String(v).length);
  });

  it('gives a nested asString its own buffer', () => {
    const text = asString((out) => {
      out.text('outer(');
      out.text(asString((inner) => inner.text('inner')));
      out.text(')');
    });
    expect(text).toBe('outer(inner)');
  });
});
