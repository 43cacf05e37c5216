import { describe, expect, it } from 'vitest';
import { Deframer, type DeframerOptions } from './deframer.js';
import { decodeCommand } from './commands.js';
import { DbrType } from './tables.js';
import { headerFaultMessage } from './header.js';
import { build, concatBytes, encodeMessage } from './encode.js';
import type { CaFault, CaFrame } from './types.js';
import { datagram, deframeAll, deframeChunks, faultRecord, frameRecord } from './test-support/collect.js';
import type { FaultRecord, FrameRecord } from './test-support/collect.js';
import { hex } from './test-support/hex.js';

// §7.2 client → server TCP stream, verbatim.
const CLIENT_STREAM = hex(`
  00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00
  00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 61 6c 69 63 65 00 00 00
  00 15 00 08 00 00 00 00 00 00 00 00 00 00 00 00 77 73 31 00 00 00 00 00
  00 12 00 10 00 00 00 00 00 00 00 07 00 00 00 0d 64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00
  00 0f 00 00 00 14 00 01 00 00 00 2a 00 00 00 01
  00 01 00 10 00 14 00 00 00 00 00 2a 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00
  00 13 00 08 00 06 00 01 00 00 00 2a 00 00 00 03 3f f4 00 00 00 00 00 00
  00 02 00 00 00 14 00 00 00 00 00 2a 00 00 00 02
  00 0c 00 00 00 00 00 00 00 00 00 2a 00 00 00 07`);

// Server → client, with an extended header (count ≥ 0xFFFF), a dc16 anomaly and a 64 KiB waveform.
const SERVER_STREAM = concatBytes([
  hex('00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00'),
  hex('00 16 00 00 00 00 00 00 00 00 00 07 00 00 00 03'),
  hex('00 12 00 00 00 06 00 01 00 00 00 07 00 00 00 2a'),
  hex(`00 0f 00 18 00 14 00 01 00 00 00 01 00 00 00 01
       00 00 00 00 3f b5 53 80 0e e6 b2 80 00 00 00 00 40 0c 00 00 00 00 00 00`),
  build.writeNotifyResponse({ data_type: 5, data_count: 70000, ioid: 4 }),
  encodeMessage({ command: 1, dataType: 5, dataCount: 3, parameter1: 1, parameter2: 9 }, new Uint8Array(16), {
    extended: true,
    extendedDc16: 3,
  }),
  encodeMessage(
    { command: 1, dataType: 4, dataCount: 70000, parameter1: 1, parameter2: 9 },
    new Uint8Array(70000).fill(0x5a),
  ),
  hex('00 17 00 00 00 00 00 00 00 00 00 00 00 00 00 00'),
]);

