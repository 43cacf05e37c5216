import { describe, expect, it } from 'vitest';
import { PacketPipeline } from './pipeline.js';
import type { PacketEvent } from './types.js';
import { PcapWriter, TcpConversation } from './writer.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('PcapWriter', () => {
  it('writes sequence numbers that wrap past 2^32 and a reset', () => {
    const w = new PcapWriter();
    new TcpConversation(w, '10.0.0.5', 45000, '10.0.0.9', 5064, [0xfffffffa, 7])
      .open(1)
      .send(2, true, text('0123456789'))
      .send(3, true, text('tail'))
      .send(4, false, text('reply'))
      .reset(5);
    const events: PacketEvent[] = [];
    const pipeline = new PacketPipeline({ onEvent: (e) => events.push(e) });
    pipeline.pushCapture(w.bytes());
    pipeline.end();
    const summary = events.map((e) =>
      e.type === 'tcp-data'
        ? `data ${e.from} ${new TextDecoder().decode(e.data)}`
        : e.type === 'tcp-close'
          ? `close ${e.reason}`
          : e.type,
    );
    expect(summary).toEqual(['tcp-open', 'data a 0123456789', 'data a tail', 'data b reply', 'close rst']);
  });

  it('writes a capture the pipeline reads back: a datagram and a whole TCP conversation', () => {
    const w = new PcapWriter();
    w.udp(100.25, '10.0.0.5', 40000, '10.0.0.255', 5064, text('hello'));
    new TcpConversation(w, '10.0.0.5', 45000, '10.0.0.9', 5064)
      .open(101)
      .send(101.5, true, text('request'))
      .send(101.75, false, text('reply'))
      .close(102);
    const events: PacketEvent[] = [];
    const pipeline = new PacketPipeline({ onEvent: (e) => events.push(e) });
    pipeline.pushCapture(w.bytes());
    pipeline.end();
    expect(pipeline.header).toMatchObject({ format: 'pcap' });
    const summary = events.map((e) => {
      if (e.type === 'udp')
        return `udp ${e.packet.timestamp} ${e.packet.src}>${e.packet.dst} ${new TextDecoder().decode(e.payload)}`;
      if (e.type === 'tcp-data') return `data ${e.from} ${e.packet.timestamp} ${new TextDecoder().decode(e.data)}`;
      if (e.type === 'tcp-open') return `open opener=${e.flow.opener}`;
      if (e.type === 'tcp-close') return `close ${e.reason}`;
      return e.type;
    });
    expect(summary).toEqual([
      'udp 100.25 10.0.0.5>10.0.0.255 hello',
      'open opener=a',
      'data a 101.5 request',
      'data b 101.75 reply',
      'close fin',
    ]);
    expect(w.frames).toBe(1 + 3 + 2 + 3);
  });
});
