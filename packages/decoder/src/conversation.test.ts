import { describe, expect, it } from 'vitest';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { createDecoder } from './decoder.js';
import { lentBytes } from './emit.js';
import type { CaRecord } from './record.js';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { CLIENT, SERVER, T0, decode, summary, workedCircuit, workedExample } from './test-support/scenario.js';

const WORKED_LINES = [
  'VersionRequest request/certain pv=-',
  'SearchRequest request/certain pv=demo:ai1',
  'VersionRequest request/certain pv=-',
  'SearchRequest request/certain pv=demo:ai1',
  'VersionResponse response/certain pv=- <- VersionRequest@2 0.050s',
  // The reply answers the retry (frame 2, 0.05 s before it), not the first request 0.15 s earlier.
  'SearchResponse response/certain pv=demo:ai1 <- SearchRequest@2 0.050s',
  'VersionRequest request/certain pv=-',
  'ClientNameRequest request/certain pv=-',
  'HostNameRequest request/certain pv=-',
  'CreateChanRequest request/certain pv=demo:ai1',
  'VersionResponse response/certain pv=-',
  'AccessRightsResponse response/certain pv=demo:ai1',
  'CreateChanResponse response/certain pv=demo:ai1 <- CreateChanRequest@7 0.010s',
  'ReadNotifyRequest request/certain pv=demo:ai1',
  'ReadNotifyResponse response/certain pv=demo:ai1 <- ReadNotifyRequest@9 0.010s',
  'EventAddRequest request/certain pv=demo:ai1',
  'EventAddResponse response/certain pv=demo:ai1 <- EventAddRequest@11 0.010s',
  'WriteNotifyRequest request/certain pv=demo:ai1',
  'WriteNotifyResponse response/certain pv=demo:ai1 <- WriteNotifyRequest@13 0.010s',
  'EventCancelRequest request/certain pv=demo:ai1',
  'EventCancelResponse response/certain pv=demo:ai1 <- EventCancelRequest@15 0.010s',
  'EchoRequest request/certain pv=-',
  'EchoResponse response/certain pv=- <- EchoRequest@17 0.010s',
  'ClearChannelRequest request/certain pv=demo:ai1',
  'ClearChannelResponse response/certain pv=demo:ai1 <- ClearChannelRequest@19 0.010s',
];

/** The same lines with request frame numbers moved by `delta` (a capture without some frames). */
function shiftFrames(lines: string[], delta: number): string[] {
  return lines.map((l) => l.replace(/@(\d+)/, (_, n: string) => `@${Number(n) + delta}`));
}

