/** Garbage on the IOC's sockets never crashes or wedges it. */
import dgram from 'node:dgram';
import net from 'node:net';
import { build, concatBytes, encodeMessage } from '@ca-shark/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectClient } from './client.js';
import { startIoc } from './server.js';
import type { IocHandle } from './server.js';

let ioc: IocHandle;
beforeAll(async () => {
  ioc = await startIoc({ prefix: 'f:', port: 0, beacons: false });
});
afterAll(async () => {
  await ioc.stop();
});

/** Plausible-looking requests with random fields, and plain random bytes. */
const message = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .record({
      command: fc.integer({ min: 0, max: 27 }),
      dataType: fc.integer({ min: 0, max: 40 }),
      dataCount: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffff })),
      parameter1: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.nat()),
      parameter2: fc.nat(),
      payload: fc.uint8Array({ maxLength: 48 }),
    })
    .map(({ payload, ...fields }) => encodeMessage(fields, payload)),
);

async function exchangeTcp(bytes: Uint8Array): Promise<void> {
  const socket = net.connect({ port: ioc.tcpPort, host: '127.0.0.1' });
  socket.on('data', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const opening = concatBytes([
    build.versionRequest({}),
    build.createChanRequest({ name: 'f:double', cid: 1 }),
    build.createChanRequest({ name: 'f:longarray', cid: 2 }),
  ]);
  socket.write(concatBytes([opening, bytes]));
  await new Promise((resolve) => setTimeout(resolve, 15));
  socket.destroy();
}

it('survives random TCP requests and UDP datagrams, and still serves afterwards', { timeout: 60000 }, async () => {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  await fc.assert(
    fc.asyncProperty(fc.array(message, { maxLength: 6 }), async (messages) => {
      const bytes = concatBytes(messages);
      udp.send(bytes, ioc.udpPort, '127.0.0.1');
      await exchangeTcp(bytes);
    }),
    { numRuns: 60, seed: 20261126 },
  );
  udp.close();
  const client = await connectClient({ addrList: [`127.0.0.1:${ioc.udpPort}`], searchIntervalMs: 10 });
  try {
    const ch = await client.connect('f:double');
    expect((await ch.get()).count).toBe(1);
  } finally {
    await client.close();
  }
  expect(ioc.stats.circuitsAccepted).toBeGreaterThanOrEqual(60);
});
