import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../test-support/daemon.js';
import { BatchEncoder } from './codec.js';
import { DEFAULT_STREAM_LIMITS } from './connection.js';
import { SensorPublisher } from './publisher.js';

/** A batch of `records` records of about `bytes` bytes. */
function batch(encoder: BatchEncoder, records: number, bytes: number): Uint8Array {
  for (let i = 0; i < records; i++) {
    encoder.message({
      kind: 'udp',
      t: 1,
      frame: 1,
      src: '10.0.0.1',
      sport: 5064,
      dst: '10.0.0.2',
      dport: 40000,
      role: 'response',
      pv: null,
      size: bytes / records,
      raw: new Uint8Array(bytes / records),
    });
  }
  return encoder.take();
}

let publisher: SensorPublisher | undefined;
afterEach(async () => {
  await publisher?.close(0);
  publisher = undefined;
});

describe('SensorPublisher without NATS', () => {
  it('keeps batches up to its bound, counts the rest as unsent, and holds back sources that can wait', async () => {
    // Nothing listens there: the publisher keeps trying to connect and buffers meanwhile.
    const port = await freeTcpPort();
    publisher = new SensorPublisher({
      sensor: 's',
      settings: { servers: [`nats://127.0.0.1:${port}`], stream: DEFAULT_STREAM_LIMITS },
      logger: pino({ level: 'silent' }),
      bufferBytes: 10_000,
      status: () => ({}),
    });
    const encoder = new BatchEncoder(1, { serverPort: 5064, repeaterPort: 5065 });
    publisher.add(batch(encoder, 10, 4000), 10);
    expect(publisher.waitForRoom()).toBeUndefined();
    publisher.add(batch(encoder, 10, 4000), 10);
    // Over half full: a file or stdin source waits.
    const wait = publisher.waitForRoom();
    expect(wait).toBeInstanceOf(Promise);
    // Live capture cannot wait: past the bound, batches are let go and counted.
    publisher.add(batch(encoder, 10, 4000), 10);
    expect(publisher.counters).toMatchObject({ records: 30, bufferedRecords: 20, unsent: 10, published: 0 });
    // Closing gives up on what is buffered: it counts as unsent, and waiting sources are released.
    expect(await publisher.close(0)).toBe(30);
    await wait;
    publisher = undefined;
  });
});