describe('Deframer on clean streams', () => {
  it('emits the §7.2 client messages', () => {
    const { frames, faults } = deframeAll(CLIENT_STREAM);
    expect(faults).toEqual([]);
    expect(frames.map((f) => f.command)).toEqual([0, 20, 21, 18, 15, 1, 19, 2, 12]);
    expect(frames[3]).toMatchObject({ payloadSize: 16, parameter1: 7, parameter2: 13, headerSize: 16 });
    expect(frames[3].payload).toBe('64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00');
  });

  it('reads extended headers and flags a non-zero dc16 marker', () => {
    const { frames, faults } = deframeAll(SERVER_STREAM);
    expect(faults).toEqual([]);
    expect(frames.map((f) => f.command)).toEqual([0, 22, 18, 15, 19, 1, 1, 23]);
    expect(frames[4]).toMatchObject({ command: 19, headerSize: 24, payloadSize: 0, dataCount: 70000, parameter2: 4 });
    expect(frames[4].anomalies).toBeUndefined();
    expect(frames[5]).toMatchObject({
      headerSize: 24,
      payloadSize: 16,
      dataCount: 3,
      anomalies: ['extended-header-dc16-nonzero'],
    });
    expect(frames[6]).toMatchObject({ headerSize: 24, payloadSize: 70000, dataCount: 70000 });
  });

  it.each([
    ['client', CLIENT_STREAM],
    ['server', SERVER_STREAM.subarray(0, 200)],
  ])('gives identical output when the %s stream is split at every offset', (_n, stream) => {
    const whole = deframeAll(stream);
    for (let i = 0; i <= stream.length; i++) {
      const split = deframeChunks([stream.subarray(0, i), stream.subarray(i)]);
      expect(split.frames, `split at ${i}`).toEqual(whole.frames);
      expect(split.faults).toEqual([]);
    }
  });

  it('gives identical output when fed byte by byte and in a big stream at odd splits', () => {
    const whole = deframeAll(SERVER_STREAM);
    const bytes = [...CLIENT_STREAM].map((b) => new Uint8Array([b]));
    expect(deframeChunks(bytes).frames).toEqual(deframeAll(CLIENT_STREAM).frames);
    for (const step of [7, 1000, 1460, 65535]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < SERVER_STREAM.length; i += step) chunks.push(SERVER_STREAM.subarray(i, i + step));
      const r = deframeChunks(chunks);
      expect(r.frames).toEqual(whole.frames);
      expect(r.faults).toEqual([]);
    }
  });

  it('reads pushed ranges of larger buffers where they lie, as it reads the same bytes pushed on their own', () => {
    const garbage = hex('ff ff 00 01 02 03 04 05 06 07 08 09 0a 0b 0c');
    const stream = concatBytes([CLIENT_STREAM, garbage, SERVER_STREAM, CLIENT_STREAM.subarray(0, 36)]);
    for (const step of [5, 24, 1460, 65535]) {
      const pieces: (Uint8Array | 'gap')[] = [];
      for (let i = 0; i < stream.length; i += step) pieces.push(stream.subarray(i, i + step));
      pieces.splice(3, 0, 'gap');
      const expected = deframeChunks(pieces);
      // Each piece in the middle of a buffer of its own, between bytes that are no CA message.
      const d = new Deframer();
      const frames: FrameRecord[] = [];
      const faults: FaultRecord[] = [];
      const onFrame = (f: CaFrame): void => void frames.push(frameRecord(f));
      const onFault = (f: CaFault): void => void faults.push(faultRecord(f));
      pieces.forEach((piece, i) => {
        if (piece === 'gap') return d.gap();
        const before = (i * 7) % 13;
        const holder = new Uint8Array(before + piece.length + 9).fill(0xee);
        holder.set(piece, before);
        d.pushRange(holder, before, before + piece.length, onFrame, onFault);
      });
      d.end(onFrame, onFault);
      expect(frames, `step ${step}`).toEqual(expected.frames);
      expect(faults, `step ${step}`).toEqual(expected.faults);
      expect(faults.length).toBeGreaterThan(0);
    }
  });

  it('with reuseFrames, gives the same frames in one object (new ones only for anomalies and cuts)', () => {
    const stream = concatBytes([CLIENT_STREAM, SERVER_STREAM, CLIENT_STREAM.subarray(0, 36)]);
    const fresh = deframeAll(stream);
    for (const step of [1, 7, 1460, 65535, stream.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) chunks.push(stream.subarray(i, i + step));
      expect(deframeChunks(chunks, { reuseFrames: true })).toEqual(deframeChunks(chunks));
    }
    const seen = new Set<CaFrame>();
    let plain = 0;
    const d = new Deframer({ reuseFrames: true });
    const onFrame = (f: CaFrame): void => {
      seen.add(f);
      if (!f.truncated && f.anomalies === undefined) plain++;
    };
    d.push(stream, onFrame, () => undefined);
    d.end(onFrame, () => undefined);
    expect(plain).toBeGreaterThan(10);
    // One object for every plain frame, one each for the dc16 anomaly and the cut message at the end.
    expect(seen.size).toBe(3);
    expect(fresh.frames.length).toBe(plain + 2);
  });

  it('buffers only the message that straddles chunks', () => {
    const r = deframeChunks([CLIENT_STREAM.subarray(0, 20), CLIENT_STREAM.subarray(20)]);
    expect(r.maxBuffered).toBe(4);
  });
});