describe('conversation: the reference worked example (§7.2)', () => {
  it('names the PV on every channel message and pairs every response with its request', async () => {
    const records = await decode(workedExample().bytes());
    expect(records.map(summary)).toEqual(WORKED_LINES);
  });

  it('fills circuit, channel, server, client and search state', async () => {
    const d = createDecoder();
    d.pushCapture(workedExample().bytes());
    d.end();
    const st = d.state;
    const [circuit] = [...st.circuits.values()];
    expect(circuit).toMatchObject({
      client: `${CLIENT}:45000`,
      server: `${SERVER}:5064`,
      clientSide: 'a',
      roleCertainty: 'certain',
      recognisedBy: 'port',
      clientMinor: 13,
      serverMinor: 13,
      priority: 0,
      userName: 'alice',
      hostName: 'ws1',
      closeReason: 'fin',
    });
    const [channel] = [...st.channels.values()];
    expect(channel).toMatchObject({
      pv: 'demo:ai1',
      cid: 7,
      sid: 42,
      nativeType: DbrType.DOUBLE,
      nativeCount: 1,
      accessRights: 3,
      status: 'cleared',
    });
    expect(channel.connectLatency).toBeCloseTo(0.01, 6);
    const search = st.searches.get(`${CLIENT}:40000/7`);
    expect(search).toMatchObject({
      pv: 'demo:ai1',
      requests: 2,
      firstSequence: 1,
      lastSequence: 2,
      answeredBy: [`${SERVER}:5064`],
    });
    expect(search?.first.frame).toBe(1);
    expect(st.servers.get(`${SERVER}:5064`)).toMatchObject({ searchReplies: 1, circuits: 1, minor: 13 });
    expect(st.clients.get(`${CLIENT}:40000`)).toMatchObject({ searchDatagrams: 2, searches: 2, lastSequence: 2 });
    expect(st.statistics).toMatchObject({ messages: 25, malformed: 0, records: 25 });
    expect(st.statistics.byCommand.SearchRequest).toBe(2);
  });

  it('gives client and server endpoints and the circuit id on TCP records', async () => {
    const records = await decode(workedExample().bytes());
    const create = records.find((r) => r.command.name === 'CreateChanResponse') as CaRecord;
    expect(create).toMatchObject({
      client: `${CLIENT}:45000`,
      server: `${SERVER}:5064`,
      src: SERVER,
      dst: CLIENT,
      size: 16,
    });
    expect(typeof create.circuit).toBe('number');
    const reply = records.find((r) => r.command.name === 'SearchResponse') as CaRecord;
    expect(reply).toMatchObject({ client: `${CLIENT}:40000`, server: `${SERVER}:5064`, circuit: undefined });
  });

  it('keeps message bytes only when asked', async () => {
    const without = await decode(workedExample().bytes());
    expect(without.every((r) => r.raw === undefined)).toBe(true);
    const withBytes = await decode(workedExample().bytes(), { keepBytes: true });
    const create = withBytes.find((r) => r.command.name === 'CreateChanResponse') as CaRecord;
    expect(Array.from(create.raw ?? [])).toEqual(
      Array.from(build.createChanResponse({ data_type: 6, data_count: 1, cid: 7, sid: 42 })),
    );
  });

  it("lends message bytes during onRecord only with keepBytes 'lend', and a copy made then stays", () => {
    const lentSizes: number[] = [];
    const records: CaRecord[] = [];
    const d = createDecoder({
      keepBytes: 'lend',
      onRecord: (r) => {
        expect(r.raw).toBeUndefined();
        lentSizes.push(lentBytes(r)?.length ?? -1);
        // The keeper copies the bytes of the records it keeps (here: the channel creation reply).
        if (r.command.name === 'CreateChanResponse') r.raw = lentBytes(r)?.slice();
        records.push(r);
      },
    });
    d.pushCapture(workedExample().bytes());
    d.end();
    const sized = records.filter((r) => r.size > 0);
    expect(sized.length).toBeGreaterThan(0);
    // Every message's bytes were there while it was handed out, as many as its size.
    expect(records.filter((r, i) => r.size > 0 && lentSizes[i] === r.size)).toHaveLength(sized.length);
    // Not lent afterwards; the copy stays.
    expect(records.every((r) => lentBytes(r) === undefined)).toBe(true);
    const create = records.find((r) => r.command.name === 'CreateChanResponse') as CaRecord;
    expect(records.filter((r) => r.raw !== undefined)).toEqual([create]);
    expect(Array.from(create.raw ?? [])).toEqual(
      Array.from(build.createChanResponse({ data_type: 6, data_count: 1, cid: 7, sid: 42 })),
    );
  });
});

