/**
 * The Channels, Servers, Clients and Searches views on a scenario the old views got wrong: two client
 * processes on one host (same host and user names, same CIDs, same PV), one of them retrying its search.
 */
import { CaptureReader, PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';

const HOST = '10.0.0.5';
const SERVER = '10.0.0.9';
const T0 = 1_700_000_000;
const PV = 'demo:ai1';

function engineOf(b: PcapWriter): Engine {
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: 'scenario.pcap' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: () => undefined,
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
  });
  const reader = new CaptureReader({
    frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(b.bytes());
  reader.end();
  return engine;
}

/** A client process: a UDP search socket and one circuit, both from `HOST`. */
class Process {
  readonly circuit: TcpConversation;
  constructor(
    readonly b: PcapWriter,
    readonly udpPort: number,
    tcpPort: number,
  ) {
    this.circuit = new TcpConversation(b, HOST, tcpPort, SERVER, 5064);
  }

  search(t: number, cid: number, sequence: number): this {
    this.b.udp(
      t,
      HOST,
      this.udpPort,
      SERVER,
      5064,
      concatBytes([build.versionRequest({ sequence }), build.searchRequest({ name: PV, cid })]),
    );
    return this;
  }

  reply(t: number, cid: number, sequence: number): this {
    this.b.udp(
      t,
      SERVER,
      5064,
      HOST,
      this.udpPort,
      concatBytes([build.versionResponse({ sequence }), build.searchResponse({ port: 5064, cid })]),
    );
    return this;
  }

  connect(t: number): this {
    this.circuit.open(t);
    this.circuit.send(
      t,
      true,
      concatBytes([
        build.versionRequest({ priority: 0, version: 13 }),
        build.clientNameRequest({ name: 'alice' }),
        build.hostNameRequest({ name: 'ws1' }),
      ]),
    );
    this.circuit.send(t + 0.001, false, build.versionResponse({ version: 13 }));
    return this;
  }

  create(t: number, cid: number, sid: number): this {
    this.circuit.send(t, true, build.createChanRequest({ name: PV, cid, version: 13 }));
    this.circuit.send(
      t + 0.001,
      false,
      concatBytes([
        build.accessRightsResponse({ cid, access_rights: 3 }),
        build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid, sid }),
      ]),
    );
    return this;
  }

  monitor(t: number, sid: number, subscriptionid: number, values: number[]): this {
    this.circuit.send(
      t,
      true,
      build.eventAddRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid, subscriptionid, mask: 1 }),
    );
    values.forEach((v, i) =>
      this.circuit.send(
        t + 0.01 * (i + 1),
        false,
        build.eventAddResponse({ data_type: DbrType.DOUBLE, data: [v], subscriptionid }),
      ),
    );
    return this;
  }

  /** READ_NOTIFY, then an old-style READ, each answered with `value`. */
  read(t: number, sid: number, ioid: number, value: number): this {
    this.circuit.send(t, true, build.readNotifyRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid, ioid }));
    this.circuit.send(t + 0.001, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [value], ioid }));
    this.circuit.send(
      t + 0.01,
      true,
      build.readRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid, ioid: ioid + 1 }),
    );
    this.circuit.send(
      t + 0.011,
      false,
      build.readResponse({ data_type: DbrType.DOUBLE, data: [value + 1], sid, ioid: ioid + 1 }),
    );
    return this;
  }

  clear(t: number, cid: number, sid: number): this {
    this.circuit.send(t, true, build.clearChannelRequest({ sid, cid }));
    this.circuit.send(t + 0.001, false, build.clearChannelResponse({ sid, cid }));
    return this;
  }
}

/**
 * Process A (search socket 40000, circuit 45000) retries its search twice before the IOC answers 2 ms after
 * the third request; it opens the PV twice on its circuit. Process B (40001, 45001) searches once with the
 * same CID, is answered in 2 ms, subscribes, then clears its channel.
 */
function twoProcesses(): { b: PcapWriter; a: Process; p: Process } {
  const b = new PcapWriter();
  const a = new Process(b, 40000, 45000);
  const p = new Process(b, 40001, 45001);
  a.search(T0, 1, 1).search(T0 + 1, 1, 2);
  p.search(T0 + 1.5, 1, 1).reply(T0 + 1.502, 1, 1);
  p.connect(T0 + 1.6)
    .create(T0 + 1.7, 1, 100)
    .monitor(T0 + 2, 100, 7, [1]);
  a.search(T0 + 3, 1, 3).reply(T0 + 3.002, 1, 3);
  a.connect(T0 + 3.1)
    .create(T0 + 3.2, 1, 200)
    .create(T0 + 3.3, 2, 201);
  a.monitor(T0 + 4, 200, 1, [1, 2, 3]).monitor(T0 + 5, 201, 2, [4, 5]);
  p.clear(T0 + 6, 1, 100);
  return { b, a, p };
}

