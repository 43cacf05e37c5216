import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { bytesToHex, recordToJSON, recordToPlain, writeRecordJSON } from './json.js';
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

  it("copies a packet's fields to every byte alignment of a shared-memory sink, and after a longer packet", () => {
    // The packet fields' bytes are kept once per alignment (json.ts's packetBytes): records of one packet
    // written after texts of every length land at every offset modulo 8, into shared memory as the CLI's
    // batches are, and a packet whose fields outgrow the room per alignment comes between.
    const sink = new JsonBuffer(0);
    sink.bytes = new Uint8Array(new SharedArrayBuffer(1 << 16));
    const expected: string[] = [];
    const packetOf = (frame: number, src: string) => ({
      frame,
      timestamp: 1796676914.902262 + frame,
      interfaceId: 0,
      src,
      dst: '127.0.0.1',
      ethernet: { type: 'ethernet', linktype: 1 },
      ip: { version: 4, ttl: 64, src, dst: '127.0.0.1' },
      transport: { protocol: 'tcp', sport: 5064, dport: 40000 + frame },
    });
    for (const [frame, src] of [
      [1, '127.0.0.1'],
      [2, 'x'.repeat(3000)],
      [3, '10.0.0.2'],
    ] as const) {
      const packet = packetOf(frame, src);
      for (let shift = 0; shift < 9; shift++) {
        const record = { ...packet, command: { name: 'EventAddResponse', id: shift }, pv: 'pv', size: 24 };
        sink.text('x'.repeat(shift));
        writeRecordJSON(sink, record);
        sink.text('\n');
        expected.push('x'.repeat(shift) + JSON.stringify(record) + '\n');
      }
    }
    expect(Buffer.from(sink.bytes.subarray(0, sink.length)).toString()).toBe(expected.join(''));
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