describe('conversation: which TCP traffic is CA', () => {
  it('recognises a circuit on an unknown port by its opening (no search reply in the capture)', async () => {
    const records = await decode(workedExample({ port: 50421, search: false }).bytes());
    expect(records.map(summary)).toEqual(shiftFrames(WORKED_LINES.slice(6), -3));
  });

  it('recognises a circuit on a port learned from a search reply, even without its handshake', async () => {
    const d = createDecoder();
    const recs: CaRecord[] = [];
    d.onRecord = (r) => recs.push(r);
    d.pushCapture(workedExample({ port: 40001, handshake: false }).bytes());
    d.end();
    expect(recs.filter((r) => r.transport.protocol === 'tcp').map(summary)).toEqual(
      shiftFrames(WORKED_LINES.slice(6), -3),
    );
    expect([...d.state.circuits.values()][0]).toMatchObject({ recognisedBy: 'learned-port', roleCertainty: 'certain' });
  });

  it('recognises a circuit on a port learned from a beacon', async () => {
    const b = new PcapWriter();
    b.udp(T0, SERVER, 33333, '10.0.0.255', 5065, build.beacon({ server_port: 40002, beacon_id: 4 }));
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 40002);
    // Mid-circuit: no handshake, and the first bytes are a reply (not an opening).
    c.send(T0 + 1, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1], ioid: 9 }));
    c.send(T0 + 1.1, true, build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 3, ioid: 10 }));
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'Beacon response/certain pv=-',
      'ReadNotifyResponse response/certain pv=-',
      'ReadNotifyRequest request/certain pv=-',
    ]);
    expect(records[0]).toMatchObject({ server: `${SERVER}:40002` });
  });

  it('decodes the buffered early bytes of a flow whose port is learned later', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 40003);
    // Mid-stream, one message: not enough to recognise the flow by itself.
    c.send(T0, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1], ioid: 9 }));
    b.udp(T0 + 1, SERVER, 33333, '10.0.0.255', 5065, build.beacon({ server_port: 40003, beacon_id: 4 }));
    c.send(T0 + 2, true, build.echoRequest());
    const records = await decode(b.bytes());
    expect(records.map((r) => `${r.frame} ${summary(r)}`)).toEqual([
      // Learned while handling the beacon, before its record: capture order is kept.
      '1 ReadNotifyResponse response/certain pv=-',
      '2 Beacon response/certain pv=-',
      '3 EchoRequest request/certain pv=-',
    ]);
  });

  it('stays silent on ssh, http, tls and zero-filled TCP traffic', async () => {
    const b = new PcapWriter();
    const flows: [number, Uint8Array, Uint8Array][] = [
      [
        22,
        new TextEncoder().encode('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
        new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n'),
      ],
      [
        8080,
        new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
        new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'),
      ],
      [443, Uint8Array.from([0x16, 3, 1, 0, 0xa5, 1, 0, 0, 0xa1, 3, 3, ...new Array(40).fill(7)]), new Uint8Array(64)],
      [9000, new Uint8Array(256), new Uint8Array(256)],
    ];
    let port = 50000;
    for (const [sport, req, resp] of flows) {
      const c = new TcpConversation(b, CLIENT, port++, SERVER, sport).open(T0);
      c.send(T0 + 0.1, true, req)
        .send(T0 + 0.2, false, resp)
        .send(T0 + 0.3, true, req)
        .close(T0 + 1);
    }
    // And a mid-stream flow of zeros without handshake.
    new TcpConversation(b, CLIENT, 51000, SERVER, 9001)
      .send(T0, true, new Uint8Array(100))
      .send(T0, false, new Uint8Array(100));
    const d = createDecoder();
    const recs: CaRecord[] = [];
    d.onRecord = (r) => recs.push(r);
    d.pushCapture(b.bytes());
    d.end();
    expect(recs).toEqual([]);
    expect(d.state.circuits.size).toBe(0);
    expect(d.state.statistics.tcpFlowsOther).toBe(5);
  });

  it('recognises a CA circuit captured mid-stream on an unknown port from a run of CA messages', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 41000);
    c.send(
      T0,
      true,
      concatBytes([
        build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 3, ioid: 10 }),
        build.writeRequest({ data_type: DbrType.DOUBLE, data: [2], sid: 3, ioid: 1 }),
        build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 3, ioid: 11 }),
      ]),
    );
    c.send(T0 + 0.01, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [2], ioid: 10 }));
    const records = await decode(b.bytes());
    // WRITE is client-only: it directs the whole chunk, and the reply by its IOID.
    expect(records.map(summary)).toEqual([
      'ReadNotifyRequest request/inferred pv=-',
      'WriteRequest request/inferred pv=-',
      'ReadNotifyRequest request/inferred pv=-',
      'ReadNotifyResponse response/inferred pv=- <- ReadNotifyRequest@1 0.010s',
    ]);
  });
});

