import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { dbrTypeName, ecaName, ecaSeverity } from '@ca-shark/protocol';
import { bytesToHex, recordToJSON, recordToPlain, writeJsonLayout, writeRecordJSON } from './json.js';
import { JsonBuffer, writeNumbers } from './json-number.js';

describe('recordToJSON', () => {
  it('writes byte arrays (Uint8Array and Buffer) as hex strings at any depth', () => {
    const record = {
      frame: 1,
      ip: { options: new Uint8Array([0x01, 0xab]) },
      raw: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      command: { name: 'Malformed', sample: new Uint8Array([0, 255]) },
    };
    expect(JSON.parse(recordToJSON(record))).toEqual({
      frame: 1,
      ip: { options: '01ab' },
      raw: 'deadbeef',
      command: { name: 'Malformed', sample: '00ff' },
    });
  });

  it('leaves out undefined, turns non-finite numbers into null and bigints into numbers or strings', () => {
    const text = recordToJSON({ a: undefined, b: Number.NaN, c: Infinity, d: 5n, e: 2n ** 64n });
    expect(JSON.parse(text)).toEqual({ b: null, c: null, d: 5, e: '18446744073709551616' });
  });

  it('writes decoded DBR waveforms (typed arrays, a CHAR one too) as plain arrays, and raw bytes still as hex', () => {
    const record = {
      raw: new Uint8Array([0xca, 0xfe]),
      command: { name: 'EventAddResponse', data: new Float64Array([1.5, -2, 1e-7]) },
      request: { command: { data: new Uint8Array([104, 105]) } },
      more: [
        { data: new Int16Array([-1, 2]) },
        { data: new Float32Array([0.1]) },
        { data: new Uint16Array([7]) },
        { data: new Int32Array([-3]) },
      ],
    };
    expect(JSON.parse(recordToJSON(record))).toEqual({
      raw: 'cafe',
      command: { name: 'EventAddResponse', data: [1.5, -2, 1e-7] },
      request: { command: { data: [104, 105] } },
      more: [{ data: [-1, 2] }, { data: [Math.fround(0.1)] }, { data: [7] }, { data: [-3] }],
    });
  });

  it('is one line', () => {
    expect(recordToJSON({ s: 'a\nb' })).not.toContain('\n');
  });

  it('gives plain values', () => {
    expect(recordToPlain({ x: new Uint8Array([1]) })).toEqual({ x: '01' });
  });

  it('hex-encodes every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(bytesToHex(all)).toBe(Buffer.from(all).toString('hex'));
  });
});

describe('recordToJSON with typed arrays', () => {
  it('writes numeric typed arrays as number arrays, identical to the same values in a plain array', () => {
    const plain = { command: { name: 'EventAddResponse', data: [1.5, -2, Number.NaN] } };
    const typed = { command: { name: 'EventAddResponse', data: new Float64Array([1.5, -2, Number.NaN]) } };
    expect(recordToJSON(typed)).toBe(recordToJSON(plain));
    expect(recordToJSON({ data: new Int16Array([-1, 7]) })).toBe('{"data":[-1,7]}');
    expect(recordToJSON({ data: new Float32Array([0.5]), n: Number.POSITIVE_INFINITY })).toBe(
      '{"data":[0.5],"n":null}',
    );
  });
});

