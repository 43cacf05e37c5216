import { readFileSync } from 'node:fs';
import { PacketPipeline } from '@ca-shark/packet';
import { describe, expect, it } from 'vitest';
import { runEngine } from './test-support/engine.js';

const TCP_CAPTURE = new Uint8Array(
  readFileSync(new URL('../../packet/fixtures/example_tcp_data.pcap', import.meta.url)),
);

/** The stats of an in-process Engine fed `bytes` (what the decoding worker does). */
function statsOf(bytes: Uint8Array) {
  return runEngine(bytes).stats();
}

describe('Engine stats: skipped flows', () => {
  it('counts a TCP flow never recognised as CA (one flipped byte in its opening)', () => {
    const bytes = TCP_CAPTURE.slice();
    let first = -1;
    const p = new PacketPipeline({
      onEvent: (ev) => void (ev.type === 'tcp-data' && first < 0 && (first = ev.data.byteOffset - bytes.byteOffset)),
    });
    p.pushCapture(bytes);
    p.end();
    bytes[first] ^= 0xff;
    expect(statsOf(bytes)).toMatchObject({ messages: 0, skippedFlows: { flows: 1, bytes: 696 } });
    expect(statsOf(TCP_CAPTURE)).toMatchObject({ messages: 22, skippedFlows: { flows: 0, bytes: 0 } });
  });
});
