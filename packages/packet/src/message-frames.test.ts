import { describe, expect, it } from 'vitest';
import { MessageFrames, SpanningMessages, type TrackedMessage } from './message-frames.js';
import type { PacketEvent, PacketInfo, TcpFlow } from './types.js';

const flow: TcpFlow = { id: 7, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 5064 } };

/** Just what the tracker reads of a packet. */
const packet = (frame: number): PacketInfo => ({ frame }) as PacketInfo;

function data(frame: number, from: 'a' | 'b', length: number): PacketEvent {
  return { type: 'tcp-data', packet: packet(frame), flow, from, data: new Uint8Array(length) };
}

/** A message of `size` bytes from side `from` of the flow, completed in `frame`. */
function message(frame: number, from: 'a' | 'b', size: number): TrackedMessage {
  const end = from === 'a' ? flow.a : flow.b;
  return { frame, circuit: flow.id, src: end.ip, transport: { sport: end.port }, size };
}

function framesOf(tracker: MessageFrames, m: TrackedMessage): number[] {
  const out: number[] = [];
  tracker.framesOf(m, (f) => out.push(f));
  return out;
}

describe('MessageFrames', () => {
  it('gives a datagram its frame', () => {
    const tracker = new MessageFrames();
    expect(framesOf(tracker, { frame: 3, src: '10.0.0.1', transport: { sport: 5064 }, size: 40 })).toEqual([3]);
  });

  it('splits a segment between the messages it holds and joins the segments of one message', () => {
    const released: number[] = [];
    const tracker = new MessageFrames({ onRelease: (f) => released.push(f) });
    tracker.event({ type: 'tcp-open', packet: packet(1), flow });
    // Frame 2: a 16-byte message and the first 100 bytes of a 300-byte one; frames 3 and 4 carry the rest,
    // and frame 4 also a 16-byte message; the other direction interleaves.
    tracker.event(data(2, 'a', 116));
    expect(framesOf(tracker, message(2, 'a', 16))).toEqual([2]);
    tracker.event(data(3, 'a', 150));
    tracker.event(data(4, 'b', 24));
    expect(framesOf(tracker, message(4, 'b', 24))).toEqual([4]);
    tracker.event(data(5, 'a', 66));
    expect(framesOf(tracker, message(5, 'a', 300))).toEqual([2, 3, 5]);
    expect(framesOf(tracker, message(5, 'a', 16))).toEqual([5]);
    expect(tracker.heldFrames).toBe(0);
    expect(released).toEqual([]);
  });

  it('realigns on the completing frame when bytes were never claimed', () => {
    const released: number[] = [];
    const tracker = new MessageFrames({ onRelease: (f) => released.push(f) });
    // 64 bytes the decoder skipped (frame 1), then a message completed in frame 2.
    tracker.event(data(1, 'a', 64));
    tracker.event(data(2, 'a', 32));
    expect(framesOf(tracker, message(2, 'a', 32))).toEqual([2]);
    expect(released).toEqual([1]);
    expect(tracker.heldFrames).toBe(0);
  });

  it('gives the tail of a message emitted before its end to that message', () => {
    const late: [number, number][] = [];
    const tracker = new MessageFrames({ onLate: (f, m) => late.push([f, m]) });
    tracker.event(data(1, 'b', 100));
    expect(framesOf(tracker, message(1, 'b', 250))).toEqual([1]);
    tracker.event(data(2, 'b', 100));
    tracker.event(data(3, 'b', 66));
    expect(late).toEqual([
      [2, 1],
      [3, 1],
    ]);
    // The 16 bytes after the tail are the next message's.
    expect(framesOf(tracker, message(3, 'b', 16))).toEqual([3]);
  });

  it('keeps a bounded window of a flow whose bytes no message claims, and lets a closed flow go', () => {
    const released: number[] = [];
    const tracker = new MessageFrames({ unclaimedBytes: 1000, onRelease: (f) => released.push(f) });
    for (let f = 1; f <= 100; f++) tracker.event(data(f, 'a', 100));
    expect(tracker.heldFrames).toBe(10);
    expect(released).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    tracker.event({ type: 'tcp-close', packet: packet(101), flow, reason: 'fin' });
    tracker.settle();
    expect(tracker.heldFrames).toBe(0);
    expect(released).toHaveLength(100);
  });
});

describe('SpanningMessages', () => {
  function complete(messages: number[][], written: number[]): number[] {
    const spanning = new SpanningMessages();
    for (const m of messages) spanning.add(m);
    const marked = new Set(written);
    spanning.complete(
      (f) => marked.has(f),
      (f) => marked.add(f),
    );
    return [...marked].sort((x, y) => x - y);
  }

  it('takes a left-out message whole when a frame it shares with a kept one is written', () => {
    // Message 2-4 ends in frame 4, which a kept message also uses; message 6-7 starts in frame 6.
    expect(
      complete(
        [
          [2, 3, 4],
          [6, 7],
        ],
        [4],
      ),
    ).toEqual([2, 3, 4]);
    expect(
      complete(
        [
          [2, 3, 4],
          [6, 7],
        ],
        [6],
      ),
    ).toEqual([6, 7]);
    expect(
      complete(
        [
          [2, 3, 4],
          [6, 7],
        ],
        [5],
      ),
    ).toEqual([5]);
  });

  it('follows chains of messages that share frames, in both directions of the stream', () => {
    // 1-2 ends where 2-3 starts, which ends where 3-5 starts.
    expect(
      complete(
        [
          [1, 2],
          [2, 3],
          [3, 4, 5],
        ],
        [5],
      ),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(
      complete(
        [
          [1, 2],
          [2, 3],
          [3, 4, 5],
        ],
        [1],
      ),
    ).toEqual([1, 2, 3, 4, 5]);
  });

  it('notes nothing for a message in one frame', () => {
    const spanning = new SpanningMessages();
    spanning.add([9]);
    expect(spanning.size).toBe(0);
  });
});
