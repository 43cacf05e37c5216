/**
 * Live frames into the packet layer, the way the daemon uses them, with the default CA filter: TCP on any port
 * is captured and reassembles; UDP off the CA ports is not captured. Root only; loopback only.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { PacketPipeline, type PacketEvent } from '@ca-shark/packet';
import { describe, expect, it } from 'vitest';
import { openLive } from './index.js';

const IS_ROOT = process.getuid?.() === 0;
const HANG_GUARD_MS = 15_000;

/** A TCP server on 127.0.0.1 that answers every request with `reply` and closes. */
async function startServer(reply: string): Promise<net.Server> {
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function request(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    let got = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      got += d;
    });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
}

describe.skipIf(!IS_ROOT)('live frames through @ca-shark/packet (root only)', { timeout: 30_000 }, () => {
  it('captures a TCP exchange on an arbitrary port with the default filter, and no stray UDP', async () => {
    const server = await startServer('CA reply bytes');
    const serverPort = (server.address() as net.AddressInfo).port;
    const udpReceiver = dgram.createSocket('udp4');
    udpReceiver.on('message', () => {});
    await new Promise<void>((resolve) => udpReceiver.bind(0, '127.0.0.1', resolve));
    const udpPort = udpReceiver.address().port;

    const events: PacketEvent[] = [];
    const pipeline = new PacketPipeline({ onEvent: (e) => events.push(e) });
    const ours = (e: PacketEvent): boolean =>
      'flow' in e && (e.flow.a.port === serverPort || e.flow.b.port === serverPort);
    const capture = openLive({
      iface: 'lo',
      onFrame: (f) => pipeline.pushFrame(f.linktype, f.timestamp, f.bytes, f.origlen),
    });
    try {
      const sender = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sender.send('not CA', udpPort, '127.0.0.1', () => resolve()));
      sender.close();
      expect(await request(serverPort, 'CA request bytes')).toBe('CA reply bytes');

      const deadline = Date.now() + HANG_GUARD_MS;
      while (!events.some((e) => e.type === 'tcp-close' && ours(e))) {
        if (Date.now() > deadline) throw new Error('the TCP exchange never showed up closed in the capture');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      capture.close();
      server.close();
      udpReceiver.close();
    }
    const text = (from: 'a' | 'b'): string =>
      events
        .filter((e) => e.type === 'tcp-data' && ours(e) && e.from === from)
        .map((e) => (e.type === 'tcp-data' ? Buffer.from(e.data).toString('latin1') : ''))
        .join('');
    const open = events.find((e) => e.type === 'tcp-open' && ours(e));
    expect(open).toBeDefined();
    // `a` sent the first packet seen: the client's SYN.
    expect(text('a')).toBe('CA request bytes');
    expect(text('b')).toBe('CA reply bytes');
    const strayUdp = events.filter(
      (e) => e.type === 'udp' && e.packet.transport.protocol === 'udp' && e.packet.transport.dport === udpPort,
    );
    expect(strayUdp).toEqual([]);
  });
});
