/**
 * Every byte of a simulator session, both directions, decodes with the protocol package: no framing
 * faults, no unknown commands, no short payloads.
 */
import { Deframer, decodeCommand, deframeDatagram } from '@ca-shark/protocol';
import type { CaCommand, CaFrame, CommandFields, Role } from '@ca-shark/protocol';
import { afterEach, expect, it } from 'vitest';
import { CaError, connectClient } from './client.js';
import type { CaClient } from './client.js';
import { startIoc } from './server.js';
import type { IocHandle } from './server.js';
import { until } from './test-support/net.js';

let ioc: IocHandle | undefined;
let client: CaClient | undefined;
afterEach(async () => {
  await client?.close();
  await ioc?.stop();
});

it('decodes a whole session (search, circuit, every operation and error) without a malformed message', async () => {
  ioc = await startIoc({ prefix: 's:', port: 0, beacons: false, rate: 50 });
  const decoded: { stream: string; role: Role; cmd: CaCommand; frame: CaFrame }[] = [];
  const faults: string[] = [];
  const deframers = new Map<string, Deframer>();
  client = await connectClient({
    addrList: [`127.0.0.1:${ioc.udpPort}`],
    searchIntervalMs: 10,
    doReply: true,
    wireTap: ({ direction, stream, bytes }) => {
      const role: Role = direction === 'send' ? 'request' : 'response';
      const onFrame = (frame: CaFrame): void => {
        decoded.push({ stream, role, cmd: decodeCommand(frame, role, { udp: stream === 'udp' }), frame });
      };
      const onFault = (f: { code: string; message: string }): void => {
        faults.push(`${stream} ${direction}: ${f.code} ${f.message}`);
      };
      if (stream === 'udp') {
        deframeDatagram(bytes, onFrame, onFault);
        return;
      }
      const key = `${stream} ${direction}`;
      let d = deframers.get(key);
      if (d === undefined) deframers.set(key, (d = new Deframer()));
      d.push(bytes, onFrame, onFault);
    },
  });
  const c = client;
  const missing = c.channel('s:missing');
  const chans = await Promise.all(
    ['double', 'enum', 'string', 'waveform', 'bigwave', 'readonly', 'longarray', 'counter'].map((n) =>
      c.connect(`s:${n}`),
    ),
  );
  const [d, e, s, w, big, ro, la, counter] = chans as [
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
    (typeof chans)[0],
  ];
  for (const type of [
    'DOUBLE',
    'STS_DOUBLE',
    'TIME_DOUBLE',
    'GR_DOUBLE',
    'CTRL_DOUBLE',
    'STRING',
    'CLASS_NAME',
    'STSACK_STRING',
  ])
    await d.get({ type });
  await e.get({ type: 'CTRL_ENUM' });
  await s.get({ type: 'TIME_STRING' });
  await w.get({ type: 'CTRL_DOUBLE' });
  await big.get({ type: 'TIME_DOUBLE' });
  await la.get({ count: 0 });
  await d.put(12.5);
  await s.put('x');
  await w.put(Array.from({ length: 1000 }, (_, i) => i));
  await big.put(Array.from({ length: 70000 }, (_, i) => -i));
  await d.put(1, { notify: false });
  await ro.put(1).catch((err: unknown) => expect(err).toBeInstanceOf(CaError));
  await ro.put(1, { notify: false });
  const sub = counter.subscribe({ type: 'TIME_LONG' }, () => undefined);
  const sub2 = w.subscribe({ type: 'GR_DOUBLE', count: 0 }, () => undefined);
  await until(() => sub.updates >= 2 && sub2.updates >= 1);
  c.eventsOff();
  c.eventsOn();
  await sub.cancel();
  await sub2.cancel();
  await c.echo();
  await la.clear();
  await until(() => missing.searchAttempts >= 2 && c.stats.notFound >= 1);

  expect(faults).toEqual([]);
  const names = new Set(decoded.map((x) => x.cmd.name));
  for (const expected of [
    'VersionRequest',
    'VersionResponse',
    'SearchRequest',
    'SearchResponse',
    'NotFoundResponse',
    'ClientNameRequest',
    'HostNameRequest',
    'CreateChanRequest',
    'CreateChanResponse',
    'AccessRightsResponse',
    'ReadNotifyRequest',
    'ReadNotifyResponse',
    'WriteRequest',
    'WriteNotifyRequest',
    'WriteNotifyResponse',
    'EventAddRequest',
    'EventAddResponse',
    'EventCancelRequest',
    'EventCancelResponse',
    'EventsOffRequest',
    'EventsOnRequest',
    'EchoRequest',
    'EchoResponse',
    'ClearChannelRequest',
    'ClearChannelResponse',
    'ErrorResponse',
  ]) {
    expect(names, expected).toContain(expected);
  }
  const bad = decoded.filter((x) => {
    const fields: CommandFields = x.cmd;
    return (
      x.cmd.name === 'Unknown' ||
      fields.problem !== undefined ||
      fields.data_problem !== undefined ||
      (x.frame.anomalies?.length ?? 0) > 0
    );
  });
  expect(bad.map((x) => ({ stream: x.stream, cmd: x.cmd }))).toEqual([]);
  expect(decoded.some((x) => x.frame.headerSize === 24)).toBe(true);
});