describe('Deframer resynchronisation', () => {
  const echo = build.echoRequest();
  const read = build.readNotifyRequest({ data_type: 6, sid: 1, ioid: 2 });

  it('skips garbage between messages as one fault and keeps decoding', () => {
    const garbage = hex('de ad be ef 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13');
    const stream = concatBytes([read, echo, garbage, read, echo, read]);
    const { frames, faults } = deframeAll(stream);
    expect(frames.map((f) => f.command)).toEqual([15, 23, 15, 23, 15]);
    expect(faults).toEqual([
      {
        code: 'bad-command',
        length: garbage.length,
        sample: [...garbage].map((b) => b.toString(16).padStart(2, '0')).join(' '),
        offset: 32,
      },
    ]);
  });

  it('resynchronises the same whatever the segmentation', () => {
    const garbage = hex('ff ff 00 01 02 03 04 05 06 07 08 09 0a 0b 0c');
    const stream = concatBytes([read, garbage, read, echo, read, echo]);
    const whole = deframeAll(stream);
    expect(whole.frames.map((f) => f.command)).toEqual([15, 15, 23, 15, 23]);
    expect(whole.faults.map((f) => [f.code, f.length])).toEqual([['bad-command', 15]]);
    for (let i = 0; i <= stream.length; i++) {
      const split = deframeChunks([stream.subarray(0, i), stream.subarray(i)]);
      expect(
        split.frames.map((f) => f.command),
        `split at ${i}`,
      ).toEqual([15, 15, 23, 15, 23]);
      expect(split.faults.map((f) => [f.code, f.length])).toEqual([['bad-command', 15]]);
    }
  });

  it('flags a payload size that is not a multiple of 8', () => {
    const bad = encodeMessage({ command: 20 }, new Uint8Array([0x61, 0x62, 0x63]), { noPad: true });
    const { frames, faults } = deframeAll(concatBytes([echo, bad, echo, echo]));
    expect(faults[0].code).toBe('bad-alignment');
    expect(faults[0].length).toBe(bad.length);
    expect(frames.map((f) => f.command)).toEqual([23, 23, 23]);
  });

  it('flags a DBR type above 38', () => {
    const bad = build.readNotifyRequest({ data_type: 39, sid: 1, ioid: 2 });
    const { frames, faults } = deframeAll(concatBytes([echo, bad, read, echo]));
    expect(faults.map((f) => f.code)).toEqual(['bad-data-type']);
    expect(frames.map((f) => f.command)).toEqual([23, 15, 23]);
  });

  it('flags a payload on a command that never has one instead of swallowing the messages after it', () => {
    // A VERSION whose size field was damaged to 16: found by the mutation fuzzer (example_tcp_data.pcap).
    const version = encodeMessage({ command: 0, dataType: 0, dataCount: 13 });
    const bad = version.slice();
    bad[3] = 16;
    const { frames, faults } = deframeAll(concatBytes([bad, read, echo, read]));
    expect(faults.map((f) => [f.code, f.length])).toEqual([['unexpected-payload', bad.length]]);
    expect(headerFaultMessage('unexpected-payload', 0, 16, 0)).toBe(
      'command 0 carries no payload, but its header claims 16 bytes',
    );
    expect(frames.map((f) => f.command)).toEqual([15, 23, 15]);
    expect(deframeAll(concatBytes([version, read])).faults).toEqual([]);
  });

  it('with a known direction, flags a payload on a command that has none that way', () => {
    // A CREATE_CHAN reply whose size was damaged to 16 (found by the mutation fuzzer in libca-sim.pcap):
    // a request of the same command carries the PV name, so only the direction tells it is damage.
    const reply = build.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 7 });
    const bad = reply.slice();
    bad[3] = 16;
    const toClient = deframeAll(concatBytes([bad, read, echo, read]), { direction: 'to-client' });
    expect(toClient.faults.map((f) => [f.code, f.length])).toEqual([['unexpected-payload', bad.length]]);
    expect(toClient.frames.map((f) => f.command)).toEqual([15, 23, 15]);
    // The same bytes with no direction known: the next 16 bytes become the damaged message's payload.
    expect(deframeAll(concatBytes([bad, read, echo, read])).frames.map((f) => f.command)).toEqual([18, 23, 15]);
    // A READ_NOTIFY request never has a payload; its reply does.
    const readBad = read.slice();
    readBad[3] = 16;
    const toServer = deframeAll(concatBytes([readBad, read, echo, read]), { direction: 'to-server' });
    expect(toServer.faults.map((f) => [f.code, f.length])).toEqual([['unexpected-payload', readBad.length]]);
    expect(toServer.frames.map((f) => f.command)).toEqual([15, 23, 15]);
    const str = encodeMessage({ command: 15, dataType: 0, dataCount: 1 }, new Uint8Array([0x61, 0]));
    expect(deframeAll(str, { direction: 'to-client' }).faults).toEqual([]);
  });

  it('flags a DBR payload larger than its type and count need (a damaged size field)', () => {
    // An EventAddResponse of one DBR_DOUBLE (8 bytes) whose size was damaged to 24: found by the fuzzer.
    const upd = build.eventAddResponse({ data_type: 6, data: [1.5], subscriptionid: 3 });
    const bad = upd.slice();
    bad[3] = 24;
    const { frames, faults } = deframeAll(concatBytes([bad, read, echo]));
    expect(faults.map((f) => f.code)).toEqual(['payload-exceeds-type']);
    expect(frames.map((f) => f.command)).toEqual([15, 23]);
    // The EVENT_ADD request's 16-byte mask payload and a short DBR_STRING are fine.
    const sub = build.eventAddRequest({ data_type: 6, data_count: 0, sid: 1, subscriptionid: 2, mask: 1 });
    const str = encodeMessage({ command: 15, dataType: 0, dataCount: 1 }, new Uint8Array([0x61, 0]));
    expect(deframeAll(concatBytes([sub, str, upd])).faults).toEqual([]);
  });

  it('after a gap, drops the partial message and resumes at the next boundary', () => {
    const upd = build.eventAddResponse({ data_type: 20, data: [1.5], subscriptionid: 3 });
    const stream = concatBytes([upd, upd, upd]);
    // Lose bytes 10..50: the first message is cut, the second one starts mid-way.
    const r = deframeChunks([stream.subarray(0, 10), 'gap', stream.subarray(50)]);
    expect(r.frames.map((f) => f.command)).toEqual([1]);
    expect(r.frames[0].payload).toBe(deframeAll(upd).frames[0].payload);
    expect(r.faults).toHaveLength(1);
    expect(r.faults[0].code).toBe('gap');
    expect(r.faults[0].length).toBe(10 + (80 - 50));
  });

  it('with a known gap size, resumes on the 8-byte message phase', () => {
    const upd = build.eventAddResponse({ data_type: 20, data: [0], subscriptionid: 1 });
    const stream = concatBytes([upd, upd, upd, upd]);
    const d = new Deframer();
    const got: number[] = [];
    const faults: [string, number, number | undefined][] = [];
    d.push(
      stream.subarray(0, 45),
      (f) => got.push(f.parameter2),
      (f) => faults.push([f.code, f.length, f.offset]),
    );
    d.gap(50);
    d.push(
      stream.subarray(95),
      (f) => got.push(f.parameter2),
      (f) => faults.push([f.code, f.length, f.offset]),
    );
    d.end(
      (f) => got.push(f.parameter2),
      (f) => faults.push([f.code, f.length, f.offset]),
    );
    expect(got).toEqual([1, 1]);
    // 5 buffered bytes of message 2 dropped, then 25 bytes of message 3 skipped; positions count the gap.
    expect(faults).toEqual([['gap', 30, 40]]);
    expect(d.position).toBe(stream.length);
  });

  it('a known gap inside a payload costs only that message: truncated frame, no resync', () => {
    const upd = build.eventAddResponse({ data_type: 20, data: [1, 2, 3, 4, 5, 6, 7, 8], subscriptionid: 1 });
    const next = build.eventAddResponse({ data_type: 20, data: [9], subscriptionid: 2 });
    const stream = concatBytes([upd, next]);
    const d = new Deframer();
    const frames: CaFrame[] = [];
    const faults: string[] = [];
    const onFrame = (f: CaFrame) => frames.push({ ...f, payload: f.payload.slice() });
    const onFault = (f: { code: string }) => faults.push(f.code);
    d.push(stream.subarray(0, 30), onFrame, onFault);
    d.gap(20, onFrame);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ payloadSize: 80, truncated: true, anomalies: ['message-cut'], parameter2: 1 });
    expect(frames[0].payload).toHaveLength(14);
    d.push(stream.subarray(50), onFrame, onFault);
    d.end(onFrame, onFault);
    expect(frames.map((f) => f.parameter2)).toEqual([1, 2]);
    expect(frames[1].truncated).toBeUndefined();
    expect(faults).toEqual([]);
    expect(d.position).toBe(stream.length);
  });

  it('a known gap inside an over-cap payload being skipped costs nothing more', () => {
    const big = encodeMessage(
      { command: 1, dataType: 4, dataCount: 5000, parameter1: 1, parameter2: 7 },
      new Uint8Array(5000),
    );
    const stream = concatBytes([big, echo]);
    const d = new Deframer({ maxPayloadSize: 1024, oversizePrefix: 32 });
    const got: [number, boolean][] = [];
    const faults: string[] = [];
    const onFrame = (f: CaFrame) => got.push([f.command, f.truncated === true]);
    d.push(stream.subarray(0, 1000), onFrame, (f) => faults.push(f.code));
    d.gap(3000);
    d.push(stream.subarray(4000), onFrame, (f) => faults.push(f.code));
    d.end(onFrame, (f) => faults.push(f.code));
    expect(got).toEqual([
      [1, true],
      [23, false],
    ]);
    expect(faults).toEqual([]);
  });

  it('after a known gap between messages, takes a whole message at once, with the data it came in', () => {
    // A filtered export: the first segment after the hole holds a whole update and the start of the next
    // message's header; the update belongs to that segment, not to the one that completes the header.
    const upd = build.eventAddResponse({ data_type: 20, data: [0], subscriptionid: 1 });
    const next = build.eventAddResponse({ data_type: 20, data: [0], subscriptionid: 2 });
    const stream = concatBytes([upd, upd, upd, next]);
    const d = new Deframer();
    const got: [number, number][] = [];
    const faults: string[] = [];
    let push = 0;
    const onFrame = (f: CaFrame) => got.push([push, f.parameter2]);
    const onFault = (f: { code: string }) => faults.push(f.code);
    d.push(stream.subarray(0, upd.length), onFrame, onFault);
    d.gap(upd.length, onFrame);
    push = 1;
    d.push(stream.subarray(2 * upd.length, 3 * upd.length + 8), onFrame, onFault);
    push = 2;
    d.push(stream.subarray(3 * upd.length + 8), onFrame, onFault);
    d.end(onFrame, onFault);
    expect(got).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
    ]);
    expect(faults).toEqual([]);
  });

  it('a known gap reaching past the current message resynchronises', () => {
    const stream = concatBytes([read, read, echo, read, echo]);
    const d = new Deframer();
    const got: number[] = [];
    const faults: [string, number][] = [];
    d.push(
      stream.subarray(0, 20),
      (f) => got.push(f.command),
      (f) => faults.push([f.code, f.length]),
    );
    d.gap(20, (f) => got.push(-f.command));
    d.push(
      stream.subarray(40),
      (f) => got.push(f.command),
      (f) => faults.push([f.code, f.length]),
    );
    d.end(
      (f) => got.push(f.command),
      (f) => faults.push([f.code, f.length]),
    );
    // The second READ_NOTIFY (cut) and the ECHO (mostly lost) are gone; the rest resumes on phase.
    expect(got).toEqual([15, 15, 23]);
    expect(faults).toEqual([['gap', 4 + 8]]);
  });

  it('midStream starts by resynchronising', () => {
    const stream = concatBytes([read, echo, read]);
    const frames: number[] = [];
    const faults: number[] = [];
    const d = new Deframer({ midStream: true });
    d.push(
      stream.subarray(6),
      (f) => frames.push(f.command),
      (f) => faults.push(f.length),
    );
    d.end(
      (f) => frames.push(f.command),
      (f) => faults.push(f.length),
    );
    expect(frames).toEqual([23, 15]);
    expect(faults).toEqual([10]);
  });

  it('a gap at a message boundary loses nothing and reports nothing', () => {
    const r = deframeChunks([concatBytes([read, echo]), 'gap', concatBytes([read, echo])]);
    expect(r.frames.map((f) => f.command)).toEqual([15, 23, 15, 23]);
    expect(r.faults).toEqual([]);
  });

  it('reports trailing garbage at the end of the stream', () => {
    const r = deframeAll(concatBytes([echo, hex('ff ff ff ff ff')]));
    expect(r.frames.map((f) => f.command)).toEqual([23]);
    expect(r.faults).toEqual([{ code: 'trailing-bytes', length: 5, sample: 'ff ff ff ff ff', offset: 16 }]);
  });

  it('emits a message cut by the end of the stream as truncated', () => {
    const upd = build.eventAddResponse({ data_type: 20, data: [1.5], subscriptionid: 3 });
    const r = deframeAll(upd.subarray(0, 30));
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]).toMatchObject({ command: 1, payloadSize: 24, truncated: true, anomalies: ['message-cut'] });
    expect(r.frames[0].payload.split(' ')).toHaveLength(14);
  });

  it('never buffers an over-cap message: truncated frame, payload skipped, stream continues', () => {
    const big = encodeMessage(
      { command: 1, dataType: 4, dataCount: 5000, parameter1: 1, parameter2: 7 },
      new Uint8Array(5000).fill(1),
    );
    const stream = concatBytes([echo, big, read]);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 100) chunks.push(stream.subarray(i, i + 100));
    const opts = { maxPayloadSize: 1024, oversizePrefix: 64 };
    for (const input of [[stream], chunks]) {
      const r = deframeChunks(input, opts);
      expect(r.faults).toEqual([]);
      expect(r.frames.map((f) => f.command)).toEqual([23, 1, 15]);
      expect(r.frames[1]).toMatchObject({ payloadSize: 5000, truncated: true, anomalies: ['payload-over-cap'] });
      expect(r.frames[1].payload.split(' ')).toHaveLength(64);
      expect(r.maxBuffered).toBeLessThanOrEqual(16 + 64);
    }
  });
});

