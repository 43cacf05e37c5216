/**
 * The simulator's client against the simulated IOC: every DBR family, writes and their ECA errors,
 * subscriptions, flow control, reconnection, search storms and workloads.
 */
import { AlarmSeverity, AlarmStatus, DbrType, Eca, EventMask } from '@ca-shark/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { CaError, connectClient } from './client.js';
import type { CaClient, ChannelValue, ClientOptions } from './client.js';
import { startIoc } from './server.js';
import type { IocHandle, IocOptions } from './server.js';
import { until } from './test-support/net.js';
import { waveformPvs } from './pvs.js';
import { parseFamilies, runLoad } from './workload.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(
  iocOptions: IocOptions = {},
  clientOptions: ClientOptions = {},
): Promise<{ ioc: IocHandle; client: CaClient }> {
  const ioc = await startIoc({ prefix: 'c:', port: 0, beacons: false, rate: 50, ...iocOptions });
  cleanup.push(() => ioc.stop());
  const client = await connectClient({
    addrList: [`127.0.0.1:${ioc.udpPort}`],
    searchIntervalMs: 10,
    maxSearchIntervalMs: 100,
    timeoutMs: 2000,
    ...clientOptions,
  });
  cleanup.push(() => client.close());
  return { ioc, client };
}

/** Expects a promise to reject with a CaError carrying `status`. */
async function rejectsWith(p: Promise<unknown>, status: number | undefined): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CaError);
  expect((err as CaError).status).toBe(status);
}