describe('conversation: roles', () => {
  it('labels UDP VERSIONs by port, not by their p1 (EPICS sequence numbers)', async () => {
    const b = new PcapWriter();
    b.udp(
      T0,
      CLIENT,
      40000,
      SERVER,
      5064,
      concatBytes([build.versionRequest({ sequence: 77 }), build.searchRequest({ name: 'x', cid: 1 })]),
    );
    b.udp(
      T0 + 0.001,
      SERVER,
      5064,
      CLIENT,
      40000,
      concatBytes([build.versionResponse({ sequence: 77 }), build.searchResponse({ cid: 1 })]),
    );
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'VersionRequest request/certain pv=-',
      'SearchRequest request/certain pv=x',
      'VersionResponse response/certain pv=- <- VersionRequest@1 0.001s',
      'SearchResponse response/certain pv=x <- SearchRequest@1 0.001s',
    ]);
  });

  it('labels an EPICS server VERSION (dt = p1 = 0) on TCP as a response', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    // RSRV may speak first.
    c.send(T0 + 0.001, false, build.versionResponse({ version: 13 }));
    c.send(T0 + 0.002, true, build.versionRequest({ priority: 0, version: 13 }));
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'VersionResponse response/certain pv=-',
      'VersionRequest request/certain pv=-',
    ]);
  });

  it('directs a circuit without handshake between two server ports from one-sided commands', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 5064, SERVER, 5064);
    c.send(T0, false, build.versionResponse({ version: 13 }));
    c.send(T0 + 0.1, true, concatBytes([build.versionRequest({ version: 13 }), build.hostNameRequest({ name: 'gw' })]));
    c.send(T0 + 0.2, true, build.echoRequest());
    c.send(T0 + 0.3, false, build.echoResponse());
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'VersionRequest request/guess pv=-',
      'VersionRequest request/inferred pv=-',
      'HostNameRequest request/inferred pv=-',
      'EchoRequest request/inferred pv=-',
      'EchoResponse response/inferred pv=- <- EchoRequest@3 0.100s',
    ]);
  });

  it('labels beacons, repeater registration (empty datagram) and confirmation', async () => {
    const b = new PcapWriter();
    b.udp(T0, CLIENT, 40000, '127.0.0.1', 5065, new Uint8Array(0));
    b.udp(T0 + 0.001, '127.0.0.1', 5065, CLIENT, 40000, build.repeaterConfirmResponse({ repeater_address: CLIENT }));
    b.udp(T0 + 1, SERVER, 33000, '10.0.0.255', 5065, build.beacon({ server_port: 5064, beacon_id: 1 }));
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'RepeaterRegisterRequest request/certain pv=-',
      'RepeaterConfirmResponse response/certain pv=-',
      'Beacon response/certain pv=-',
    ]);
  });
});

describe('conversation: mid-circuit captures', () => {
  it('groups a channel first seen by SID and names it when a CLEAR reveals its CID of a search', async () => {
    const b = new PcapWriter();
    b.udp(T0, CLIENT, 40000, SERVER, 5064, build.searchRequest({ name: 'late:pv', cid: 9 }));
    b.udp(T0 + 0.001, SERVER, 5064, CLIENT, 40000, build.searchResponse({ cid: 9 }));
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064); // no handshake: capture started later
    c.send(T0 + 1, true, build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 5, ioid: 1 }));
    c.send(T0 + 1.01, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [4], ioid: 1 }));
    c.send(T0 + 2, true, build.clearChannelRequest({ sid: 5, cid: 9 }));
    c.send(T0 + 2.01, false, build.clearChannelResponse({ sid: 5, cid: 9 }));
    const d = createDecoder();
    const recs: CaRecord[] = [];
    d.onRecord = (r) => recs.push(r);
    d.pushCapture(b.bytes());
    d.end();
    expect(recs.slice(2).map(summary)).toEqual([
      'ReadNotifyRequest request/certain pv=-',
      'ReadNotifyResponse response/certain pv=- <- ReadNotifyRequest@3 0.010s',
      'ClearChannelRequest request/certain pv=late:pv',
      'ClearChannelResponse response/certain pv=late:pv <- ClearChannelRequest@5 0.010s',
    ]);
    const channels = [...d.state.channels.values()];
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ sid: 5, cid: 9, pv: 'late:pv', messages: 4 });
  });

  it('groups monitor updates of an unseen EVENT_ADD and names them after the cancel', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064);
    const update = () => build.eventAddResponse({ data_type: DbrType.DOUBLE, data: [1], subscriptionid: 4 });
    c.send(T0, false, update());
    c.send(T0 + 0.5, true, build.createChanRequest({ name: 'other', cid: 1 }));
    c.send(T0 + 0.6, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: 1, sid: 8 }));
    c.send(T0 + 1, true, build.eventCancelRequest({ data_type: DbrType.DOUBLE, sid: 8, subscriptionid: 4 }));
    c.send(T0 + 1.01, false, build.eventCancelResponse({ data_type: DbrType.DOUBLE, sid: 8, subscriptionid: 4 }));
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'EventAddResponse response/certain pv=-',
      'CreateChanRequest request/certain pv=other',
      'CreateChanResponse response/certain pv=other <- CreateChanRequest@2 0.100s',
      'EventCancelRequest request/certain pv=other',
      'EventCancelResponse response/certain pv=other <- EventCancelRequest@4 0.010s',
    ]);
  });
});

