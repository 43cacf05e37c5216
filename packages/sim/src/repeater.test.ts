import dgram from 'node:dgram';
import { Command, build, deframeDatagram } from '@ca-shark/protocol';
import type { CaFrame } from '@ca-shark/protocol';
import { afterEach, expect, it } from 'vitest';
import { startRepeater } from './repeater.js';
import type { RepeaterHandle } from './repeater.js';
import { startIoc } from './server.js';
import type { IocHandle } from './server.js';
import { udpCollector, until } from './test-support/net.js';

let repeater: RepeaterHandle | undefined;
let ioc: IocHandle | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await ioc?.stop();
  await repeater?.stop();
  for (const c of closers.splice(0)) await c();
});

function decode(data: Buffer): CaFrame[] {
  const out: CaFrame[] = [];
  deframeDatagram(
    data,
    (f) => out.push({ ...f }),
    (fault) => {
      throw new Error(fault.message);
    },
  );
  return out;
}

it('confirms registrations and forwards beacons with the sender address filled in', async () => {
  repeater = await startRepeater({ port: 0 });
  const a = await udpCollector();
  const b = await udpCollector();
  closers.push(a.close, b.close);
  // libca registers with an empty datagram; others send the 16-byte REPEATER_REGISTER.
  a.socket.send(Buffer.alloc(0), repeater.port, '127.0.0.1');
  await until(() => a.messages.length === 1);
  expect(decode(a.messages[0]?.data as Buffer)[0]).toMatchObject({
    command: Command.REPEATER_CONFIRM,
    parameter2: 0x7f000001,
  });
  b.socket.send(build.repeaterRegisterRequest({ client_address: '127.0.0.1' }), repeater.port, '127.0.0.1');
  await until(() => b.messages.length === 1 && a.messages.length === 2);
  expect(decode(b.messages[0]?.data as Buffer)[0]?.command).toBe(Command.REPEATER_CONFIRM);
  // The earlier client is woken with an all-zero VERSION.
  expect(decode(a.messages[1]?.data as Buffer)[0]).toMatchObject({
    command: Command.VERSION,
    dataCount: 0,
    parameter1: 0,
  });
  expect(repeater.clients()).toHaveLength(2);

  ioc = await startIoc({ prefix: 'r:', port: 0, beaconPort: repeater.port, beaconInitialMs: 5, beaconPeriodMs: 50 });
  await until(() => a.messages.length >= 5 && b.messages.length >= 4);
  const beacons = a.messages.slice(2).map((m) => decode(m.data)[0] as CaFrame);
  expect(
    beacons.every(
      (f) => f.command === Command.RSRV_IS_UP && f.dataCount === ioc?.tcpPort && f.parameter2 === 0x7f000001,
    ),
  ).toBe(true);
  expect(beacons.map((f) => f.parameter1).slice(0, 3)).toEqual([0, 1, 2]);
});

it('forgets clients whose port is free again', async () => {
  repeater = await startRepeater({ port: 0 });
  const gone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => gone.bind(0, '127.0.0.1', resolve));
  gone.send(Buffer.alloc(0), repeater.port, '127.0.0.1');
  await until(() => repeater?.clients().length === 1);
  await new Promise<void>((resolve) => gone.close(() => resolve()));
  const c = await udpCollector();
  closers.push(c.close);
  c.socket.send(Buffer.alloc(0), repeater.port, '127.0.0.1');
  await until(() => repeater?.clients().length === 1 && repeater.clients()[0] === `127.0.0.1:${c.port}`);
});

it('registers a client that asks for it and delivers the beacons to it', async () => {
  const { connectClient } = await import('./client.js');
  repeater = await startRepeater({ port: 0 });
  const client = await connectClient({ addrList: ['127.0.0.1:9'], repeaterPort: repeater.port });
  closers.push(() => client.close());
  await until(() => client.stats.repeaterConfirmed);
  ioc = await startIoc({ prefix: 'r2:', port: 0, beaconPort: repeater.port, beaconInitialMs: 5, beaconPeriodMs: 50 });
  await until(() => client.stats.beacons >= 3);
});
