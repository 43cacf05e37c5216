/**
 * Child process for the garbage-collection test: opens and closes captures on lo with traffic flowing,
 * dropping every reference and churning short-lived objects so that young-generation collections destroy the
 * closed Cap objects. Stock cap 0.2.1 dies here with SIGSEGV (in AsyncWrap::EmitDestroy, called from ~Pcap
 * inside the collector); the patched addon must exit normally.
 */
import dgram from 'node:dgram';
import { openLive } from '../index.js';

const ROUNDS = 10;

const sender = dgram.createSocket('udp4');
const port = Number(process.argv[2] ?? 45_066);
let frames = 0;
for (let round = 0; round < ROUNDS; round++) {
  let capture: ReturnType<typeof openLive> | undefined = openLive({
    iface: 'lo',
    filter: `udp and dst port ${port}`,
    bufferSize: 1024 * 1024,
    onFrame: () => {
      frames++;
    },
  });
  for (let i = 0; i < 200; i++) sender.send(Buffer.alloc(256, round), port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 30));
  capture.close();
  // Drop the last reference before the churn below, so that the collector may destroy the closed Cap object.
  // eslint-disable-next-line no-useless-assignment -- the point is that nothing reads it again
  capture = undefined;
  // Short-lived garbage: scavenges are what collected the closed Cap objects when stock cap crashed.
  let sink = 0;
  for (let i = 0; i < 300_000; i++) sink += { i }.i;
  if (sink < 0) console.log(sink);
  await new Promise((resolve) => setImmediate(resolve));
}
sender.close();
console.log(JSON.stringify({ rounds: ROUNDS, frames }));
