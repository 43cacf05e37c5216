import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketPipeline } from './pipeline.js';
import type { PacketEvent } from './types.js';
import {
  ACK,
  FIN,
  SYN,
  concat,
  ether,
  ipv4,
  nullHdr,
  pcapFile,
  pcapngFile,
  sll,
  sll2,
  tcp,
  text,
  udp,
} from './test-support/build.js';
import { digest } from './test-support/run.js';

/** A hang guard, not a speed check: these CPU-bound runs take several times longer on a loaded machine. */
const FUZZ_TIMEOUT_MS = 60_000;

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))));

/** Run a capture through a pipeline in the given chunk sizes; returns event digests. Must not throw. */
function run(capture: Uint8Array, sizes: number[]): string[] {
  const out: string[] = [];
  const pipeline = new PacketPipeline({
    onEvent: (e: PacketEvent) => {
      out.push(digest(e));
    },
    tcp: { maxBufferPerDirection: 4096, maxFlows: 8 },
    fragments: { maxDatagrams: 4 },
  });
  let at = 0;
  let i = 0;
  while (at < capture.length) {
    const n = sizes.length > 0 ? Math.max(1, sizes[i++ % sizes.length]) : capture.length;
    pipeline.pushCapture(capture.slice(at, at + n));
    at += n;
  }
  pipeline.end();
  const s = pipeline.stats;
  expect(s.frames).toBeGreaterThanOrEqual(s.ipv4 + s.ipv6 + s.nonIp + s.unsupportedLink);
  return out;
}

const payload = text('\x00\x06\x00\x10\x00\x05\x00\x0dsome CA-ish search payload');
const ipUdp = ipv4({ proto: 17, payload: udp(5065, 5064, payload) });
const ipTcp = (seq: number, flags: number, p?: Uint8Array): Uint8Array =>
  ipv4({ proto: 6, payload: tcp({ sport: 1, dport: 5064, seq, flags, payload: p }) });
const frag1 = ipv4({
  proto: 17,
  id: 9,
  flags: 1,
  fragOffset: 0,
  payload: udp(1, 2, new Uint8Array(40)).subarray(0, 24),
});
const frag2 = ipv4({ proto: 17, id: 9, flags: 0, fragOffset: 24, payload: udp(1, 2, new Uint8Array(40)).subarray(24) });
const packets = [ipUdp, ipTcp(0, SYN), ipTcp(1, ACK, payload), ipTcp(1 + payload.length, FIN | ACK), frag2, frag1];

const seeds: Uint8Array[] = [
  pcapFile({
    linktype: 1,
    records: packets.map((p, i) => ({ sec: 100 + i, data: ether(p, i % 2 ? { vlans: [[0x8100, 5]] } : {}) })),
  }),
  pcapFile({ le: false, nanos: true, linktype: 113, records: packets.map((p, i) => ({ sec: 100 + i, data: sll(p) })) }),
  pcapFile({ linktype: 0, records: packets.map((p, i) => ({ sec: 100 + i * 20, data: nullHdr(p, 2, i % 2 === 0) })) }),
  pcapngFile([
    {
      le: false,
      interfaces: [{ linktype: 276, tsresol: 9 }, { linktype: 101, tsresol: 0x80 | 10 }, { linktype: 147 }],
      blocks: [
        ...packets.map((p, i) => ({
          kind: 'epb' as const,
          iface: i % 2,
          ts: BigInt(i) << 30n,
          data: i % 2 ? p : sll2(p),
        })),
        { kind: 'epb', iface: 2, ts: 1n, data: payload },
        { kind: 'spb', data: sll2(ipUdp) },
        { kind: 'raw', type: 0x40000bad, body: payload },
      ],
    },
    { interfaces: [{ linktype: 108 }], blocks: [{ kind: 'pb', iface: 0, ts: 5n, data: nullHdr(ipUdp, 2, false) }] },
  ]),
  fixture('ca_monitor.pcapng'),
  fixture('example_tcp_data.pcap'),
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffffffff }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(base: Uint8Array, ms: Mutation[]): Uint8Array {
  let b: Uint8Array = base.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'set':
        b[at] = m.value;
        break;
      case 'cut':
        b = b.slice(0, at);
        break;
      case 'insert':
        b = concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
      case 'u32':
        // Lengths and counts are 32-bit fields: hit them with wild values.
        if (b.length < 4) break;
        new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(
          Math.min(at, Math.max(0, b.length - 4)) & ~3,
          m.value,
          true,
        );
        break;
    }
  }
  return b;
}

const chunking = fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 });

describe('fuzzing', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('random bytes never throw, whatever the chunking', () => {
    const magic = fc.constantFrom(
      new Uint8Array(0),
      Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1]),
      Uint8Array.from([0xa1, 0xb2, 0x3c, 0x4d]),
      Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a]),
    );
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 2000 }), chunking, (m, body, sizes) => {
        run(concat([m, body]), sizes);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('mutated captures never throw and give the same events however they are chunked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        chunking,
        (s, ms, sizes) => {
          const capture = mutate(seeds[s], ms);
          expect(run(capture, sizes)).toEqual(run(capture, []));
        },
      ),
      { numRuns: 400, seed: 2 },
    );
  });

  it('random frames pushed live never throw on any link type', () => {
    const linktype = fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(linktype, fc.uint8Array({ maxLength: 120 }), fc.double({ min: 0, max: 1e6, noNaN: true })), {
          maxLength: 40,
        }),
        (frames) => {
          const pipeline = new PacketPipeline({ onEvent: () => {} });
          for (const [lt, data, ts] of frames) pipeline.pushFrame(lt, ts, data);
          pipeline.end();
          expect(pipeline.stats.frames).toBe(frames.length);
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it('the unmutated seeds decode without problems where they are well-formed', () => {
    expect(run(seeds[0], []).filter((d) => d.startsWith('problem'))).toEqual([]);
    expect(run(seeds[0], []).some((d) => d.startsWith('udp'))).toBe(true);
  });
});
