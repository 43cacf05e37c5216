/**
 * JIT warm-up: before the first real input, the decoder runs once over a small capture made here that
 * takes every common path (see {@link warmUpDecoder}).
 *
 * Why: V8 optimises a hot function with the type feedback it has gathered so far, and a branch that never
 * ran by then has none: reaching it later throws the optimised code away ("insufficient type feedback"),
 * and the function runs unoptimised until it is compiled again, with everything inlined into it. Real
 * captures meet their paths late (the first monitor update after thousands of searches and reads, the
 * first closed circuit after 150k messages): a one-shot `shark()` over realistic.pcap deoptimised and
 * recompiled the message handler, the command decoder and the deframer a dozen times, which cost more CPU
 * than decoding the rest of the capture once warm. A few hundred messages decoded at start give those
 * branches their feedback at the cost of about a millisecond.
 */
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, Eca, build, concatBytes, encodeMessage, readHeader } from '@ca-shark/protocol';
import type { DbrMetadata } from '@ca-shark/protocol';
import { Decoder } from './decoder.js';
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from './options.js';

// Addresses and sequence numbers above 2^31, as real ones often are: numbers past the small-integer range
// take other representations in optimised code.
const CLIENT = '192.168.99.1';
const SERVER = '192.168.99.2';
const BROADCAST = '192.168.99.255';
const ISN: readonly [number, number] = [0xfffff000, 0x9abcdef0];
const SERVER_PORT = DEFAULT_SERVER_PORT;
const REPEATER_PORT = DEFAULT_REPEATER_PORT;
const T0 = 1_700_000_000;
/** Bytes pushed at once: pcap record headers and CA messages then straddle pushes, as in real reads. */
const PIECE = 4093;
/** Seconds after which the reassembler times a quiet connection out (TcpOptions.idleTimeout), and more. */
const IDLE_AFTER = 700;
/** The pcap file header and part of the first record header. */
const FIRST_PIECE = 24 + 5;
/**
 * Bytes of the warm-up capture decoded a second time, with stable input (see {@link warmUpDecoder}): its
 * UDP part and the start of the first circuit, records cut by pushes among them.
 * @internal exported for tests.
 */
export const SECOND_PASS_BYTES = 16 * 1024;
/** Elements of the warm-up waveform of doubles: just above the 16-bit payload size (extended header). */
const WAVEFORM = 8200;

let warmed = false;

/** Runs {@link warmUpDecoder} the first time it is called in a process; later calls do nothing. */
export function warmUpOnce(): void {
  if (warmed) return;
  warmed = true;
  try {
    warmUpDecoder();
  } catch {
    // Only a speed-up: should the warm-up ever fail (its capture is tested), decoding goes on without it.
  }
}

/**
 * Decodes the warm-up capture with a decoder of its own (its records, state and counters are dropped),
 * pushed in uneven pieces. The module-level caches it touches (address strings) hold only a few entries.
 * @internal exported for tests.
 */
export function warmUpDecoder(): number {
  let records = 0;
  const bytes = warmUpCapture();
  // The whole capture once, then its start again with stable input: the capture reader's in-place path
  // (a record cut by a push read where it lies, as in shark()'s files). With one pass only, the reader's
  // parse was deoptimised at record 36k of realistic.pcap, and nothing else (three traced runs); with the
  // short second pass, nothing of the decoder is on realistic.pcap or real100.pcap. The whole capture a
  // second time, as before, cost 6 ms more (warm-up CPU median 51 → 45 ms, nine interleaved runs).
  for (const [stable, length] of [
    [false, bytes.length],
    [true, Math.min(bytes.length, SECOND_PASS_BYTES)],
  ] as const) {
    const decoder = new Decoder({ onRecord: () => records++ });
    decoder.stableCaptureInput = stable;
    // The first push ends inside the first record header; the others cut records and messages anywhere.
    decoder.pushCapture(bytes.subarray(0, FIRST_PIECE));
    for (let o = FIRST_PIECE; o < length; o += PIECE)
      decoder.pushCapture(bytes.subarray(o, Math.min(length, o + PIECE)));
    decoder.end();
  }
  return records;
}

/** One channel of the warm-up circuit: its ids and the DBR type its reads and monitors use. */
interface WarmChannel {
  name: string;
  cid: number;
  sid: number;
  type: number;
  count: number;
}

const TIME_META: DbrMetadata = { status: 0, severity: 0, timestamp: T0 };

/**
 * The warm-up capture: searches (answered, unanswered, batched), beacons and a repeater registration over
 * UDP; a circuit with a handshake that creates channels of the common DBR types, reads and monitors them
 * (scalars, short and long arrays, a waveform split over segments with an extended header), writes,
 * cancels, errors and clears, then ends with FIN; a second circuit that fails a create, is disconnected
 * by its server and ends with RST; a third that goes quiet until it times out.
 */