describe('deframeDatagram', () => {
  const version = build.versionRequest({ sequence: 1 });
  const search = build.searchRequest({ name: 'demo:ai1', cid: 7 });

  it('accepts an exactly filled datagram', () => {
    const r = datagram(concatBytes([version, search, search]));
    expect(r.ok).toBe(true);
    expect(r.frames.map((f) => f.command)).toEqual([0, 6, 6]);
    expect(r.faults).toEqual([]);
  });
  it('accepts an empty datagram (repeater registration)', () => {
    expect(datagram(new Uint8Array(0))).toEqual({ ok: true, frames: [], faults: [] });
  });
  it('flags trailing bytes', () => {
    const r = datagram(concatBytes([version, hex('00 00 00')]));
    expect(r.ok).toBe(false);
    expect(r.frames).toHaveLength(1);
    expect(r.faults).toEqual([{ code: 'trailing-bytes', length: 3, sample: '00 00 00', offset: 16 }]);
  });
  it('flags a message running past the end, or emits it truncated when the capture cut it', () => {
    const cut = concatBytes([version, search.subarray(0, 20)]);
    const r = datagram(cut);
    expect(r.ok).toBe(false);
    expect(r.faults[0]).toMatchObject({ code: 'overrun', length: 20, offset: 16 });
    const t = datagram(cut, true);
    expect(t.ok).toBe(true);
    expect(t.frames[1]).toMatchObject({ command: 6, truncated: true, payload: '64 65 6d 6f' });
  });
  it('flags non-CA data as a whole', () => {
    const junk = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = datagram(junk);
    expect(r.ok).toBe(false);
    expect(r.frames).toEqual([]);
    expect(r.faults[0].length).toBe(junk.length);
  });
});

