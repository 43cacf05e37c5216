import { readFileSync } from 'node:fs';
import { CaptureReader, PacketPipeline } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';

const TCP_CAPTURE = new Uint8Array(
  readFileSync(new URL('../../packet/fixtures/example_tcp_data.pcap', import.meta.url)),
);

/** The stats of an in-process Engine fed `bytes` (what the decoding worker does). */
function statsOf(bytes: Uint8Array) {
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: 'x.pcap' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: () => undefined,
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
  });
  const reader = new CaptureReader({
    frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(bytes);
  reader.end();
  engine.end();
  return engine.stats();
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