describe('recordToJSON on decoded records', () => {
  const fixture = new URL('../../decoder/fixtures/libca-sim.pcap', import.meta.url);

  it('writes every record of a capture exactly as JSON.stringify would, packet parts shared or not', async () => {
    const { shark } = await import('@ca-shark/decoder');
    let records = 0;
    let sharedPackets = 0;
    let previous: { ip: unknown } | null = null;
    for await (const record of shark(fileURLToPath(fixture))) {
      records++;
      if (previous !== null && previous.ip === record.ip) sharedPackets++;
      previous = record;
      const data = record.command.name === 'Malformed' ? undefined : (record.command as { data?: unknown }).data;
      // The reference: the record itself, with a waveform as the plain array it stands for.
      const reference = ArrayBuffer.isView(data)
        ? { ...record, command: { ...record.command, data: Array.from(data as Float64Array) } }
        : record;
      expect(recordToJSON(record)).toBe(JSON.stringify(reference));
    }
    expect(records).toBeGreaterThan(50);
    // The cache of packet parts was exercised (several messages in one packet).
    expect(sharedPackets).toBeGreaterThan(0);
  });

  it('writes the packet parts again when the same objects come with another frame', () => {
    const ip = { version: 4, ttl: 64 };
    const record = (frame: number) => ({
      frame,
      timestamp: 1.5,
      interfaceId: 0,
      src: 'a',
      dst: 'b',
      ethernet: { type: 'ethernet' },
      ip,
      transport: { protocol: 'udp', sport: 1, dport: 2 },
      command: { name: 'EventsOnRequest', id: 9 },
      pv: null,
      size: 16,
    });
    expect(JSON.parse(recordToJSON(record(1)))).toMatchObject({ frame: 1, ip: { ttl: 64 } });
    ip.ttl = 3;
    expect(JSON.parse(recordToJSON(record(2)))).toMatchObject({ frame: 2, ip: { ttl: 3 } });
  });

  it('writes records in any key order, with and without the packet fields', () => {
    const a = { command: { name: 'X' }, frame: 1, timestamp: 2.5 };
    expect(recordToJSON(a)).toBe(JSON.stringify(a));
    const b = { frame: 1, timestamp: 2.5, interfaceId: 0, src: 's', dst: 'd', ethernet: {}, ip: {}, transport: {} };
    expect(recordToJSON(b)).toBe(JSON.stringify(b));
    const c = { ...b, src: 'quote " and \u2028 and \ud800', x: [1, 'two', null, undefined, () => 1] };
    expect(recordToJSON(c)).toBe(JSON.stringify(c));
  });

  it('writes keys of every length and kind, in shifting orders, past the bounds of its key tree', () => {
    // Keys of 0-9 characters (their `,"key":` 4-13 bytes, written in 4-byte words), escaped and non-ASCII
    // ones; the same keys in many orders and thousands of distinct ones (the tree is emptied and refilled).
    const names = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'q"uote', 'back\\slash', 'new\nline', 'é', '\u2028', 'ключ'];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 800; round++) {
      const object: Record<string, unknown> = {};
      const count = 1 + Math.floor(next() * 20);
      for (let k = 0; k < count; k++) {
        const name = next() < 0.5 ? names[Math.floor(next() * names.length)] : `k${Math.floor(next() * 5000)}`;
        object[name] = next() < 0.3 ? { [name]: k, inner: [k, { [name + 'x']: 'v' }] } : k;
      }
      expect(recordToJSON(object)).toBe(JSON.stringify(object));
      expect(recordToJSON({ wrapped: object, after: 1 })).toBe(JSON.stringify({ wrapped: object, after: 1 }));
    }
    // One key followed by many different ones (past the followers kept per key).
    for (let k = 0; k < 40; k++) {
      const object = { first: 1, [`second${k}`]: 2, third: 3 };
      expect(recordToJSON(object)).toBe(JSON.stringify(object));
    }
  });

  it('writes waveforms of alternating lengths and types from its reused arrays', () => {
    for (const data of [new Float64Array([0.1, 2]), new Int16Array([1, 2, 3]), new Float64Array([1e21, -0, NaN])]) {
      expect(recordToJSON({ command: { data } })).toBe(JSON.stringify({ command: { data: Array.from(data) } }));
    }
  });
});

describe('recordToJSON with long waveforms', () => {
  it('writes a waveform longer than the reused arrays, twice, the same way', () => {
    const data = Float64Array.from({ length: (1 << 16) + 3 }, (_, i) => i / 7);
    const expected = JSON.stringify({ command: { data: Array.from(data) } });
    expect(recordToJSON({ command: { data } })).toBe(expected);
    expect(recordToJSON({ command: { data } })).toBe(expected);
  });
});

describe('writeRecordJSON into a sink that defers arrays of numbers', () => {
  /** Takes every array of numbers offered, leaving a hole, then fills the holes as a second thread would. */
  class Deferring extends JsonBuffer {
    readonly holes: { at: number; items: Float64Array }[] = [];
    deferNumbers(items: ArrayLike<number>): boolean {
      this.holes.push({ at: this.length, items: Float64Array.from(items) });
      return true;
    }
    filled(): string {
      const text = this.toString();
      let out = '';
      let from = 0;
      for (const h of this.holes) {
        const digits = new JsonBuffer();
        writeNumbers(digits, h.items);
        out += text.slice(from, h.at) + digits.toString();
        from = h.at;
      }
      return out + text.slice(from);
    }
  }

  it('offers typed waveforms and plain arrays of numbers, not arrays with anything else', () => {
    const record = {
      command: { name: 'EventAddResponse', data: [1.5, -0, NaN, 1e-7, 3], more: new Int16Array([-1, 2]) },
      request: { data: new Float32Array([0.1, 2]) },
      labels: ['a', 1],
      mixed: [1, null, 2],
      empty: [],
    };
    const sink = new Deferring();
    writeRecordJSON(sink, record);
    expect(sink.holes.map((h) => Array.from(h.items))).toEqual([[1.5, -0, NaN, 1e-7, 3], [Math.fround(0.1), 2], []]);
    expect(sink.filled()).toBe(recordToJSON(record));
  });
});

