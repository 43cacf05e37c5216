/**
 * The simulated IOC on real loopback sockets, checked message by message with raw sockets (UDP search
 * batching, beacons, circuit opening, ERROR replies) and through the simulator's own client.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Command, DbrType, Deframer, Eca, ECA_NORMAL, build, concatBytes, deframeDatagram } from '@ca-shark/protocol';
import type { CaFrame } from '@ca-shark/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startIoc } from './server.js';
import type { IocHandle, IocOptions } from './server.js';
import { freeUdpPort, udpCollector, until } from './test-support/net.js';

const running: IocHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

async function ioc(options: IocOptions = {}): Promise<IocHandle> {
  const h = await startIoc({ prefix: 't:', port: 0, beacons: false, ...options });
  running.push(h);
  return h;
}

function frames(data: Uint8Array): CaFrame[] {
  const out: CaFrame[] = [];
  const ok = deframeDatagram(
    data,
    (f) => out.push({ ...f, payload: Uint8Array.from(f.payload), bytes: Uint8Array.from(f.bytes) }),
    (fault) => {
      throw new Error(`fault ${fault.code}: ${fault.message}`);
    },
  );
  expect(ok).toBe(true);
  return out;
}

/** Sends one datagram from a fresh loopback socket and collects the replies for `waitMs`. */
async function udpExchange(datagram: Uint8Array, port: number, address = '127.0.0.1', waitMs = 150): Promise<Buffer[]> {
  const s = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.setBroadcast(true);
  s.send(datagram, port, address);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return replies;
}

/** A raw TCP client: sends bytes, collects deframed replies. */
async function rawCircuit(
  port: number,
): Promise<{ frames: CaFrame[]; send: (b: Uint8Array) => void; socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const got: CaFrame[] = [];
  const deframer = new Deframer();
  socket.on('data', (d) =>
    deframer.push(
      d,
      (f) => got.push({ ...f, payload: Uint8Array.from(f.payload), bytes: Uint8Array.from(f.bytes) }),
      (fault) => {
        throw new Error(fault.message);
      },
    ),
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { frames: got, send: (b) => socket.write(b), socket, closed };
}

const open = (): Uint8Array =>
  concatBytes([
    build.versionRequest({ priority: 0 }),
    build.clientNameRequest({ name: 'tester' }),
    build.hostNameRequest({ name: 'box' }),
  ]);

describe('UDP name resolution', () => {
  it('batches replies in one datagram led by the echoed VERSION, with NOT_FOUND on DO_REPLY', async () => {
    const h = await ioc();
    const request = concatBytes([
      build.versionRequest({ sequence: 77 }),
      build.searchRequest({ name: 't:double', cid: 1 }),
      build.searchRequest({ name: 't:nothing', cid: 2, reply: 10 }),
      build.searchRequest({ name: 't:nothing2', cid: 3 }),
      build.searchRequest({ name: 't:enum', cid: 4 }),
    ]);
    const replies = await udpExchange(request, h.udpPort);
    expect(replies).toHaveLength(1);
    const f = frames(replies[0] as Buffer);
    expect(f.map((x) => x.command)).toEqual([Command.VERSION, Command.SEARCH, Command.NOT_FOUND, Command.SEARCH]);
    expect(f[0]).toMatchObject({ dataType: 1, dataCount: 13, parameter1: 77 });
    expect(f[1]).toMatchObject({
      dataType: h.tcpPort,
      dataCount: 0,
      parameter1: 0xffffffff,
      parameter2: 1,
      payloadSize: 8,
    });
    expect(f[1]?.payload.subarray(0, 2)).toEqual(Uint8Array.of(0, 13));
    expect(f[2]).toMatchObject({ dataType: 10, parameter1: 2, parameter2: 2, payloadSize: 0 });
    expect(f[3]).toMatchObject({ parameter2: 4 });
    expect(h.stats).toMatchObject({ searchRequests: 4, searchReplies: 2, notFoundReplies: 1 });
  });

  it('omits the VERSION when the request had none, and stays silent for unknown names', async () => {
    const h = await ioc();
    const f = frames((await udpExchange(build.searchRequest({ name: 't:long', cid: 9 }), h.udpPort))[0] as Buffer);
    expect(f.map((x) => x.command)).toEqual([Command.SEARCH]);
    expect(
      await udpExchange(
        concatBytes([build.versionRequest({ sequence: 1 }), build.searchRequest({ name: 'x', cid: 1 })]),
        h.udpPort,
      ),
    ).toEqual([]);
  });

  it('splits many replies into datagrams of at most 1472 bytes, each led by VERSION', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `t:pv${i}`);
    const h = await ioc({ pvs: 100 });
    const parts = [
      build.versionRequest({ sequence: 5 }),
      ...names.map((name, i) => build.searchRequest({ name, cid: 100 + i })),
    ];
    const replies = await udpExchange(concatBytes(parts), h.udpPort);
    expect(replies.length).toBeGreaterThan(1);
    const cids: number[] = [];
    for (const r of replies) {
      expect(r.length).toBeLessThanOrEqual(1472);
      const f = frames(r);
      expect(f[0]).toMatchObject({ command: Command.VERSION, parameter1: 5 });
      cids.push(...f.slice(1).map((x) => x.parameter2));
    }
    expect(cids).toEqual(names.map((_, i) => 100 + i));
  });

  it('receives searches broadcast to 127.255.255.255, several IOCs sharing one UDP port', async () => {
    const port = await freeUdpPort();
    const a = await ioc({ prefix: 'a:', port });
    const b = await ioc({ prefix: 'b:', port });
    expect(a.udpPort).toBe(port);
    expect(b.udpPort).toBe(port);
    // The second IOC's TCP port is busy: like RSRV it takes another one and announces it.
    expect(b.tcpPort).not.toBe(a.tcpPort);
    const request = concatBytes([
      build.versionRequest({ sequence: 3 }),
      build.searchRequest({ name: 'a:double', cid: 1 }),
      build.searchRequest({ name: 'b:double', cid: 2 }),
    ]);
    const replies = (await udpExchange(request, port, '127.255.255.255')).map((r) => frames(r));
    const found = replies.map((f) => [f[1]?.parameter2, f[1]?.dataType]).sort();
    expect(found).toEqual([
      [1, a.tcpPort],
      [2, b.tcpPort],
    ]);
  });

  it('can be told to ignore searches and to answer late', async () => {
    const h = await ioc();
    h.hooks.ignoreSearches = true;
    expect(await udpExchange(build.searchRequest({ name: 't:long', cid: 1 }), h.udpPort, '127.0.0.1', 80)).toEqual([]);
    h.hooks.ignoreSearches = false;
    h.hooks.searchReplyDelayMs = 300;
    expect(await udpExchange(build.searchRequest({ name: 't:long', cid: 1 }), h.udpPort, '127.0.0.1', 50)).toEqual([]);
  });
});

