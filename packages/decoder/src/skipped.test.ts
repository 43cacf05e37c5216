import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketPipeline, PcapWriter, TcpConversation } from '@ca-shark/packet';
import { createDecoder } from './decoder.js';
import type { CaRecord } from './record.js';
import { CLIENT, SERVER, T0 } from './test-support/scenario.js';

const TCP_CAPTURE = new Uint8Array(
  readFileSync(new URL('../../packet/fixtures/example_tcp_data.pcap', import.meta.url)),
);

/** Offset in the capture of the first TCP payload byte (zero-copy: the event's view is into `bytes`). */
function firstPayloadOffset(bytes: Uint8Array): number {
  let offset = -1;
  const p = new PacketPipeline({
    onEvent: (ev) => {
      if (ev.type === 'tcp-data' && offset < 0) offset = ev.data.byteOffset - bytes.byteOffset;
    },
  });
  p.pushCapture(bytes);
  p.end();
  return offset;
}

function decode(bytes: Uint8Array, extraServerPorts: number[] = []) {
  const records: CaRecord[] = [];
  const d = createDecoder({ onRecord: (r) => records.push(r), extraServerPorts });
  d.pushCapture(bytes);
  d.end();
  return { records, d };
}

describe('skipped flows: a TCP flow never recognised as CA is counted, not silently dropped', () => {
  it('one flipped byte in the first client payload of a server on a non-standard port', () => {
    const bytes = TCP_CAPTURE.slice();
    const at = firstPayloadOffset(bytes);
    expect(at).toBeGreaterThan(0);
    bytes[at] ^= 0xff;
    const { records, d } = decode(bytes);
    expect(records).toEqual([]);
    expect(d.state.statistics.skipped).toEqual({ flows: 1, bytes: d.skippedFlows[0].bytes });
    expect(d.skippedFlows).toEqual([
      {
        id: 1,
        a: '192.168.86.21:46222',
        b: '192.168.86.245:50421',
        opener: 'a',
        firstFrame: 4,
        bytes: expect.any(Number),
        reason: 'not-ca',
      },
    ]);
    // Every payload byte of the flow is accounted for: the undamaged capture decodes 696 message bytes.
    expect(d.skippedFlows[0].bytes).toBe(decode(TCP_CAPTURE).d.state.statistics.bytes);
  });

  it('naming the port decodes the flow and skips nothing', () => {
    const bytes = TCP_CAPTURE.slice();
    bytes[firstPayloadOffset(bytes)] ^= 0xff;
    const { records, d } = decode(bytes, [50421]);
    expect(records[0].command.name).toBe('Malformed');
    expect(records.length).toBeGreaterThan(1);
    expect(d.state.statistics.skipped).toEqual({ flows: 0, bytes: 0 });
    expect(d.skippedFlows).toEqual([]);
  });

  it('the undamaged capture skips nothing', () => {
    expect(decode(TCP_CAPTURE).d.state.statistics.skipped).toEqual({ flows: 0, bytes: 0 });
  });

  it('a flow that ends before its first bytes tell is skipped as undecided', () => {
    const cap = new PcapWriter();
    // CLIENT_NAME announcing a 16-byte name of which only 4 bytes arrive: not enough to decide.
    new TcpConversation(cap, CLIENT, 45000, SERVER, 7000)
      .open(T0)
      .send(T0 + 1, true, Uint8Array.of(0, 20, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62, 0x63, 0x64))
      .close(T0 + 2);
    const { records, d } = decode(cap.bytes());
    expect(records).toEqual([]);
    expect(d.skippedFlows).toMatchObject([{ reason: 'undecided', bytes: 20, firstFrame: 4 }]);
    expect(d.state.statistics.skipped).toEqual({ flows: 1, bytes: 20 });
  });
});