describe('Engine views: numbers that stay true with several clients', () => {
  it("charges a server the reply time to the request it answers, not the client's wait across retries", () => {
    const engine = engineOf(twoProcesses().b);
    const search = engine.servers().find((s) => s.address === `${SERVER}:5064`)?.latency.search;
    expect(search?.count).toBe(2);
    expect(search?.max).toBeCloseTo(0.002, 6);
    expect(search?.mean).toBeCloseTo(0.002, 6);
    // The wait across retries is the PV's time to find, a separate figure.
    const row = engine.searches().find((s) => s.pv === PV);
    expect(row?.timeToFind?.count).toBe(2);
    expect(row?.timeToFind?.max).toBeCloseTo(3.002, 6);
    expect(row?.timeToFind?.min).toBeCloseTo(0.002, 6);
  });

  it('keys channels by circuit and CID: own search figures and updates per client, same PV twice on one circuit', () => {
    const engine = engineOf(twoProcesses().b);
    const rows = engine.channels().filter((c) => c.pv === PV);
    const by = (client: string, cid: number) => rows.find((c) => c.client === client && c.cid === cid);
    expect(rows).toHaveLength(3);
    const a1 = by(`${HOST}:45000`, 1);
    const a2 = by(`${HOST}:45000`, 2);
    const b1 = by(`${HOST}:45001`, 1);
    expect(a1).toMatchObject({ updates: 3, lastValue: [3], state: 'connected', closedAt: null });
    expect(a1?.searchLatency).toBeCloseTo(0.002, 6);
    expect(a1?.timeToFind).toBeCloseTo(3.002, 6);
    // Opened again without a search of its own: no search figures borrowed from the first.
    expect(a2).toMatchObject({ updates: 2, lastValue: [5], searchLatency: null, timeToFind: null });
    expect(b1?.updates).toBe(1);
    expect(b1?.searchLatency).toBeCloseTo(0.002, 6);
    expect(b1?.timeToFind).toBeCloseTo(0.002, 6);
  });

  it('keeps closed channels listed with state closed and when, after the decoder forgets them', () => {
    const { b, a } = twoProcesses();
    // Later traffic on A's circuit lets the decoder expire B's cleared channel (its TTL is a minute).
    a.circuit.send(T0 + 500, true, build.echoRequest()).send(T0 + 500.001, false, build.echoResponse());
    const engine = engineOf(b);
    expect(Array.from(engine.state.channels.values()).some((c) => c.client === `${HOST}:45001`)).toBe(false);
    const closed = engine.channels().find((c) => c.client === `${HOST}:45001`);
    expect(closed).toMatchObject({ pv: PV, state: 'closed', subscriptions: 0, updates: 1 });
    expect(closed?.closedAt).toBeCloseTo(T0 + 6.001, 6);
    // Live channels come first.
    expect(engine.channels().map((c) => c.state)).toEqual(['connected', 'connected', 'closed']);
    expect(engine.channels(2).map((c) => c.state)).toEqual(['connected', 'connected']);
    // A snapshot says what its list was cut from.
    expect(JSON.parse(engine.snapshotText()).channelTotals).toEqual({ open: 2, closed: 1, closedDropped: 0 });
  });

  it('lists client processes, not hosts: each search socket with the circuit its searches led to', () => {
    const engine = engineOf(twoProcesses().b);
    const clients = engine.clients();
    expect(clients.map((c) => c.process).sort()).toEqual([`udp ${HOST}:40000`, `udp ${HOST}:40001`]);
    const a = clients.find((c) => c.searchPort === 40000);
    const p = clients.find((c) => c.searchPort === 40001);
    expect(a).toMatchObject({
      host: HOST,
      hostname: 'ws1',
      user: 'alice',
      circuits: 1,
      circuitEndpoints: [`${HOST}:45000`],
      channels: 2,
      searches: 3,
    });
    expect(p).toMatchObject({
      host: HOST,
      hostname: 'ws1',
      user: 'alice',
      circuits: 1,
      circuitEndpoints: [`${HOST}:45001`],
      searches: 1,
    });
    // Each process's own wait for the name.
    expect(a?.timeToFind?.max).toBeCloseTo(3.002, 6);
    expect(p?.timeToFind?.max).toBeCloseTo(0.002, 6);
  });

  it('never lets channels the capture cannot name crowd named ones out of a cut list', () => {
    // After decoder drops, requests arrive for SIDs whose creation was never seen: the decoder keeps them
    // as channels without a PV name, newer than the named ones.
    const b = new PcapWriter();
    const p = new Process(b, 40004, 45004)
      .connect(T0)
      .create(T0 + 0.1, 1, 10)
      .create(T0 + 0.2, 2, 20);
    for (let sid = 100; sid < 110; sid++) {
      p.circuit.send(
        T0 + 1 + sid / 1000,
        true,
        build.readNotifyRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid, ioid: sid }),
      );
    }
    const engine = engineOf(b);
    expect(engine.state.channels.size).toBe(12);
    expect(engine.channels(2).map((c) => c.cid)).toEqual([1, 2]);
  });

  it('takes last values from read replies of the channel read, old-style READ included', () => {
    const b = new PcapWriter();
    new Process(b, 40003, 45003)
      .connect(T0)
      .create(T0 + 0.1, 5, 50)
      .create(T0 + 0.2, 6, 60)
      .read(T0 + 1, 60, 9, 2.5);
    const rows = engineOf(b).channels();
    expect(rows.find((c) => c.cid === 6)).toMatchObject({ lastValue: [3.5], updates: 0 });
    expect(rows.find((c) => c.cid === 5)).toMatchObject({ lastValue: null });
  });

  it('gives a circuit no captured search led to a row of its own', () => {
    const b = new PcapWriter();
    new Process(b, 40002, 45002).connect(T0).create(T0 + 0.1, 5, 50);
    const clients = engineOf(b).clients();
    expect(clients).toEqual([
      expect.objectContaining({
        process: `tcp ${HOST}:45002`,
        searchPort: null,
        circuits: 1,
        channels: 1,
        searches: 0,
      }),
    ]);
  });
});