export function warmUpCapture(): Uint8Array {
  const w = new PcapWriter();
  let t = T0;
  const tick = (): number => (t += 0.001);

  const channels: WarmChannel[] = [
    { name: 'warm:double', cid: 1, sid: 101, type: DbrType.TIME_DOUBLE, count: 1 },
    { name: 'warm:long', cid: 2, sid: 102, type: DbrType.TIME_LONG, count: 1 },
    { name: 'warm:short', cid: 3, sid: 103, type: DbrType.TIME_SHORT, count: 32 },
    { name: 'warm:float', cid: 4, sid: 104, type: DbrType.TIME_FLOAT, count: 1 },
    { name: 'warm:char', cid: 5, sid: 105, type: DbrType.TIME_CHAR, count: 1 },
    { name: 'warm:string', cid: 6, sid: 106, type: DbrType.TIME_STRING, count: 1 },
    { name: 'warm:enum', cid: 7, sid: 107, type: DbrType.TIME_ENUM, count: 1 },
    { name: 'warm:enumctrl', cid: 11, sid: 111, type: DbrType.CTRL_ENUM, count: 1 },
    { name: 'warm:wave64', cid: 8, sid: 108, type: DbrType.TIME_DOUBLE, count: 64 },
    { name: 'warm:wave300', cid: 9, sid: 109, type: DbrType.DOUBLE, count: 300 },
    { name: 'warm:waveform', cid: 10, sid: 110, type: DbrType.TIME_DOUBLE, count: WAVEFORM },
  ];

  // UDP: a batched search answered for every channel, a search nobody answers, beacons, the repeater.
  const search = concatBytes([
    build.versionRequest({ priority: 0, version: 13, sequence: 1 }),
    ...channels.map((c) => build.searchRequest({ name: c.name, cid: c.cid, reply: 5 })),
  ]);
  w.udp(tick(), CLIENT, 40001, BROADCAST, SERVER_PORT, search);
  w.udp(tick(), CLIENT, 40001, BROADCAST, SERVER_PORT, build.searchRequest({ name: 'warm:missing', cid: 99 }));
  w.udp(
    tick(),
    SERVER,
    SERVER_PORT,
    CLIENT,
    40001,
    concatBytes([
      build.versionResponse({ version: 13, sequence: 1 }),
      ...channels.map((c) => build.searchResponse({ port: SERVER_PORT, ip: SERVER, cid: c.cid })),
    ]),
  );
  w.udp(tick(), SERVER, 40002, BROADCAST, REPEATER_PORT, build.beacon({ server_port: SERVER_PORT, beacon_id: 1 }));
  w.udp(tick(), CLIENT, 40003, '127.0.0.1', REPEATER_PORT, build.repeaterRegisterRequest({ client_address: CLIENT }));
  w.udp(tick(), '127.0.0.1', REPEATER_PORT, CLIENT, 40003, build.repeaterConfirmResponse({ repeater_address: CLIENT }));

  const tcp = new TcpConversation(w, CLIENT, 45001, SERVER, SERVER_PORT, ISN).open(tick());
  tcp.send(
    tick(),
    true,
    concatBytes([
      build.versionRequest({ priority: 0, version: 13 }),
      build.clientNameRequest({ name: 'warm' }),
      build.hostNameRequest({ name: 'warm-host' }),
      ...channels.map((c) => build.createChanRequest({ name: c.name, cid: c.cid, version: 13 })),
    ]),
  );
  tcp.send(
    tick(),
    false,
    concatBytes([
      build.versionResponse({ version: 13 }),
      ...channels.flatMap((c) => [
        build.accessRightsResponse({ cid: c.cid, access_rights: 3 }),
        build.createChanResponse({ data_type: c.type % 7, data_count: c.count, cid: c.cid, sid: c.sid }),
      ]),
    ]),
  );

  // Reads of every channel in its own type, then in the CTRL, GR, STS and plain types of the scalars.
  let ioid = 1;
  const reads: { c: WarmChannel; type: number; ioid: number }[] = [];
  for (const c of channels) if (c.count !== WAVEFORM) reads.push({ c, type: c.type, ioid: ioid++ });
  for (const c of channels.slice(0, 7)) {
    const native = c.type % 7;
    for (const type of [native, native + DbrType.STS_STRING, native + DbrType.GR_STRING, native + DbrType.CTRL_STRING])
      reads.push({ c, type, ioid: ioid++ });
  }
  for (const r of reads) {
    tcp.send(
      tick(),
      true,
      build.readNotifyRequest({ data_type: r.type, data_count: r.c.count, sid: r.c.sid, ioid: r.ioid }),
    );
    sendLarge(tcp, tick(), false, build.readNotifyResponse({ ...dataOf(r.type, r.c.count), ioid: r.ioid }));
  }

  // Monitors: several updates each (batched in one segment), a cancel with its confirmation.
  let subscriptionid = 1000;
  const subs = channels.map((c) => ({ c, id: subscriptionid++ }));
  tcp.send(
    tick(),
    true,
    concatBytes(
      subs.map((s) =>
        build.eventAddRequest({
          data_type: s.c.type,
          data_count: s.c.count,
          sid: s.c.sid,
          subscriptionid: s.id,
          mask: 5,
        }),
      ),
    ),
  );
  // Encoding is slow next to decoding: each update is made once and sent again, the waveform's zero-filled.
  const updates = subs.map((s) =>
    s.c.count === WAVEFORM
      ? build.eventAddResponse({ data_type: s.c.type, data_count: s.c.count, subscriptionid: s.id })
      : build.eventAddResponse({ ...dataOf(s.c.type, s.c.count), subscriptionid: s.id }),
  );
  for (let round = 0; round < 3; round++) for (const u of updates) sendLarge(tcp, tick(), false, u);
  // An empty update of a live subscription (4.13 servers send them), then a cancel and its confirmation.
  const live = subs[0];
  tcp.send(
    tick(),
    false,
    build.eventAddResponse({ data_type: DbrType.DOUBLE, data_count: 0, subscriptionid: live.id }),
  );
  const cancelled = subs[1];
  tcp.send(
    tick(),
    true,
    build.eventCancelRequest({ data_type: cancelled.c.type, sid: cancelled.c.sid, subscriptionid: cancelled.id }),
  );
  tcp.send(
    tick(),
    false,
    build.eventCancelResponse({ data_type: cancelled.c.type, sid: cancelled.c.sid, subscriptionid: cancelled.id }),
  );

  // Small messages of many command shapes in extended headers (as big waveforms come), so that marking a
  // command `extended` meets five shapes or more here: it then compiles to a generic store. With the two
  // shapes of the warm-up waveform only, each new shape met in a capture (the first CTRL read of a
  // waveform, a waveform read without metadata...) threw away the optimised message handler with all
  // it inlines, three times in the first 40k records of realistic.pcap, each costing a recompile and
  // unoptimised decoding until then.
  const wave = channels.find((c) => c.count === 300) as WarmChannel;
  for (const type of [DbrType.DOUBLE, DbrType.TIME_DOUBLE, DbrType.CTRL_DOUBLE, DbrType.TIME_ENUM]) {
    const read = ioid++;
    tcp.send(tick(), true, build.readNotifyRequest({ data_type: type, data_count: 4, sid: wave.sid, ioid: read }));
    tcp.send(tick(), false, inExtendedHeader(build.readNotifyResponse({ ...dataOf(type, 4), ioid: read })));
  }
  for (const type of [DbrType.DOUBLE, DbrType.TIME_DOUBLE, DbrType.GR_DOUBLE])
    tcp.send(
      tick(),
      false,
      inExtendedHeader(build.eventAddResponse({ ...dataOf(type, 4), subscriptionid: subs[subs.length - 1].id })),
    );
  tcp.send(
    tick(),
    true,
    concatBytes([
      inExtendedHeader(build.writeRequest({ data_type: DbrType.DOUBLE, data: [1, 2], sid: wave.sid, ioid: ioid++ })),
      inExtendedHeader(
        build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [1, 2], sid: wave.sid, ioid: ioid++ }),
      ),
    ]),
  );

  // The same for `truncated`: messages cut by the snapshot length (live loopback captures cut their 64 KiB
  // segments), each in a segment of its own whose cut the deframer bridges.
  const CUT = 24;
  for (const type of [DbrType.DOUBLE, DbrType.TIME_DOUBLE, DbrType.CTRL_DOUBLE, DbrType.TIME_ENUM]) {
    const read = ioid++;
    tcp.send(tick(), true, build.readNotifyRequest({ data_type: type, data_count: 8, sid: wave.sid, ioid: read }));
    tcp.send(tick(), false, build.readNotifyResponse({ ...dataOf(type, 8), ioid: read }), CUT);
  }
  for (const type of [DbrType.DOUBLE, DbrType.TIME_DOUBLE])
    tcp.send(
      tick(),
      false,
      build.eventAddResponse({ ...dataOf(type, 8), subscriptionid: subs[subs.length - 1].id }),
      CUT,
    );
  const cutWrite = { data_type: DbrType.DOUBLE, data: [1, 2, 3, 4], sid: wave.sid };
  tcp.send(tick(), true, build.writeRequest({ ...cutWrite, ioid: ioid++ }), CUT);
  tcp.send(tick(), true, build.writeNotifyRequest({ ...cutWrite, ioid: ioid++ }), CUT);

  // Writes (with and without a reply, one failed), flow control, echo, an error, a clear.
  const dbl = channels[0];
  tcp.send(tick(), true, build.writeRequest({ data_type: DbrType.DOUBLE, data: [1.5], sid: dbl.sid, ioid: ioid++ }));
  for (const status of [Eca.ECA_NORMAL, Eca.ECA_PUTFAIL]) {
    const id = ioid++;
    tcp.send(
      tick(),
      true,
      build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [2.5], sid: dbl.sid, ioid: id }),
    );
    tcp.send(tick(), false, build.writeNotifyResponse({ data_type: DbrType.DOUBLE, status, ioid: id }));
  }
  tcp.send(tick(), true, concatBytes([build.eventsOffRequest(), build.eventsOnRequest(), build.readSyncRequest()]));
  tcp.send(tick(), true, build.echoRequest());
  tcp.send(tick(), false, build.echoResponse());
  const badRead = build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 999, ioid });
  tcp.send(tick(), true, badRead);
  tcp.send(
    tick(),
    false,
    build.error({ original: badRead, cid: 999, status: Eca.ECA_BADCHID, message: 'warm-up error' }),
  );
  tcp.send(tick(), true, build.clearChannelRequest({ sid: dbl.sid, cid: dbl.cid }));
  tcp.send(tick(), false, build.clearChannelResponse({ sid: dbl.sid, cid: dbl.cid }));
  tcp.close(tick());

  // A second circuit: a failed create, a server disconnect, then a reset.
  const other = new TcpConversation(w, CLIENT, 45002, SERVER, SERVER_PORT, ISN).open(tick());
  other.send(
    tick(),
    true,
    concatBytes([
      build.versionRequest({ priority: 0, version: 13 }),
      build.createChanRequest({ name: 'warm:gone', cid: 50, version: 13 }),
      build.createChanRequest({ name: 'warm:failed', cid: 51, version: 13 }),
    ]),
  );
  other.send(
    tick(),
    false,
    concatBytes([
      build.versionResponse({ version: 13 }),
      build.accessRightsResponse({ cid: 50, access_rights: 1 }),
      build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: 50, sid: 150 }),
      build.createChFailResponse({ cid: 51 }),
    ]),
  );
  other.send(tick(), false, build.serverDisconnResponse({ cid: 50 }));
  other.reset(tick());
  // A third circuit goes quiet; beacons over ten minutes make the reassembler's sweep forget the closed
  // connections and time the quiet one out.
  new TcpConversation(w, CLIENT, 45003, SERVER, SERVER_PORT, ISN)
    .open(tick())
    .send(tick(), true, build.versionRequest({ priority: 0, version: 13 }));
  [20, 20, 20, IDLE_AFTER].forEach((after, i) => {
    t += after;
    w.udp(t, SERVER, 40002, BROADCAST, REPEATER_PORT, build.beacon({ server_port: SERVER_PORT, beacon_id: 2 + i }));
  });
  return w.bytes();
}