describe('writeRecordJSON into a sink that takes command layouts', () => {
  /** Takes layouts and long waveforms as the CLI's batches do, then fills the holes as its worker does. */
  class Layouts extends JsonBuffer {
    layouts = true;
    readonly holes: { at: number; layout: number; values: Float64Array; count: number }[] = [];
    deferNumbers(items: ArrayLike<number>): boolean {
      if (items.length < 16) return false;
      this.holes.push({ at: this.length, layout: -1, values: Float64Array.from(items), count: items.length });
      return true;
    }
    deferLayout(layout: number, numbers: Float64Array, count: number, data: ArrayLike<number> | null): boolean {
      const values = new Float64Array(count + (data?.length ?? 0));
      values.set(numbers.subarray(0, count));
      if (data !== null) values.set(Array.from(data), count);
      this.holes.push({ at: this.length, layout, values, count: data === null ? -1 : data.length });
      return true;
    }
    filled(): string {
      const text = this.toString();
      let out = '';
      let from = 0;
      for (const h of this.holes) {
        const digits = new JsonBuffer();
        if (h.layout < 0) writeNumbers(digits, h.values);
        else expect(writeJsonLayout(digits, h.layout, h.values, 0, h.count)).toBe(h.values.length);
        out += text.slice(from, h.at) + digits.toString();
        from = h.at;
      }
      return out + text.slice(from);
    }
  }

  /** A decoder record (its packet fields first) around `command`. */
  const around = (command: unknown, frame = 1): Record<string, unknown> => ({
    frame,
    timestamp: 1796604493.080762,
    interfaceId: 0,
    src: '127.0.0.1',
    dst: '127.0.0.1',
    ethernet: { type: 'ethernet' },
    ip: { version: 4, src: '127.0.0.1' },
    transport: { protocol: 'tcp', sport: 5064 },
    command,
    pv: 'sim:pv1',
    role: 'response',
    size: 24,
  });

  /** Writes `record` through the sink; whether its command went to a layout, and the filled text. */
  function written(record: Record<string, unknown>): { layout: boolean; text: string } {
    const sink = new Layouts();
    writeRecordJSON(sink, record);
    return { layout: sink.holes.some((h) => h.layout >= 0), text: sink.filled() };
  }

  const typed = { id: 1, data_type: 6, data_type_name: 'DOUBLE', data_count: 1 };
  const status = { status: 1, status_name: 'ECA_NORMAL', severity: 'SUCCESS' };
  /** One command per layout class, its keys in the decoder's order. */
  const classes: Record<string, unknown>[] = [
    { name: 'EventAddResponse', ...typed, ...status, subscriptionid: 3, data: new Float64Array([1.5]) },
    { name: 'ReadNotifyResponse', ...typed, ...status, ioid: 9, data: [37] },
    { name: 'ReadNotifyRequest', ...typed, sid: 7, ioid: 9 },
    { name: 'WriteNotifyRequest', ...typed, sid: 7, ioid: 9, data: [47.949] },
    { name: 'WriteNotifyResponse', ...typed, ...status, ioid: 9 },
    { name: 'WriteRequest', ...typed, sid: 7, ioid: 9, data: new Int16Array([-5]) },
    { name: 'ReadRequest', ...typed, sid: 7, ioid: 9 },
    { name: 'ReadResponse', ...typed, sid: 7, ioid: 9, data: new Float32Array([0.1]) },
    { name: 'EventAddRequest', ...typed, sid: 7, subscriptionid: 3, low: 0, high: 0, to: 0, mask: 5 },
    { name: 'CreateChanResponse', ...typed, cid: 5, sid: 7 },
  ];

  it('writes every layout class as the generic walk does', () => {
    for (const command of classes) {
      const record = around(command);
      expect(written(record)).toEqual({ layout: true, text: recordToJSON(record) });
      expect(JSON.parse(recordToJSON(record))).toEqual(JSON.parse(JSON.stringify(around(plain(command)))));
    }
  });

  it('writes awkward numbers, unknown types and statuses, and payloads of every kind digit for digit', () => {
    const numbers = [0, -0, 7, 1.5, -3, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 2, 1e21, 1e-7, 0.1 + 0.2, NaN, -Infinity];
    const payloads: ArrayLike<number>[] = [
      [],
      [1, 2, 3],
      Array.from({ length: 20 }, (_, i) => i / 3),
      new Float32Array([0.1, -2.5, 3e38]),
      new Int16Array([-32768, 0, 32767]),
      new Uint8Array([0, 255]),
      new Uint16Array([65535]),
      new Int32Array([-(2 ** 31)]),
      Float64Array.from({ length: 1200 }, (_, i) => Math.sin(i) * 10 ** ((i % 13) - 5)),
      [NaN, -0, 1e-7, 5e-324],
    ];
    let layouts = 0;
    for (const base of classes) {
      for (const key of Object.keys(base)) {
        const variants: unknown[] =
          key === 'name'
            ? []
            : key === 'data'
              ? payloads
              : key === 'data_type_name' || key === 'status_name' || key === 'severity'
                ? []
                : numbers;
        for (const v of variants) {
          const command: Record<string, unknown> = { ...base, [key]: v };
          // The names derived from a changed type or status, as the decoder derives them.
          if (key === 'data_type') command['data_type_name'] = dbrTypeName(v as number) ?? String(v);
          if (key === 'status' && 'status_name' in command) {
            command['status_name'] = ecaName(v as number);
            command['severity'] = ecaSeverity(v as number);
          }
          const record = around(command);
          const out = written(record);
          if (out.layout) layouts++;
          expect(out.text).toBe(recordToJSON(record));
        }
      }
    }
    expect(layouts).toBeGreaterThan(300);
  });

  it('leaves to the generic walk what the layout cannot write from numbers, and writes fields after the layout', () => {
    const base = classes[0];
    const cases: [Record<string, unknown>, boolean][] = [
      [{ ...base, data_type_name: 'FLOAT' }, false],
      [{ ...base, status_name: 'ECA_GETFAIL' }, false],
      [{ ...base, severity: 'ERROR' }, false],
      [{ ...base, id: '1' }, false],
      [{ ...base, id: 1n }, false],
      [{ ...base, subscriptionid: undefined }, false],
      [{ ...base, data: ['a'] }, false],
      [{ ...base, data: [1, null] }, false],
      [{ ...base, data: new BigInt64Array([1n]) }, false],
      [{ ...base, data: undefined }, false],
      [{ ...base, data: 'x' }, false],
      [{ ...base, name: 'EventAddRequest' }, false],
      [{ ...base, name: 'Unknown' }, false],
      [{ name: base.name, data: base.data, ...typed, ...status, subscriptionid: 3 }, false],
      [{ name: base.name, ...typed, ...status, subscriptionid: 3 }, false],
      [{ ...base, failed: true }, true],
      [{ ...base, metadata: { status: 0, statusName: 'NO_ALARM', timestamp: 1796604493.08 } }, true],
      [{ ...base, metadata: null, enum_labels: ['a', 'b"'], truncated: true, extended: true }, true],
      [{ ...base, metadata: undefined }, true],
      [{ ...base, metadata: undefined, truncated: true }, true],
    ];
    for (const [command, layout] of cases) {
      const record = around(command);
      expect(written(record)).toEqual({ layout, text: recordToJSON(record) });
    }
    // Commands that are not plain objects, and a record without the packet fields: never a layout.
    class Command {
      constructor(fields: Record<string, unknown>) {
        Object.assign(this, fields);
      }
    }
    const withToJSON = { ...base, toJSON: () => ({ name: 'replaced' }) };
    const inherited = Object.assign(Object.create({ extra: 'inherited' }) as object, base);
    for (const command of [new Command(base), withToJSON, inherited, [base]]) {
      const record = around(command);
      expect(written(record)).toEqual({ layout: false, text: recordToJSON(record) });
      expect(recordToJSON(record)).toBe(JSON.stringify(around(command)).replace('"data":{"0":1.5}', '"data":[1.5]'));
    }
    const record = { frame: 1, command: { ...base } };
    expect(written(record)).toEqual({ layout: false, text: recordToJSON(record) });
  });

  it('offers nothing while the sink says it takes no layouts', () => {
    const sink = new Layouts();
    sink.layouts = false;
    const record = around(classes[1]);
    writeRecordJSON(sink, record);
    expect(sink.holes).toEqual([]);
    expect(sink.toString()).toBe(recordToJSON(record));
  });
});

/** `command` with its typed arrays as plain arrays (what the JSON form writes). */
function plain(command: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(command)) out[k] = ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v;
  return out;
}
