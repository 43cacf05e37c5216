import { describe, expect, it } from 'vitest';
import { DbrType, build } from '@ca-shark/protocol';
import type { CaRecord } from './record.js';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { CLIENT, SERVER, T0, decode } from './test-support/scenario.js';

interface Row {
  /** Expected caproto class name. */
  name: string;
  transport: 'tcp' | 'udp';
  /** Sent by the client (true) or the server. */
  fromClient: boolean;
  bytes: Uint8Array;
  /** Fields the record's command must have. */
  fields: Record<string, unknown>;
}

const D = DbrType.DOUBLE;
/** One row per command and direction (reference §3), each decoded alone on a circuit with a handshake or on UDP 5064/5065. */
const ROWS: Row[] = [
  {
    name: 'VersionRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.versionRequest({ priority: 10, version: 13 }),
    fields: { priority: 10, version: 13 },
  },
  {
    name: 'VersionResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.versionResponse({ version: 13 }),
    fields: { version: 13 },
  },
  {
    name: 'VersionRequest',
    transport: 'udp',
    fromClient: true,
    bytes: build.versionRequest({ sequence: 9 }),
    fields: { sequence: 9, flag: 1 },
  },
  {
    name: 'VersionResponse',
    transport: 'udp',
    fromClient: false,
    bytes: build.versionResponse({ sequence: 9 }),
    fields: { sequence: 9 },
  },
  {
    name: 'EventAddRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.eventAddRequest({ data_type: D, sid: 1, subscriptionid: 2, mask: 7 }),
    fields: { sid: 1, subscriptionid: 2, mask: 7 },
  },
  {
    name: 'EventAddResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.eventAddResponse({ data_type: D, data: [2.5], subscriptionid: 2 }),
    fields: { subscriptionid: 2, data: [2.5], status: 1 },
  },
  {
    name: 'EventCancelRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.eventCancelRequest({ data_type: D, sid: 1, subscriptionid: 2 }),
    fields: { sid: 1, subscriptionid: 2 },
  },
  {
    name: 'EventCancelResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.eventCancelResponse({ data_type: D, sid: 1, subscriptionid: 2 }),
    fields: { sid: 1, subscriptionid: 2 },
  },
  {
    name: 'ReadRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.readRequest({ data_type: D, sid: 1, ioid: 3 }),
    fields: { sid: 1, ioid: 3 },
  },
  {
    name: 'ReadResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.readResponse({ data_type: D, data: [1], sid: 1, ioid: 3 }),
    fields: { ioid: 3, data: [1] },
  },
  {
    name: 'WriteRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.writeRequest({ data_type: D, data: [4], sid: 1, ioid: 7 }),
    fields: { sid: 1, data: [4] },
  },
  {
    name: 'SearchRequest',
    transport: 'udp',
    fromClient: true,
    bytes: build.searchRequest({ name: 'a:b', cid: 5 }),
    fields: { pv: 'a:b', cid: 5 },
  },
  {
    name: 'SearchResponse',
    transport: 'udp',
    fromClient: false,
    bytes: build.searchResponse({ port: 5064, cid: 5 }),
    fields: { port: 5064, cid: 5 },
  },
  {
    name: 'SearchRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.searchRequest({ name: 'a:b', cid: 5 }),
    fields: { pv: 'a:b', cid: 5 },
  },
  {
    name: 'SearchResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.searchResponse({ port: 5064, cid: 5, tcp: true }),
    fields: { cid: 5 },
  },
  { name: 'EventsOffRequest', transport: 'tcp', fromClient: true, bytes: build.eventsOffRequest(), fields: {} },
  { name: 'EventsOnRequest', transport: 'tcp', fromClient: true, bytes: build.eventsOnRequest(), fields: {} },
  { name: 'ReadSyncRequest', transport: 'tcp', fromClient: true, bytes: build.readSyncRequest(), fields: {} },
  { name: 'ReadSyncResponse', transport: 'tcp', fromClient: false, bytes: build.readSyncResponse(), fields: {} },
  {
    name: 'ErrorResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.error({
      original: build.readNotifyRequest({ data_type: D, sid: 1, ioid: 3 }),
      cid: 1,
      status: 152,
      message: 'x',
    }),
    fields: { cid: 1, status_code: 152, error_message: 'x' },
  },
  {
    name: 'ClearChannelRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.clearChannelRequest({ sid: 1, cid: 2 }),
    fields: { sid: 1, cid: 2 },
  },
  {
    name: 'ClearChannelResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.clearChannelResponse({ sid: 1, cid: 2 }),
    fields: { sid: 1, cid: 2 },
  },
  {
    name: 'Beacon',
    transport: 'udp',
    fromClient: false,
    bytes: build.beacon({ server_port: 5064, beacon_id: 3 }),
    fields: { server_port: 5064, beacon_id: 3 },
  },
  {
    name: 'NotFoundResponse',
    transport: 'udp',
    fromClient: false,
    bytes: build.notFoundResponse({ cid: 5 }),
    fields: { cid: 5 },
  },
  {
    name: 'ReadNotifyRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.readNotifyRequest({ data_type: D, sid: 1, ioid: 3 }),
    fields: { sid: 1, ioid: 3 },
  },
  {
    name: 'ReadNotifyResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.readNotifyResponse({ data_type: D, data: [1.5], ioid: 3 }),
    fields: { ioid: 3, data: [1.5] },
  },
  {
    name: 'RepeaterConfirmResponse',
    transport: 'udp',
    fromClient: false,
    bytes: build.repeaterConfirmResponse({ repeater_address: CLIENT }),
    fields: { repeater_address: CLIENT },
  },
  {
    name: 'CreateChanRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.createChanRequest({ name: 'a:b', cid: 5 }),
    fields: { pv: 'a:b', cid: 5 },
  },
  {
    name: 'CreateChanResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.createChanResponse({ data_type: D, data_count: 1, cid: 5, sid: 6 }),
    fields: { cid: 5, sid: 6 },
  },
  {
    name: 'WriteNotifyRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.writeNotifyRequest({ data_type: D, data: [2], sid: 1, ioid: 4 }),
    fields: { sid: 1, ioid: 4 },
  },
  {
    name: 'WriteNotifyResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.writeNotifyResponse({ data_type: D, ioid: 4 }),
    fields: { ioid: 4, status: 1 },
  },
  {
    name: 'ClientNameRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.clientNameRequest({ name: 'bob' }),
    fields: { client_name: 'bob' },
  },
  {
    name: 'HostNameRequest',
    transport: 'tcp',
    fromClient: true,
    bytes: build.hostNameRequest({ name: 'h1' }),
    fields: { host_name: 'h1' },
  },
  {
    name: 'AccessRightsResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.accessRightsResponse({ cid: 5, access_rights: 1 }),
    fields: { cid: 5, access_rights: 1 },
  },
  { name: 'EchoRequest', transport: 'tcp', fromClient: true, bytes: build.echoRequest(), fields: {} },
  { name: 'EchoResponse', transport: 'tcp', fromClient: false, bytes: build.echoResponse(), fields: {} },
  {
    name: 'RepeaterRegisterRequest',
    transport: 'udp',
    fromClient: true,
    bytes: build.repeaterRegisterRequest({ client_address: CLIENT }),
    fields: { client_address: CLIENT },
  },
  {
    name: 'CreateChFailResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.createChFailResponse({ cid: 5 }),
    fields: { cid: 5 },
  },
  {
    name: 'ServerDisconnResponse',
    transport: 'tcp',
    fromClient: false,
    bytes: build.serverDisconnResponse({ cid: 5 }),
    fields: { cid: 5 },
  },
];

