import { fileURLToPath } from 'node:url';
import { shark } from '@ca-shark/decoder';
import { describe, expect, it } from 'vitest';
import {
  SUMMARY_MAX,
  type SummaryCommand,
  type ValueFormat,
  dbrTypeName,
  ecaStatus,
  formatAccessRights,
  formatAlarm,
  formatValue,
  isFloat32Type,
  summarizeFields,
  valueFormatOf,
} from './summary.js';

/**
 * summarizeFields as it was before it was made to build its line in place (session 6, issue 12): the
 * reference the faster one must match character for character.
 */
const HIDDEN = new Set([
  'name',
  'id',
  'data',
  'metadata',
  'pv',
  'payload',
  'header',
  'payload_size',
  'raw',
  'data_type_name',
  'status_name',
  'severity',
  'address_raw',
  'hex',
]);

function referenceFieldText(key: string, v: unknown): string {
  if (key === 'status') {
    const eca = ecaStatus(v);
    return eca ? eca.name : String(v);
  }
  if (key === 'access_rights') return formatAccessRights(v);
  if (key === 'data_type') return dbrTypeName(v);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string') return o.name;
    if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
    return JSON.stringify(v);
  }
  return String(v);
}

function referenceSummary(command: SummaryCommand, max = SUMMARY_MAX, channel?: ValueFormat): string {
  const fields = command as Readonly<Record<string, unknown>>;
  const parts: string[] = [];
  let labelled = false;
  if (fields.data !== undefined && fields.data !== null) {
    const format: ValueFormat = {
      float32: isFloat32Type(fields.data_type),
      ...channel,
      ...valueFormatOf(fields.metadata),
      maxElements: 5,
    };
    // The value then reads as its state strings: the decoder's `enum_labels` would only repeat them.
    labelled = format.enumStrings !== undefined;
    parts.push(formatValue(fields.data, format));
    // An alarm is worth a glance; a clear one is not.
    const alarm = formatAlarm(fields.metadata);
    if (alarm !== '' && alarm !== 'NO_ALARM') parts.push(`[${alarm}]`);
  }
  let length = parts.reduce((n, p) => n + p.length + 1, 0);
  for (const k of Object.keys(fields)) {
    // Past the cut nothing more shows: a command with many fields costs no more than a short one.
    if (length - 1 > max) break;
    const v = fields[k];
    if (HIDDEN.has(k) || v === undefined || v === null || (labelled && k === 'enum_labels')) continue;
    if (k === 'status' && ecaStatus(v)?.ok) continue;
    const part =
      k === 'status' && typeof fields.status_name === 'string'
        ? `status=${fields.status_name.replace(/^ECA_/, '')}`
        : `${k}=${referenceFieldText(k, v)}`;
    parts.push(part);
    length += part.length + 1;
  }
  const text = parts.join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const FIXTURES = [
  'decoder/fixtures/libca-sim.pcap',
  'packet/fixtures/catest.pcap',
  'packet/fixtures/ca_arrays.pcapng',
  'packet/fixtures/ca_monitor.pcapng',
  'packet/fixtures/cabeacon.cap',
];

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random command: values of every kind, metadata with and without alarms and display, statuses. */
function randomCommand(r: () => number): SummaryCommand {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const fields: Record<string, unknown> = {
    name: pick(['EventAddResponse', 'ReadNotifyResponse', 'WriteRequest', 'Error']),
  };
  if (r() < 0.8) {
    const n = pick([0, 1, 1, 1, 3, 8, 40]);
    const kind = pick(['f64', 'f32', 'int', 'str', 'arr']);
    fields.data =
      kind === 'f64'
        ? Float64Array.from({ length: n }, () => (r() - 0.5) * 10 ** Math.floor(r() * 12))
        : kind === 'f32'
          ? Float32Array.from({ length: n }, () => (r() - 0.5) * 1000)
          : kind === 'int'
            ? Int32Array.from({ length: n }, () => Math.floor(r() * 10))
            : kind === 'str'
              ? Array.from({ length: Math.max(1, n) }, () => pick(['', 'on', 'a "quoted" one', 'x'.repeat(200)]))
              : Array.from({ length: n }, () => Math.floor(r() * 5));
    fields.data_type = pick([6, 2, 34, 'TIME_DOUBLE', 'DBR_CTRL_ENUM', 'CTRL_FLOAT']);
    fields.data_count = n;
  }
  if (r() < 0.6)
    fields.metadata = {
      status: pick([0, 3, 17]),
      severity: pick([0, 0, 1, 2, 3]),
      ...(r() < 0.3 ? { precision: Math.floor(r() * 6) } : {}),
      ...(r() < 0.3 ? { units: pick(['', 'V', 'mA']) } : {}),
      ...(r() < 0.2 ? { enum_strings: ['Off', 'On', ''] } : {}),
    };
  if (r() < 0.5) fields.status = pick([1, 152, 0, 'ECA_NORMAL', 'GETFAIL', Number.NaN]);
  if (r() < 0.2) fields.status_name = pick(['ECA_GETFAIL', 'NORMAL']);
  if (r() < 0.4) fields.ioid = Math.floor(r() * 1000);
  if (r() < 0.2) fields.access_rights = pick([0, 1, 3, { read: true, write: false }]);
  if (r() < 0.2) fields.enum_labels = ['a', 'b'];
  if (r() < 0.1) fields.raw_bytes = Uint8Array.from([1, 2, 254]);
  if (r() < 0.1) fields.nested = { x: 1 };
  if (r() < 0.1) fields.pv = 'sim:pv';
  if (r() < 0.1) fields.subscriptionid = undefined;
  if (r() < 0.1) fields.cid = null;
  for (let i = 0; r() < 0.3 && i < 12; i++) fields[`extra${i}`] = 'y'.repeat(Math.floor(r() * 30));
  return fields;
}

const CHANNELS: (ValueFormat | undefined)[] = [
  undefined,
  { precision: 2, units: 'mm' },
  { enumStrings: ['Closed', 'Open'] },
  { float32: true },
  { maxElements: 2, units: '' },
];

describe('summarizeFields matches its reference', () => {
  it('on every message of the shared fixtures, with and without a channel display', async () => {
    let n = 0;
    for (const name of FIXTURES) {
      const file = fileURLToPath(new URL(`../../${name}`, import.meta.url));
      for await (const r of shark(file)) {
        for (const channel of CHANNELS) {
          expect(summarizeFields(r.command, undefined, channel)).toBe(referenceSummary(r.command, undefined, channel));
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('on 20,000 random commands, at several cut lengths', () => {
    const r = random(12);
    for (let i = 0; i < 20_000; i++) {
      const command = randomCommand(r);
      const channel = CHANNELS[i % CHANNELS.length];
      const max = [SUMMARY_MAX, 0, 1, 12, 40][i % 5];
      expect(summarizeFields(command, max, channel), JSON.stringify(command)).toBe(
        referenceSummary(command, max, channel),
      );
    }
  });
});

// Referenced so the reference keeps the same imports as the module (valueFormatOf, formatAlarm...).
void [formatAlarm, formatValue, isFloat32Type, valueFormatOf];
