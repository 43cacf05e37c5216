import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDecoder } from './decoder.js';
import type { CaRecord } from './record.js';
import { PcapBuilder, TcpConn } from './test-support/pcap.js';
import { CLIENT, SERVER, T0, workedExample } from './test-support/scenario.js';

function run(bytes: Uint8Array): CaRecord[] {
  const out: CaRecord[] = [];
  const d = createDecoder({ onRecord: (r) => out.push(r), maxMessageSize: 1 << 16 });
  d.pushCapture(bytes);
  d.end();
  return out;
}

const chunks = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 12 });

describe('fuzz: never throws, never hangs', () => {
  it('random TCP streams in both directions to the CA port', () => {
    fc.assert(
      fc.property(chunks, chunks, fc.boolean(), (a, b, handshake) => {
        const cap = new PcapBuilder();
        const c = new TcpConn(cap, CLIENT, 45000, SERVER, 5064);
        if (handshake) c.open(T0);
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
          if (a[i]?.length) c.send(T0 + i, true, a[i]);
          if (b[i]?.length) c.send(T0 + i + 0.5, false, b[i]);
        }
        const records = run(cap.bytes());
        const total = [...a, ...b].reduce((n, x) => n + x.length, 0);
        // Every record covers at least one byte (a message ≥ 16, a fault ≥ 1).
        expect(records.length).toBeLessThanOrEqual(total);
      }),
      { numRuns: 300 },
    );
  });

  it('random TCP streams on an unknown port produce no CA records unless they open like CA', () => {
    fc.assert(
      fc.property(chunks, (a) => {
        const cap = new PcapBuilder();
        const c = new TcpConn(cap, CLIENT, 45000, SERVER, 7000).open(T0);
        a.forEach((x, i) => x.length && c.send(T0 + i, true, x));
        const records = run(cap.bytes());
        const first = a.find((x) => x.length > 0);
        // A random first byte pair is almost never command 0..27: then the flow must stay silent.
        if (first && first.length >= 2 && ((first[0] << 8) | first[1]) > 27) expect(records).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('random UDP datagrams to the server and repeater ports', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(5064, 5065), fc.uint8Array({ maxLength: 200 })), { maxLength: 20 }), (dgs) => {
        const cap = new PcapBuilder();
        dgs.forEach(([port, p], i) => cap.udp(T0 + i, CLIENT, 40000, SERVER, port, p));
        const records = run(cap.bytes());
        for (const r of records) expect(r.transport.protocol).toBe('udp');
      }),
      { numRuns: 300 },
    );
  });

  it('mutated real conversations', () => {
    const base = workedExample().bytes();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        (mutations) => {
          const bytes = base.slice();
          for (const [i, v] of mutations) bytes[i] = v;
          run(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('truncated captures', () => {
    const base = workedExample().bytes();
    fc.assert(
      fc.property(fc.nat(base.length), (n) => {
        run(base.subarray(0, n));
      }),
      { numRuns: 200 },
    );
  });
});