/** A DBR payload of `count` elements of `type` with TIME-style metadata (and units, limits, states). */
function dataOf(type: number, count: number): { data_type: number; data: (number | string)[]; metadata: DbrMetadata } {
  const native = type % 7;
  const data: (number | string)[] = [];
  for (let i = 0; i < count; i++) data.push(native === DbrType.STRING ? `s${i}` : native === DbrType.ENUM ? i % 2 : i);
  const metadata: DbrMetadata =
    native === DbrType.ENUM
      ? { ...TIME_META, enumStrings: ['Off', 'On'] }
      : { ...TIME_META, units: 'mm', precision: 3 };
  return { data_type: type, data, metadata };
}

/** `message` again with the 24-byte extended header that large ones have (legal for any message). */
function inExtendedHeader(message: Uint8Array): Uint8Array {
  const h = readHeader(message);
  if (h === undefined) throw new Error('warm-up: no header');
  return encodeMessage(h, message.subarray(h.headerSize), { extended: true });
}

/** Sends a message in segments of at most 16 KiB, so the waveform spans several. */
function sendLarge(tcp: TcpConversation, ts: number, fromClient: boolean, message: Uint8Array): void {
  const segment = 16_384;
  for (let o = 0; o < message.length; o += segment) tcp.send(ts, fromClient, message.subarray(o, o + segment));
}