describe('reads', () => {
  it('connects and reads the native type and count of every standard PV', async () => {
    const { client } = await setup();
    const expected: [string, number, number, unknown][] = [
      ['double', DbrType.DOUBLE, 1, [42.5]],
      ['float', DbrType.FLOAT, 1, [1.5]],
      ['long', DbrType.LONG, 1, [7]],
      ['short', DbrType.SHORT, 1, [-12]],
      ['char', DbrType.CHAR, 1, [65]],
      ['enum', DbrType.ENUM, 1, [0]],
      ['string', DbrType.STRING, 1, ['hello']],
      ['waveform', DbrType.DOUBLE, 1000, undefined],
      ['stringarray', DbrType.STRING, 4, ['alpha', 'beta', 'gamma', 'delta']],
    ];
    for (const [name, type, count, data] of expected) {
      const ch = await client.connect(`c:${name}`);
      expect([ch.nativeType, ch.nativeCount]).toEqual([type, count]);
      const v = await ch.get();
      expect(v.count).toBe(count);
      if (data !== undefined) expect(v.data).toEqual(data);
    }
    expect(client.circuitCount).toBe(1);
  });

  it('answers every DBR family with the PV metadata', async () => {
    const { client } = await setup();
    const d = await client.connect('c:double');
    const sts = await d.get({ type: 'STS_DOUBLE' });
    expect(sts.metadata).toMatchObject({ status: 0, severity: 0 });
    const time = await d.get({ type: 'TIME_DOUBLE' });
    expect(Math.abs((time.metadata?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    const gr = await d.get({ type: 'GR_DOUBLE' });
    expect(gr.metadata).toMatchObject({
      units: 'mm',
      precision: 3,
      upperDisplayLimit: 100,
      lowerAlarmLimit: -90,
      upperWarningLimit: 70,
    });
    const ctrl = await d.get({ type: 'CTRL_DOUBLE' });
    expect(ctrl.metadata).toMatchObject({ upperControlLimit: 100, lowerControlLimit: -100 });
    expect(ctrl.data).toEqual([42.5]);
    expect((await d.get({ type: 'STRING' })).data).toEqual(['42.500']);
    expect((await d.get({ type: 'CTRL_LONG' })).data).toEqual([42]);
    const e = await client.connect('c:enum');
    expect((await e.get({ type: 'CTRL_ENUM' })).metadata?.enumStrings).toEqual(['Off', 'On', 'Fault']);
    expect((await e.get({ type: 'TIME_STRING' })).data).toEqual(['Off']);
    const l = await client.connect('c:long');
    expect((await l.get({ type: 'GR_LONG' })).metadata).toMatchObject({ units: 'counts', upperAlarmLimit: 900 });
    expect((await l.get({ type: 'CLASS_NAME' })).data).toEqual(['longout']);
    expect((await l.get({ type: 'STSACK_STRING' })).data).toEqual(['7']);
    const c = await client.connect('c:char');
    expect((await c.get({ type: 'CTRL_CHAR' })).metadata).toMatchObject({ units: 'chr', upperDisplayLimit: 127 });
  });

  it('finds a PV by its name with the .VAL field suffix', async () => {
    const { client } = await setup();
    expect((await (await client.connect('c:double.VAL')).get()).data).toEqual([42.5]);
  });

  it('serves count 0 as the current length and zero-fills a larger fixed count', async () => {
    const { client } = await setup();
    const a = await client.connect('c:longarray');
    await a.put([9, 8, 7]);
    expect(await a.get({ count: 0 })).toMatchObject({ count: 3, data: [9, 8, 7] });
    expect((await a.get({ count: 5 })).data).toEqual([9, 8, 7, 0, 0]);
    await rejectsWith(a.get({ count: 17 }), Eca.ECA_BADCOUNT);
  });

  it('reads a waveform that needs the extended header', async () => {
    const { client } = await setup();
    const big = await client.connect('c:bigwave');
    expect(big.nativeCount).toBe(100000);
    const v = await big.get();
    expect(v.count).toBe(100000);
    expect(v.data[99999]).toBe(99999);
  });

  it('refuses to read PUT_ACKT with ECA_BADTYPE through ERROR', async () => {
    const { client } = await setup();
    const d = await client.connect('c:double');
    await rejectsWith(d.get({ type: DbrType.PUT_ACKT }), Eca.ECA_BADTYPE);
  });
});

describe('writes', () => {
  it('writes every native type, with conversions from strings', async () => {
    const { client, ioc } = await setup();
    const cases: [string, number | string | (number | string)[], unknown][] = [
      ['double', 1.25, [1.25]],
      ['double', '2.5', [2.5]],
      ['float', 0.5, [0.5]],
      ['long', -5, [-5]],
      ['short', 300, [300]],
      ['char', 200, [200]],
      ['enum', 'On', [1]],
      ['enum', 2, [2]],
      ['string', 'hi there', ['hi there']],
      ['string', 17, ['17']],
      ['string', 'x'.repeat(50), ['x'.repeat(39)]],
      ['stringarray', ['x', 'y'], ['x', 'y']],
      ['chararray', [...Buffer.from('abc')], [97, 98, 99]],
    ];
    for (const [name, value, stored] of cases) {
      const ch = await client.connect(`c:${name}`);
      expect(await ch.put(value)).toBe(1);
      expect(ioc.db.get(`c:${name}`)?.value).toEqual(stored);
    }
    const l = await client.connect('c:long');
    await l.put(41, { notify: false });
    await until(() => ioc.db.get('c:long')?.value[0] === 41);
  });

  it('answers bad writes with ECA codes: NOWTACCESS, PUTFAIL, BADCOUNT, BADTYPE', async () => {
    const { client, ioc } = await setup();
    const ro = await client.connect('c:readonly');
    expect(ro.accessRights).toBe(1);
    await rejectsWith(ro.put(5), Eca.ECA_NOWTACCESS);
    const d = await client.connect('c:double');
    await rejectsWith(d.put('twelve'), Eca.ECA_PUTFAIL);
    await rejectsWith(d.put([1, 2]), Eca.ECA_BADCOUNT);
    await rejectsWith(d.put(1, { type: 'TIME_DOUBLE' }), Eca.ECA_BADTYPE);
    const e = await client.connect('c:enum');
    await rejectsWith(e.put('Maybe'), Eca.ECA_PUTFAIL);
    expect(ioc.db.get('c:double')?.value).toEqual([42.5]);
  });

  it('reports a failed plain WRITE with an ERROR message', async () => {
    const { client } = await setup();
    const errors: CaError[] = [];
    client.onError((e) => errors.push(e));
    const ro = await client.connect('c:readonly');
    await ro.put(1, { notify: false });
    await until(() => errors.length === 1);
    expect(errors[0]?.status).toBe(Eca.ECA_NOWTACCESS);
  });
});

describe('subscriptions', () => {
  it('delivers the current value at once, then every change, until cancelled', async () => {
    const { client } = await setup();
    const ch = await client.connect('c:long');
    const got: ChannelValue[] = [];
    const sub = ch.subscribe({ type: 'TIME_LONG' }, (v) => got.push(v));
    await until(() => got.length === 1);
    expect(got[0]?.data).toEqual([7]);
    await ch.put(950);
    await until(() => got.length === 2);
    expect(got[1]?.data).toEqual([950]);
    expect(got[1]?.metadata).toMatchObject({ status: AlarmStatus.HIHI, severity: AlarmSeverity.MAJOR });
    await sub.cancel();
    await ch.put(3);
    await ch.get();
    expect(got).toHaveLength(2);
  });

  it('honours the event mask: an alarm-only monitor ignores value changes inside the same alarm state', async () => {
    const { client } = await setup();
    const ch = await client.connect('c:double');
    const got: ChannelValue[] = [];
    ch.subscribe({ type: 'STS_DOUBLE', mask: EventMask.DBE_ALARM }, (v) => got.push(v));
    await until(() => got.length === 1);
    await ch.put(10);
    await ch.put(95);
    await until(() => got.length === 2);
    expect(got[1]?.metadata?.severity).toBe(AlarmSeverity.MAJOR);
    expect(got[1]?.data).toEqual([95]);
  });

  it('subscribes to the counter with every family, and holds updates back between EVENTS_OFF and EVENTS_ON', async () => {
    const { client } = await setup();
    const ch = await client.connect('c:counter');
    const byFamily = new Map<string, number[]>();
    for (const type of ['LONG', 'STS_LONG', 'TIME_LONG', 'GR_LONG', 'CTRL_LONG']) {
      byFamily.set(type, []);
      ch.subscribe({ type }, (v) => byFamily.get(type)?.push(v.data[0] as number));
    }
    await until(() => [...byFamily.values()].every((l) => l.length >= 3));
    for (const values of byFamily.values()) expect(values[2]).toBeGreaterThan(values[0] as number);
    client.eventsOff();
    await client.echo();
    const frozen = client.stats.updates;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.echo();
    expect(client.stats.updates).toBe(frozen);
    client.eventsOn();
    await until(() => client.stats.updates >= frozen + 5);
  });

  it('reports a refused subscription through ERROR, and its cancel with ECA_BADMONID', async () => {
    const { client } = await setup();
    const errors: [number, number][] = [];
    client.onError((e, command) => errors.push([e.status, command]));
    const ch = await client.connect('c:double');
    const sub = ch.subscribe({ type: DbrType.PUT_ACKS }, () => undefined);
    await until(() => errors.length === 1);
    expect(errors[0]).toEqual([Eca.ECA_BADTYPE, 1]);
    await rejectsWith(sub.cancel(), Eca.ECA_BADMONID);
  });

  it('follows a count-0 subscription as the array length changes', async () => {
    const { client } = await setup();
    const ch = await client.connect('c:longarray');
    const got: ChannelValue[] = [];
    ch.subscribe({ count: 0 }, (v) => got.push(v));
    await until(() => got.length === 1);
    expect(got[0]?.count).toBe(16);
    await ch.put([1, 2]);
    await until(() => got.length === 2);
    expect(got[1]).toMatchObject({ count: 2, data: [1, 2] });
  });
});

describe('connection management', () => {
  it('updates PVs added while running, at their own period', async () => {
    const { client, ioc } = await setup({ rate: 0 });
    ioc.addPv({ name: 'c:fast', type: 'SHORT', value: 0, update: { kind: 'counter', periodMs: 20, step: 2 } });
    const ch = await client.connect('c:fast');
    const got: number[] = [];
    ch.subscribe({}, (v) => got.push(v.data[0] as number));
    await until(() => got.length >= 4);
    for (let i = 1; i < got.length; i++) expect((got[i] as number) - (got[i - 1] as number)).toBe(2);
  });

  it('clears a channel with CLEAR_CHANNEL and the server forgets it', async () => {
    const { client, ioc } = await setup();
    const ch = await client.connect('c:double');
    expect(ioc.stats.channelsOpen).toBe(1);
    await ch.clear();
    expect(ioc.stats.channelsOpen).toBe(0);
  });

  it('reconnects and resubscribes after an IOC restart', async () => {
    const { client, ioc } = await setup();
    const ch = await client.connect('c:counter');
    const states: boolean[] = [];
    ch.onConnectionChange((c) => states.push(c));
    const got: number[] = [];
    ch.subscribe({}, (v) => got.push(v.data[0] as number));
    await until(() => got.length >= 1);
    await ioc.restart({ downMs: 50 });
    await until(() => states.length >= 2);
    expect(states.slice(0, 2)).toEqual([false, true]);
    const mark = got.length;
    await until(() => got.length >= mark + 2);
    expect(ch.connected).toBe(true);
    expect(client.stats.connects).toBe(2);
  });

  it('searches again after SERVER_DISCONN and reconnects when the PV comes back', async () => {
    const { client, ioc } = await setup();
    const ch = await client.connect('c:double');
    const spec = { name: 'c:double', type: 'DOUBLE' as const, value: 5 };
    ioc.removePv('c:double');
    await until(() => !ch.connected);
    const searched = client.stats.searchRequests;
    await until(() => client.stats.searchRequests > searched + 1);
    ioc.addPv(spec);
    await ch.waitConnected();
    expect((await ch.get()).data).toEqual([5]);
  });

  it('times out when the IOC answers too slowly, and succeeds when the client waits', async () => {
    const { client, ioc } = await setup();
    const ch = await client.connect('c:double');
    ioc.hooks.replyDelayMs = 150;
    await rejectsWith(ch.get({ timeoutMs: 20 }), 0);
    expect((await ch.get({ timeoutMs: 2000 })).data).toEqual([42.5]);
  });

  it('backs off while searching for missing PVs (a search storm) and asks for NOT_FOUND when told to', async () => {
    const { client, ioc } = await setup({}, { doReply: true, searchIntervalMs: 5, maxSearchIntervalMs: 40 });
    for (let i = 0; i < 20; i++) client.channel(`c:missing:${i}`);
    await until(() => client.stats.notFound >= 20 * 4);
    const perName = client.stats.searchRequests / 20;
    // 5, 10, 20, 40, 40 ms ... : far fewer searches than one per 5 ms.
    expect(perName).toBeGreaterThanOrEqual(4);
    expect(client.unconnected).toHaveLength(20);
    expect(ioc.stats.searchReplies).toBe(0);
    expect(ioc.stats.notFoundReplies).toBe(client.stats.notFound);
  });
});

describe('waveforms at their own rate', () => {
  it('updates a waveform with its own period while the other PVs stand still (rate 0)', async () => {
    const { client } = await setup({ rate: 0, extraPvs: waveformPvs('c:', [{ count: 30000, rateHz: 50 }]) });
    const wave = await client.connect('c:wave30000_0');
    const sine = await client.connect('c:sine');
    const waves: ChannelValue[] = [];
    let sineUpdates = 0;
    const subWave = wave.subscribe({ type: DbrType.TIME_DOUBLE }, (v) => waves.push(v));
    const subSine = sine.subscribe({ type: DbrType.TIME_DOUBLE }, () => (sineUpdates += 1));
    await until(() => waves.length >= 3, 10000);
    // One update on subscribing, then the waveform's own ticks; the rate-driven sine gets only the first.
    expect(waves.at(-1)?.data).toHaveLength(30000);
    expect(waves.at(-1)?.data).not.toEqual(waves[0]?.data);
    expect(sineUpdates).toBe(1);
    await subWave.cancel();
    await subSine.cancel();
  });
});

describe('workloads', () => {
  it('parses DBR family lists and rejects unknown families', () => {
    expect(parseFamilies('time, CTRL')).toEqual(['time', 'ctrl']);
    expect(() => parseFamilies('time,dbr')).toThrow(/unknown DBR family "dbr"/);
    expect(() => parseFamilies(' , ')).toThrow(RangeError);
  });

  it('reads only the DBR families it is given', async () => {
    const ioc = await startIoc({ prefix: 'f:', port: 0, beacons: false, rate: 0 });
    cleanup.push(() => ioc.stop());
    const report = await runLoad({
      addrList: [`127.0.0.1:${ioc.udpPort}`],
      prefix: 'f:',
      channels: 6,
      monitors: 2,
      opsPerSecond: 200,
      writeShare: 0,
      families: ['time', 'ctrl'],
      durationMs: 500,
      client: { searchIntervalMs: 10, maxSearchIntervalMs: 100 },
    });
    expect(report.reads).toBeGreaterThan(10);
    expect(report.writes).toBe(0);
    expect(Object.keys(report.readsByFamily).sort()).toEqual(['ctrl', 'time']);
    expect((report.readsByFamily.time ?? 0) + (report.readsByFamily.ctrl ?? 0)).toBe(report.reads);
    expect(report.failures).toBe(0);
  });

  it('runs several clients and a storm against one IOC', async () => {
    const ioc = await startIoc({ prefix: 'w:', port: 0, beacons: false, pvs: 9, rate: 20 });
    cleanup.push(() => ioc.stop());
    const report = await runLoad({
      addrList: [`127.0.0.1:${ioc.udpPort}`],
      prefix: 'w:',
      generatedPvs: 9,
      clients: 3,
      channels: 8,
      monitors: 4,
      opsPerSecond: 50,
      resubscribeEveryMs: 100,
      storm: 10,
      durationMs: 700,
      seed: 3,
      client: { searchIntervalMs: 10, maxSearchIntervalMs: 100 },
    });
    expect(report.channelsConnected).toBe(24);
    expect(report.channelsUnconnected).toBe(0);
    expect(report.reads + report.writes).toBeGreaterThan(10);
    expect(report.updates).toBeGreaterThan(12);
    expect(report.unsubscribes).toBeGreaterThan(0);
    expect(report.stormSearches).toBeGreaterThanOrEqual(10);
    expect(ioc.stats.circuitsAccepted).toBe(3);
    await until(() => ioc.stats.circuitsOpen === 0);
  });

  it('runs until aborted when the duration is infinite, with channels that never connect', async () => {
    const ioc = await startIoc({ prefix: 'inf:', port: 0, beacons: false });
    cleanup.push(() => ioc.stop());
    const controller = new AbortController();
    const running = runLoad({
      addrList: [`127.0.0.1:${ioc.udpPort}`],
      pvNames: ['inf:double', 'inf:nobody-serves-this'],
      channels: 2,
      monitors: 2,
      durationMs: Infinity,
      signal: controller.signal,
    });
    await until(() => ioc.stats.readRequests + ioc.stats.writeRequests >= 3);
    controller.abort();
    const report = await running;
    expect(report).toMatchObject({ channelsConnected: 1, channelsUnconnected: 1 });
    expect(report.searchRequests).toBeGreaterThan(2);
  });
});
