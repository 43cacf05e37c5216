/**
 * Value conversions between a PV's native element type and the element type a client asks for, the way
 * an IOC's dbConvert does it: numbers to strings with the PV's precision, enum indexes to their state
 * strings, strings parsed back to numbers or enum states.
 */
import { dbrNativeType, dbrTypeName } from '@ca-shark/protocol';
import type { NativeType, Pv } from './pvs.js';

/** Element values as the encoder takes them: numbers, or strings for STRING-kind types. */
export type Elements = number[] | string[];

const NATIVE_NAMES: ReadonlySet<string> = new Set(['STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE']);

/** Native element type of a DBR type id (0..34), or `undefined` for 35..38 and invalid ids. */
export function nativeTypeOf(dbrType: number): NativeType | undefined {
  const native = dbrNativeType(dbrType);
  if (native === undefined) return undefined;
  const name = dbrTypeName(native);
  return name !== undefined && NATIVE_NAMES.has(name) ? (name as NativeType) : undefined;
}

/** One PV element rendered as a DBR_STRING, like dbConvert (precision for floats, state names for enums). */
export function elementToString(pv: Pv, v: number | string): string {
  if (typeof v === 'string') return v;
  if (pv.type === 'ENUM') return pv.enumStrings[v] ?? String(v);
  if (pv.type === 'DOUBLE' || pv.type === 'FLOAT') {
    if (!Number.isFinite(v)) return String(v);
    return pv.precision > 0 ? v.toFixed(Math.min(pv.precision, 17)) : String(v);
  }
  return String(v);
}

/**
 * The first `count` elements of a PV converted to the element type `target`. Elements beyond the PV's
 * current length are zero (or empty strings), as an IOC zero-fills a fixed count past the data.
 */
export function readElements(pv: Pv, target: NativeType, count: number): Elements {
  const src = pv.value;
  const available = Math.min(count, src.length);
  if (target === 'STRING') {
    const out: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = i < available ? elementToString(pv, src[i] as number | string) : '';
    return out;
  }
  const out: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    if (i >= available) {
      out[i] = 0;
      continue;
    }
    const v = src[i] as number | string;
    out[i] = typeof v === 'number' ? v : (parseNumber(v) ?? 0);
  }
  return out;
}

/**
 * Client values of element type `source` converted to what the PV stores (numbers, or strings for a
 * STRING PV). `undefined` when a value cannot be converted (a string that is no number or enum state):
 * the server answers ECA_PUTFAIL.
 */
export function writeElements(pv: Pv, source: NativeType, values: Elements): Elements | undefined {
  if (pv.type === 'STRING') {
    return (values as (number | string)[]).map((v) => (typeof v === 'string' ? v : formatNumber(source, v)));
  }
  const out: number[] = [];
  for (const v of values as (number | string)[]) {
    if (typeof v === 'number') {
      out.push(v);
      continue;
    }
    const n = pv.type === 'ENUM' ? parseEnum(pv, v) : parseNumber(v);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function formatNumber(source: NativeType, v: number): string {
  return source === 'FLOAT' || source === 'DOUBLE' ? String(v) : String(Math.trunc(v));
}

/** A decimal or hex number with optional surrounding blanks; `undefined` for anything else. */
function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (t.length === 0) return undefined;
  const n = Number(t);
  return Number.isNaN(n) && t !== 'NaN' ? undefined : n;
}

function parseEnum(pv: Pv, s: string): number | undefined {
  const t = s.trim();
  const index = pv.enumStrings.indexOf(t);
  if (index >= 0) return index;
  const n = parseNumber(t);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}