describe('beacons', () => {
  it('sends rising beacon ids with the TCP port, starting over after a restart', async () => {
    const collector = await udpCollector();
    try {
      const h = await ioc({ beacons: true, beaconPort: collector.port, beaconInitialMs: 5, beaconPeriodMs: 40 });
      await until(() => collector.messages.length >= 5);
      const first = collector.messages.map((m) => frames(m.data)[0] as CaFrame);
      expect(
        first.every((f) => f.command === Command.RSRV_IS_UP && f.dataType === 13 && f.dataCount === h.tcpPort),
      ).toBe(true);
      expect(first.slice(0, 5).map((f) => f.parameter1)).toEqual([0, 1, 2, 3, 4]);
      await h.restart();
      const mark = collector.messages.length;
      await until(() => collector.messages.length >= mark + 2);
      const after = collector.messages.slice(mark).map((m) => frames(m.data)[0] as CaFrame);
      expect(after[0]?.parameter1).toBe(0);
    } finally {
      await collector.close();
    }
  });
});

describe('TCP circuits', () => {
  it('opens with VERSION, answers CREATE_CHAN with ACCESS_RIGHTS then the reply, CREATE_CH_FAIL for unknown names', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    c.send(
      concatBytes([
        open(),
        build.createChanRequest({ name: 't:readonly', cid: 5 }),
        build.createChanRequest({ name: 't:missing', cid: 6 }),
        build.createChanRequest({ name: 't:waveform', cid: 7 }),
      ]),
    );
    await until(() => c.frames.length >= 6);
    const cmds = c.frames.map((f) => f.command);
    expect(cmds).toEqual([
      Command.VERSION,
      Command.ACCESS_RIGHTS,
      Command.CREATE_CHAN,
      Command.CREATE_CH_FAIL,
      Command.ACCESS_RIGHTS,
      Command.CREATE_CHAN,
    ]);
    expect(c.frames[0]).toMatchObject({ dataType: 0, dataCount: 13, parameter1: 0 });
    expect(c.frames[1]).toMatchObject({ parameter1: 5, parameter2: 1 });
    expect(c.frames[2]).toMatchObject({ dataType: DbrType.DOUBLE, dataCount: 1, parameter1: 5 });
    expect(c.frames[3]).toMatchObject({ parameter1: 6 });
    expect(c.frames[4]).toMatchObject({ parameter1: 7, parameter2: 3 });
    expect(c.frames[5]).toMatchObject({ dataType: DbrType.DOUBLE, dataCount: 1000, parameter1: 7 });
    c.socket.destroy();
  });

  it('answers ECHO and READ_SYNC, and ERROR with the request header for a bad SID or subscription', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    const badRead = build.readNotifyRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid: 999, ioid: 41 });
    c.send(concatBytes([open(), build.echoRequest(), build.readSyncRequest(), badRead]));
    await until(() => c.frames.length >= 4);
    expect(c.frames.slice(1).map((f) => f.command)).toEqual([Command.ECHO, Command.READ_SYNC, Command.ERROR]);
    const err = c.frames[3] as CaFrame;
    expect(err.parameter2).toBe(Eca.ECA_BADCHID);
    expect(err.payload.subarray(0, 16)).toEqual(badRead.subarray(0, 16));
    expect(Buffer.from(err.payload.subarray(16)).toString('latin1')).toMatch(/SID 999/);
    c.send(concatBytes([build.createChanRequest({ name: 't:long', cid: 1 })]));
    await until(() => c.frames.length >= 6);
    const sid = (c.frames[5] as CaFrame).parameter2;
    c.send(build.eventCancelRequest({ data_type: DbrType.LONG, data_count: 1, sid, subscriptionid: 1234 }));
    await until(() => c.frames.length >= 7);
    expect(c.frames[6]).toMatchObject({ command: Command.ERROR, parameter1: 1, parameter2: Eca.ECA_BADMONID });
    c.socket.destroy();
  });

  it('drops a circuit that breaks the framing', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    c.send(Uint8Array.of(0, 99, 0, 3, ...new Array<number>(12).fill(0), 1, 2, 3));
    await c.closed;
    expect(h.stats.faults).toBe(1);
    await until(() => h.stats.circuitsOpen === 0);
  });

  it('sends SERVER_DISCONN for channels of a removed PV, and for every channel on a polite stop', async () => {
    const h = await startIoc({ prefix: 't:', port: 0, beacons: false });
    const c = await rawCircuit(h.tcpPort);
    c.send(
      concatBytes([
        open(),
        build.createChanRequest({ name: 't:double', cid: 11 }),
        build.createChanRequest({ name: 't:long', cid: 12 }),
      ]),
    );
    await until(() => c.frames.length >= 5);
    expect(h.removePv('t:double')).toBe(true);
    await until(() => c.frames.length >= 6);
    expect(c.frames[5]).toMatchObject({ command: Command.SERVER_DISCONN, parameter1: 11 });
    await h.stop({ disconnect: true });
    await c.closed;
    expect(c.frames.at(-1)).toMatchObject({ command: Command.SERVER_DISCONN, parameter1: 12 });
  });

  it('confirms EVENT_CANCEL with ID 1, the subscription type and count and p1 = SID', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    c.send(concatBytes([open(), build.createChanRequest({ name: 't:long', cid: 3 })]));
    await until(() => c.frames.length >= 3);
    const sid = (c.frames[2] as CaFrame).parameter2;
    c.send(build.eventAddRequest({ data_type: DbrType.TIME_LONG, data_count: 1, sid, subscriptionid: 8, mask: 5 }));
    await until(() => c.frames.length >= 4);
    expect(c.frames[3]).toMatchObject({
      command: Command.EVENT_ADD,
      dataType: DbrType.TIME_LONG,
      parameter1: ECA_NORMAL,
      parameter2: 8,
      payloadSize: 16,
    });
    c.send(build.eventCancelRequest({ data_type: DbrType.TIME_LONG, data_count: 1, sid, subscriptionid: 8 }));
    await until(() => c.frames.length >= 5);
    expect(c.frames[4]).toMatchObject({
      command: Command.EVENT_ADD,
      payloadSize: 0,
      dataType: DbrType.TIME_LONG,
      dataCount: 1,
      parameter1: sid,
      parameter2: 8,
    });
    c.socket.destroy();
  });

  it('answers SEARCH over TCP (4.12 name server) and the obsolete READ with the CID in p1', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    c.send(
      concatBytes([
        open(),
        build.searchRequest({ name: 't:long', cid: 21 }),
        build.searchRequest({ name: 't:none', cid: 22, reply: 10 }),
        build.createChanRequest({ name: 't:long', cid: 23 }),
      ]),
    );
    await until(() => c.frames.length >= 5);
    expect(c.frames[1]).toMatchObject({ command: Command.SEARCH, payloadSize: 0, dataType: h.tcpPort, parameter2: 21 });
    expect(c.frames[2]).toMatchObject({ command: Command.NOT_FOUND, parameter1: 22 });
    const sid = (c.frames[4] as CaFrame).parameter2;
    c.send(build.readRequest({ data_type: DbrType.LONG, data_count: 1, sid, ioid: 5 }));
    await until(() => c.frames.length >= 6);
    expect(c.frames[5]).toMatchObject({ command: Command.READ, parameter1: 23, parameter2: 5, payloadSize: 8 });
    c.socket.destroy();
  });

  it('drops a client that asks for a priority above 99', async () => {
    const h = await ioc();
    const c = await rawCircuit(h.tcpPort);
    c.send(build.versionRequest({ priority: 100 }));
    await c.closed;
    expect(h.stats.circuitsAccepted).toBe(1);
  });
});