describe('Deframer with handOverLarge', () => {
  /** A TIME_DOUBLE monitor update of `n` elements whose values start at `first`. */
  const waveform = (n: number, first: number): Uint8Array =>
    build.eventAddResponse({
      data_type: DbrType.TIME_DOUBLE,
      data: Array.from({ length: n }, (_, i) => first + i + 0.25),
      subscriptionid: 9,
    });
  const small = build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1.5], ioid: 3 });
  const stream = concatBytes([waveform(1200, 0), small, waveform(30_000, 10_000), small, waveform(1200, 50_000)]);

  /** Pushes `stream` in `chunk`-byte pushes and decodes every frame in its callback; the arrays are kept. */
  function decodeAll(chunk: number, options: DeframerOptions, arrayMemory?: (n: number) => Uint8Array) {
    const d = new Deframer({ reuseFrames: true, ...options });
    const arrays: Float64Array[] = [];
    const onFrame = (f: CaFrame) => {
      const command = decodeCommand(f, 'response', arrayMemory && { arrayMemory });
      if ('data' in command && command.data instanceof Float64Array) arrays.push(command.data);
    };
    const onFault = (f: CaFault) => expect.unreachable(f.message);
    for (let at = 0; at < stream.length; at += chunk) d.push(stream.subarray(at, at + chunk), onFrame, onFault);
    d.end(onFrame, onFault);
    return arrays;
  }
  const expected = [0, 10_000, 50_000].map((first, i) =>
    Array.from({ length: i === 1 ? 30_000 : 1200 }, (_, k) => first + k + 0.25),
  );

  it('makes a straddling message memory its array, whose values stay after later messages', () => {
    for (const chunk of [1000, 4096, 65_536]) {
      const arrays = decodeAll(chunk, { handOverLarge: true });
      // Read only now: each array survived the pushes and decoding of every message after it.
      expect(
        arrays.map((a) => Array.from(a)),
        `pushes of ${chunk}`,
      ).toEqual(expected);
      // A waveform that straddles pushes has the message it came in as its memory (no copy): all of them
      // in pushes of 1000 and 4096 bytes, the 30,000 doubles only in pushes of 64 KiB.
      const straddled = chunk === 65_536 ? [false, true, false] : [true, true, true];
      expect(arrays.map((a) => a.buffer.byteLength)).toEqual(
        [9632, 240_040, 9632].map((size, i) => (straddled[i] ? size : arrays[i].byteLength)),
      );
      expect(arrays.map((a) => a.byteOffset)).toEqual([32, 40, 32].map((at, i) => (straddled[i] ? at : 0)));
    }
  });

  it('copies as before without the option, or when arrays are given memory', () => {
    expect(decodeAll(1000, {}).map((a) => Array.from(a))).toEqual(expected);
    expect(decodeAll(1000, {}).every((a) => a.byteOffset === 0 && a.buffer.byteLength === a.byteLength)).toBe(true);
    const arena = new ArrayBuffer(300_000);
    const lent = decodeAll(1000, { handOverLarge: true }, (n) => new Uint8Array(arena, 0, n));
    expect(lent.every((a) => a.buffer === arena)).toBe(true);
    expect(Array.from(lent[2])).toEqual(expected[2]);
  });

  it('gives the frames it gives without the option, at every split and around gaps', () => {
    const msgs = concatBytes([small, waveform(600, 7), small]);
    const record = (chunks: (Uint8Array | 'gap')[], handOverLarge: boolean) => deframeChunks(chunks, { handOverLarge });
    for (let i = 0; i <= msgs.length; i += 29) {
      for (const j of [i + 17, i + 2000, msgs.length]) {
        const chunks = [msgs.subarray(0, i), msgs.subarray(i, j), msgs.subarray(j)];
        expect(record(chunks, true), `split at ${i}, ${j}`).toEqual(record(chunks, false));
      }
      const gapped = [msgs.subarray(0, i), 'gap' as const, msgs, msgs.subarray(0, i)];
      expect(record(gapped, true), `gap after ${i}`).toEqual(record(gapped, false));
    }
  });

  it('cuts a message assembled apart at a gap of known size, then assembles the next one', () => {
    const w = waveform(600, 7);
    const d = new Deframer({ handOverLarge: true });
    const frames: { truncated: boolean; length: number; first: number }[] = [];
    const onFrame = (f: CaFrame) => {
      const command = decodeCommand(f, 'response');
      const data = 'data' in command ? (command.data as ArrayLike<number>) : [];
      frames.push({ truncated: f.truncated === true, length: data.length, first: data[0] });
    };
    const onFault = (f: CaFault) => expect.unreachable(f.message);
    d.push(w.subarray(0, 3000), onFrame, onFault);
    d.gap(1000, onFrame);
    d.push(w.subarray(4000), onFrame, onFault);
    d.push(w.subarray(0, 100), onFrame, onFault);
    d.push(w.subarray(100), onFrame, onFault);
    d.end(onFrame, onFault);
    expect(frames).toEqual([
      { truncated: true, length: 371, first: 7.25 },
      { truncated: false, length: 600, first: 7.25 },
    ]);
  });
});