async function one(row: Row): Promise<CaRecord[]> {
  const b = new PcapWriter();
  if (row.transport === 'tcp') {
    new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0).send(T0 + 1, row.fromClient, row.bytes);
  } else {
    // Beacons and repeater traffic use the repeater port; the rest the server port.
    const repeater = ['Beacon', 'RepeaterRegisterRequest'].includes(row.name);
    const confirm = row.name === 'RepeaterConfirmResponse';
    const port = repeater ? 5065 : 5064;
    if (row.fromClient) b.udp(T0, CLIENT, 40000, SERVER, port, row.bytes);
    else if (confirm) b.udp(T0, '127.0.0.1', 5065, CLIENT, 40000, row.bytes);
    else if (repeater) b.udp(T0, SERVER, 33000, '10.0.0.255', port, row.bytes);
    else b.udp(T0, SERVER, 5064, CLIENT, 40000, row.bytes);
  }
  return decode(b.bytes());
}

describe('one row per command and direction', () => {
  it.each(ROWS.map((r) => [`${r.name} (${r.transport})`, r] as const))('%s', async (_, row) => {
    const records = await one(row);
    expect(records).toHaveLength(1);
    const [r] = records;
    expect(r.command).toMatchObject({ name: row.name, ...row.fields });
    expect(r.role).toBe(row.fromClient ? 'request' : 'response');
    expect(r.role_certainty).toBe('certain');
    expect(r.size).toBe(row.bytes.length);
    expect(r.transport.protocol).toBe(row.transport);
  });

  it('covers every command code in both directions where it exists', () => {
    const ids = new Set(ROWS.map((r) => r.bytes[1]));
    for (const id of [0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 26, 27])
      expect(ids.has(id)).toBe(true);
  });
});