describe('conversation: requests and latencies', () => {
  it('pairs replies by IOID across interleaved requests and reports errors against their request', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const { client, server } = workedCircuit();
    c.send(T0 + 0.1, true, client[0]).send(T0 + 0.11, false, server[0]);
    const rq = (ioid: number) => build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 42, ioid });
    c.send(T0 + 1, true, concatBytes([rq(100), rq(101)]));
    c.send(T0 + 1.5, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1], ioid: 101 }));
    c.send(T0 + 2, false, build.error({ original: rq(100), cid: 7, status: 152, message: 'get failed' }));
    const records = await decode(b.bytes());
    const tail = records.slice(-4).map(summary);
    expect(tail).toEqual([
      'ReadNotifyRequest request/certain pv=demo:ai1',
      'ReadNotifyRequest request/certain pv=demo:ai1',
      'ReadNotifyResponse response/certain pv=demo:ai1 <- ReadNotifyRequest@6 0.500s',
      'ErrorResponse response/certain pv=demo:ai1 <- ReadNotifyRequest@6 1.000s',
    ]);
  });

  it('links NOT_FOUND and CREATE_CH_FAIL to their requests', async () => {
    const b = new PcapWriter();
    b.udp(T0, CLIENT, 40000, SERVER, 5064, build.searchRequest({ name: 'nope', cid: 3, reply: 10 }));
    b.udp(T0 + 0.002, SERVER, 5064, CLIENT, 40000, build.notFoundResponse({ cid: 3 }));
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0 + 1);
    c.send(T0 + 1.1, true, build.createChanRequest({ name: 'gone', cid: 4 }));
    c.send(T0 + 1.2, false, build.createChFailResponse({ cid: 4 }));
    const records = await decode(b.bytes());
    expect(records.map(summary)).toEqual([
      'SearchRequest request/certain pv=nope',
      'NotFoundResponse response/certain pv=nope <- SearchRequest@1 0.002s',
      'CreateChanRequest request/certain pv=gone',
      'CreateChFailResponse response/certain pv=gone <- CreateChanRequest@6 0.100s',
    ]);
  });

  it('learns ENUM strings from a CTRL_ENUM reply and attaches them to later ENUM values', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    c.send(T0 + 0.1, true, build.createChanRequest({ name: 'mode', cid: 1 }));
    c.send(T0 + 0.2, false, build.createChanResponse({ data_type: DbrType.ENUM, data_count: 1, cid: 1, sid: 2 }));
    c.send(T0 + 0.3, true, build.readNotifyRequest({ data_type: DbrType.CTRL_ENUM, sid: 2, ioid: 1 }));
    c.send(
      T0 + 0.4,
      false,
      build.readNotifyResponse({
        data_type: DbrType.CTRL_ENUM,
        data: [1],
        ioid: 1,
        metadata: { enumStrings: ['Off', 'On'] },
      }),
    );
    c.send(T0 + 0.5, true, build.eventAddRequest({ data_type: DbrType.ENUM, sid: 2, subscriptionid: 3 }));
    c.send(T0 + 0.6, false, build.eventAddResponse({ data_type: DbrType.ENUM, data: [1], subscriptionid: 3 }));
    const records = await decode(b.bytes());
    const update = records[records.length - 1];
    expect(update.command.name).toBe('EventAddResponse');
    expect(JSON.stringify(update.command)).toContain('On');
  });
});

describe('conversation: faults', () => {
  it('turns a bad header into one Malformed record and keeps decoding the circuit', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const junk = Uint8Array.from([0x7f, 0x7f, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    c.send(T0 + 0.1, true, concatBytes([junk, build.echoRequest(), build.echoRequest()]));
    c.send(T0 + 0.2, false, build.echoResponse());
    const records = await decode(b.bytes());
    expect(records.map((r) => r.command.name)).toEqual(['Malformed', 'EchoRequest', 'EchoRequest', 'EchoResponse']);
    expect(records[0]).toMatchObject({ role: 'request', circuit: expect.any(Number), frame: 4, size: junk.length });
    expect(records[0].command).toMatchObject({ id: -1, length: junk.length });
    const bad = records[0].command;
    if (bad.name !== 'Malformed') throw new Error(`expected Malformed, got ${bad.name}`);
    expect(bad.hex).toMatch(/^7f7f/);
  });

  it('flags a UDP datagram its messages do not fill', async () => {
    const b = new PcapWriter();
    b.udp(
      T0,
      CLIENT,
      40000,
      SERVER,
      5064,
      concatBytes([build.versionRequest({ sequence: 1 }), Uint8Array.from([1, 2, 3])]),
    );
    const records = await decode(b.bytes());
    expect(records.map((r) => r.command.name)).toEqual(['VersionRequest', 'Malformed']);
    expect(records[1]).toMatchObject({ role: 'request', size: 3 });
  });

  it('makes no record for a gap that falls on a message boundary', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    c.send(T0 + 0.1, true, build.echoRequest());
    c.lose(true, 16); // a whole ECHO lost
    c.send(T0 + 0.3, true, concatBytes([build.echoRequest(), build.readSyncRequest()]));
    c.send(T0 + 0.4, false, build.echoResponse());
    const records = await decode(b.bytes());
    // The server's acknowledgement shows the lost bytes will not come again: the client's later bytes
    // follow a gap at once, before the server's echo (wire order).
    expect(records.map((r) => r.command.name)).toEqual([
      'EchoRequest',
      'EchoRequest',
      'ReadSyncRequest',
      'EchoResponse',
    ]);
  });

  it('keeps a message whose payload lost bytes, flagged truncated, and stays in step after it', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const write = build.writeNotifyRequest({
      data_type: DbrType.DOUBLE,
      data: Array.from({ length: 100 }, (_, i) => i),
      sid: 42,
      ioid: 3,
    });
    c.send(T0 + 0.1, true, build.echoRequest());
    // The header and the first 100 payload bytes, then 200 payload bytes the capture missed, then the rest.
    c.send(T0 + 0.2, true, write.subarray(0, 116));
    c.lose(true, 200);
    c.send(T0 + 0.3, true, concatBytes([write.subarray(316), build.echoRequest(), build.readSyncRequest()]));
    c.send(T0 + 0.4, false, build.echoResponse());
    const records = await decode(b.bytes());
    expect(records.map((r) => r.command.name)).toEqual([
      'EchoRequest',
      'WriteNotifyRequest',
      'EchoRequest',
      'ReadSyncRequest',
      'EchoResponse',
    ]);
    expect(records[1]).toMatchObject({ truncated: true, size: write.length, command: { sid: 42, ioid: 3 } });
  });

  it('reports a lost segment once and decodes what follows', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    c.send(T0 + 0.1, true, build.echoRequest());
    c.lose(true, 40);
    c.send(
      T0 + 0.3,
      true,
      concatBytes([Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]), build.echoRequest(), build.echoRequest()]),
    );
    c.send(T0 + 0.4, false, build.echoResponse());
    const d = createDecoder();
    const recs: CaRecord[] = [];
    d.onRecord = (r) => recs.push(r);
    d.pushCapture(b.bytes());
    d.end();
    // The packet layer holds the client's later bytes until the server acknowledges the lost ones, which
    // then cannot come again: they follow a gap, before the server's echo.
    expect(recs.map((r) => r.command.name)).toEqual([
      'EchoRequest',
      'Malformed',
      'EchoRequest',
      'EchoRequest',
      'EchoResponse',
    ]);
    expect(recs[1].command).toMatchObject({ code: 'gap' });
  });
});
