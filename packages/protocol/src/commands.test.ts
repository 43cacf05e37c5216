import { describe, expect, it } from 'vitest';
import { decodeCommand, type DecodeCommandOptions } from './commands.js';
import { build, concatBytes, encodeMessage } from './encode.js';
import { Deframer } from './deframer.js';
import { MAX_DBR_TYPE, dbrElementKind } from './tables.js';
import type { CaCommand, Role } from './types.js';
import { frameOf } from './test-support/frames.js';
import { f64, hex, zeros } from './test-support/hex.js';

const OK = { status: 1, status_name: 'ECA_NORMAL', severity: 'SUCCESS' };
const TD = '00 00 00 00 3f b5 53 80 0e e6 b2 80 00 00 00 00 40 0c 00 00 00 00 00 00'; // §7.2 TIME_DOUBLE 3.5
const TD_META = {
  status: 0,
  statusName: 'NO_ALARM',
  severity: 0,
  severityName: 'NO_ALARM',
  secondsPastEpoch: 0x3fb55380,
  nanoseconds: 250000000,
  timestamp: 1700000000.25,
};

interface Row {
  name: string;
  role: Role;
  hex: string;
  options?: DecodeCommandOptions;
  expected: CaCommand;
}

// One row per command and direction; bytes written from the reference's §3 and §7.2.
const ROWS: Row[] = [
  {
    name: 'VERSION TCP C→S',
    role: 'request',
    hex: '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00',
    expected: { name: 'VersionRequest', id: 0, priority: 0, version: 13, parameter1: 0 },
  },
  {
    name: 'VERSION TCP C→S priority 50',
    role: 'request',
    hex: '00 00 00 00 00 32 00 0b 00 00 00 00 00 00 00 00',
    expected: { name: 'VersionRequest', id: 0, priority: 50, version: 11, parameter1: 0 },
  },
  {
    name: 'VERSION TCP S→C (RSRV)',
    role: 'response',
    hex: '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00',
    expected: { name: 'VersionResponse', id: 0, priority: 0, version: 13, parameter1: 0 },
  },
  {
    name: 'VERSION UDP C→S',
    role: 'request',
    hex: '00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00',
    options: { udp: true },
    expected: { name: 'VersionRequest', id: 0, version: 13, flag: 1, sequence: 1 },
  },
  {
    name: 'VERSION UDP S→C',
    role: 'response',
    hex: '00 00 00 00 00 01 00 0d 00 00 01 00 00 00 00 00',
    options: { udp: true },
    expected: { name: 'VersionResponse', id: 0, version: 13, flag: 1, sequence: 256 },
  },
  {
    name: 'EVENT_ADD request',
    role: 'request',
    hex: '00 01 00 10 00 14 00 00 00 00 00 2a 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00',
    expected: {
      name: 'EventAddRequest',
      id: 1,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 0,
      sid: 42,
      subscriptionid: 2,
      low: 0,
      high: 0,
      to: 0,
      mask: 5,
    },
  },
  {
    name: 'EVENT_ADD update',
    role: 'response',
    hex: `00 01 00 18 00 14 00 01 00 00 00 01 00 00 00 02 ${TD}`,
    expected: {
      name: 'EventAddResponse',
      id: 1,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 1,
      ...OK,
      subscriptionid: 2,
      data: [3.5],
      metadata: TD_META,
    },
  },
  {
    name: 'EVENT_ADD cancel confirmation',
    role: 'response',
    hex: '00 01 00 00 00 14 00 00 00 00 00 2a 00 00 00 02',
    expected: {
      name: 'EventCancelResponse',
      id: 1,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 0,
      sid: 42,
      subscriptionid: 2,
    },
  },
  {
    name: 'EVENT_ADD empty count-0 update (caller knows)',
    role: 'response',
    hex: '00 01 00 00 00 05 00 00 00 00 00 01 00 00 00 02',
    options: { emptyEventIsUpdate: true },
    expected: {
      name: 'EventAddResponse',
      id: 1,
      data_type: 5,
      data_type_name: 'LONG',
      data_count: 0,
      ...OK,
      subscriptionid: 2,
      data: [],
    },
  },
  {
    name: 'EVENT_CANCEL',
    role: 'request',
    hex: '00 02 00 00 00 14 00 00 00 00 00 2a 00 00 00 02',
    expected: {
      name: 'EventCancelRequest',
      id: 2,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 0,
      sid: 42,
      subscriptionid: 2,
    },
  },
  {
    name: 'READ request',
    role: 'request',
    hex: '00 03 00 00 00 06 00 01 00 00 00 2a 00 00 00 05',
    expected: { name: 'ReadRequest', id: 3, data_type: 6, data_type_name: 'DOUBLE', data_count: 1, sid: 42, ioid: 5 },
  },
  {
    name: 'READ reply',
    role: 'response',
    hex: `00 03 00 08 00 06 00 01 00 00 00 07 00 00 00 05 ${f64(2)}`,
    expected: {
      name: 'ReadResponse',
      id: 3,
      data_type: 6,
      data_type_name: 'DOUBLE',
      data_count: 1,
      sid: 7,
      ioid: 5,
      data: [2],
    },
  },
  {
    name: 'WRITE (short string)',
    role: 'request',
    hex: '00 04 00 08 00 00 00 01 00 00 00 2a 00 00 00 07 61 62 63 00 00 00 00 00',
    expected: {
      name: 'WriteRequest',
      id: 4,
      data_type: 0,
      data_type_name: 'STRING',
      data_count: 1,
      sid: 42,
      ioid: 7,
      data: ['abc'],
    },
  },
  {
    name: 'SEARCH request',
    role: 'request',
    hex: '00 06 00 10 00 05 00 0d 00 00 00 07 00 00 00 07 64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00',
    expected: { name: 'SearchRequest', id: 6, pv: 'demo:ai1', cid: 7, version: 13, reply: 5 },
  },
  {
    name: 'SEARCH reply (RSRV, use source address)',
    role: 'response',
    hex: '00 06 00 08 13 c8 00 00 ff ff ff ff 00 00 00 07 00 0d 00 00 00 00 00 00',
    expected: {
      name: 'SearchResponse',
      id: 6,
      port: 5064,
      ip: '255.255.255.255',
      ip_raw: 0xffffffff,
      use_source_address: true,
      cid: 7,
      version: 13,
    },
  },
  {
    name: 'SEARCH reply (PCAS, address and dynamic port)',
    role: 'response',
    hex: '00 06 00 08 13 ce 00 00 0a 00 01 0b 00 00 00 09 00 0c 00 00 00 00 00 00',
    expected: {
      name: 'SearchResponse',
      id: 6,
      port: 5070,
      ip: '10.0.1.11',
      ip_raw: 0x0a00010b,
      use_source_address: false,
      cid: 9,
      version: 12,
    },
  },
  {
    name: 'SEARCH reply over TCP (no payload)',
    role: 'response',
    hex: '00 06 00 00 13 c8 00 00 ff ff ff ff 00 00 00 07',
    expected: {
      name: 'SearchResponse',
      id: 6,
      port: 5064,
      ip: '255.255.255.255',
      ip_raw: 0xffffffff,
      use_source_address: true,
      cid: 7,
      version: undefined,
    },
  },
  {
    name: 'EVENTS_OFF',
    role: 'request',
    hex: '00 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    expected: { name: 'EventsOffRequest', id: 8 },
  },
  {
    name: 'EVENTS_ON',
    role: 'request',
    hex: '00 09 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    expected: { name: 'EventsOnRequest', id: 9 },
  },
  {
    name: 'READ_SYNC request',
    role: 'request',
    hex: '00 0a 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    expected: { name: 'ReadSyncRequest', id: 10 },
  },
  {
    name: 'READ_SYNC echo',
    role: 'response',
    hex: '00 0a 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    expected: { name: 'ReadSyncResponse', id: 10 },
  },
  {
    name: 'ERROR with a 16-byte original header',
    role: 'response',
    hex: '00 0b 00 18 00 00 00 00 00 00 00 07 00 00 01 70 | 00 0f 00 00 00 14 00 01 00 00 00 2a 00 00 00 01 | 62 61 64 00 00 00 00 00',
    expected: {
      name: 'ErrorResponse',
      id: 11,
      original_request: {
        command: 15,
        command_name: 'READ_NOTIFY',
        request_name: 'ReadNotifyRequest',
        payload_size: 0,
        data_type: 20,
        data_count: 1,
        parameter1: 42,
        parameter2: 1,
        header_size: 16,
      },
      cid: 7,
      status_code: 368,
      status_name: 'ECA_NORDACCESS',
      severity: 'WARNING',
      error_message: 'bad',
    },
  },
  {
    name: 'ERROR with a 24-byte original header',
    role: 'response',
    hex: '00 0b 00 20 00 00 00 00 ff ff ff ff 00 00 00 a0 | 00 13 ff ff 00 05 00 00 00 00 00 2a 00 00 00 09 00 00 00 08 00 01 00 00 | 78 00 00 00 00 00 00 00',
    expected: {
      name: 'ErrorResponse',
      id: 11,
      original_request: {
        command: 19,
        command_name: 'WRITE_NOTIFY',
        request_name: 'WriteNotifyRequest',
        payload_size: 8,
        data_type: 5,
        data_count: 65536,
        parameter1: 42,
        parameter2: 9,
        header_size: 24,
      },
      cid: 0xffffffff,
      status_code: 160,
      status_name: 'ECA_PUTFAIL',
      severity: 'WARNING',
      error_message: 'x',
    },
  },
  {
    name: 'CLEAR_CHANNEL request',
    role: 'request',
    hex: '00 0c 00 00 00 00 00 00 00 00 00 2a 00 00 00 07',
    expected: { name: 'ClearChannelRequest', id: 12, sid: 42, cid: 7 },
  },
  {
    name: 'CLEAR_CHANNEL reply',
    role: 'response',
    hex: '00 0c 00 00 00 00 00 00 00 00 00 2a 00 00 00 07',
    expected: { name: 'ClearChannelResponse', id: 12, sid: 42, cid: 7 },
  },
  {
    name: 'RSRV_IS_UP (PCAS, with address)',
    role: 'response',
    hex: '00 0d 00 00 00 0d 13 c8 00 00 00 05 0a 00 01 0b',
    expected: {
      name: 'Beacon',
      id: 13,
      version: 13,
      server_port: 5064,
      beacon_id: 5,
      address: '10.0.1.11',
      address_raw: 0x0a00010b,
    },
  },
  {
    name: 'NOT_FOUND',
    role: 'response',
    hex: '00 0e 00 00 00 0a 00 0d 00 00 00 07 00 00 00 07',
    expected: { name: 'NotFoundResponse', id: 14, reply: 10, reply_flag: 10, version: 13, cid: 7 },
  },
  {
    name: 'READ_NOTIFY request',
    role: 'request',
    hex: '00 0f 00 00 00 14 00 01 00 00 00 2a 00 00 00 01',
    expected: {
      name: 'ReadNotifyRequest',
      id: 15,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 1,
      sid: 42,
      ioid: 1,
    },
  },
  {
    name: 'READ_NOTIFY reply',
    role: 'response',
    hex: `00 0f 00 18 00 14 00 01 00 00 00 01 00 00 00 01 ${TD}`,
    expected: {
      name: 'ReadNotifyResponse',
      id: 15,
      data_type: 20,
      data_type_name: 'TIME_DOUBLE',
      data_count: 1,
      ...OK,
      ioid: 1,
      data: [3.5],
      metadata: TD_META,
    },
  },
  {
    name: 'READ_NOTIFY failed reply (zero-filled)',
    role: 'response',
    hex: `00 0f 00 08 00 06 00 01 00 00 00 98 00 00 00 01 ${zeros(8)}`,
    expected: {
      name: 'ReadNotifyResponse',
      id: 15,
      data_type: 6,
      data_type_name: 'DOUBLE',
      data_count: 1,
      status: 152,
      status_name: 'ECA_GETFAIL',
      severity: 'WARNING',
      failed: true,
      ioid: 1,
      data: [0],
    },
  },
  {
    name: 'READ_NOTIFY reply with enum strings known',
    role: 'response',
    hex: `00 0f 00 08 00 03 00 01 00 00 00 01 00 00 00 04 00 01 00 00 00 00 00 00`,
    options: { enumStrings: ['Off', 'On'] },
    expected: {
      name: 'ReadNotifyResponse',
      id: 15,
      data_type: 3,
      data_type_name: 'ENUM',
      data_count: 1,
      ...OK,
      ioid: 4,
      data: [1],
      enum_labels: ['On'],
    },
  },
  {
    name: 'REPEATER_CONFIRM',
    role: 'response',
    hex: '00 11 00 00 00 00 00 00 00 00 00 00 7f 00 00 01',
    expected: { name: 'RepeaterConfirmResponse', id: 17, repeater_address: '127.0.0.1' },
  },
  {
    name: 'CREATE_CHAN request',
    role: 'request',
    hex: '00 12 00 10 00 00 00 00 00 00 00 07 00 00 00 0d 64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00',
    expected: { name: 'CreateChanRequest', id: 18, pv: 'demo:ai1', cid: 7, version: 13 },
  },
  {
    name: 'CREATE_CHAN reply',
    role: 'response',
    hex: '00 12 00 00 00 06 00 01 00 00 00 07 00 00 00 2a',
    expected: {
      name: 'CreateChanResponse',
      id: 18,
      data_type: 6,
      data_type_name: 'DOUBLE',
      data_count: 1,
      cid: 7,
      sid: 42,
    },
  },
  {
    name: 'WRITE_NOTIFY request',
    role: 'request',
    hex: '00 13 00 08 00 06 00 01 00 00 00 2a 00 00 00 03 3f f4 00 00 00 00 00 00',
    expected: {
      name: 'WriteNotifyRequest',
      id: 19,
      data_type: 6,
      data_type_name: 'DOUBLE',
      data_count: 1,
      sid: 42,
      ioid: 3,
      data: [1.25],
    },
  },
  {
    name: 'WRITE_NOTIFY reply',
    role: 'response',
    hex: '00 13 00 00 00 06 00 01 00 00 00 01 00 00 00 03',
    expected: {
      name: 'WriteNotifyResponse',
      id: 19,
      data_type: 6,
      data_type_name: 'DOUBLE',
      data_count: 1,
      ...OK,
      ioid: 3,
    },
  },
  {
    name: 'WRITE_NOTIFY reply, extended header (count ≥ 0xFFFF)',
    role: 'response',
    hex: '00 13 ff ff 00 05 00 00 00 00 00 01 00 00 00 09 00 00 00 00 00 01 00 00',
    expected: {
      name: 'WriteNotifyResponse',
      id: 19,
      data_type: 5,
      data_type_name: 'LONG',
      data_count: 65536,
      ...OK,
      ioid: 9,
      extended: true,
    },
  },
  {
    name: 'CLIENT_NAME',
    role: 'request',
    hex: `00 14 00 08 ${zeros(12)} 61 6c 69 63 65 00 00 00`,
    expected: { name: 'ClientNameRequest', id: 20, client_name: 'alice' },
  },
  {
    name: 'HOST_NAME',
    role: 'request',
    hex: `00 15 00 08 ${zeros(12)} 77 73 31 00 00 00 00 00`,
    expected: { name: 'HostNameRequest', id: 21, host_name: 'ws1' },
  },
  {
    name: 'ACCESS_RIGHTS read+write',
    role: 'response',
    hex: '00 16 00 00 00 00 00 00 00 00 00 07 00 00 00 03',
    expected: { name: 'AccessRightsResponse', id: 22, cid: 7, access_rights: 3, read: true, write: true },
  },
  {
    name: 'ACCESS_RIGHTS read-only',
    role: 'response',
    hex: '00 16 00 00 00 00 00 00 00 00 00 08 00 00 00 01',
    expected: { name: 'AccessRightsResponse', id: 22, cid: 8, access_rights: 1, read: true, write: false },
  },
  { name: 'ECHO request', role: 'request', hex: `00 17 ${zeros(14)}`, expected: { name: 'EchoRequest', id: 23 } },
  { name: 'ECHO reply', role: 'response', hex: `00 17 ${zeros(14)}`, expected: { name: 'EchoResponse', id: 23 } },
  {
    name: 'REPEATER_REGISTER',
    role: 'request',
    hex: '00 18 00 00 00 00 00 00 00 00 00 00 7f 00 00 01',
    expected: { name: 'RepeaterRegisterRequest', id: 24, client_address: '127.0.0.1' },
  },
  {
    name: 'CREATE_CH_FAIL',
    role: 'response',
    hex: '00 1a 00 00 00 00 00 00 00 00 00 07 00 00 00 00',
    expected: { name: 'CreateChFailResponse', id: 26, cid: 7 },
  },
  {
    name: 'SERVER_DISCONN',
    role: 'response',
    hex: '00 1b 00 00 00 00 00 00 00 00 00 07 00 00 00 00',
    expected: { name: 'ServerDisconnResponse', id: 27, cid: 7 },
  },
];

describe('decodeCommand: one row per command and direction', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_n, row) => {
    expect(decodeCommand(frameOf(hex(row.hex)), row.role, row.options)).toEqual(row.expected);
  });

  it('covers every live command code', () => {
    const ids = new Set(ROWS.map((r) => r.expected.id));
    expect([...ids].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 26, 27,
    ]);
  });

  it('decodes one-directional commands the same whatever the role', () => {
    for (const row of ROWS) {
      if ([0, 1, 3, 6, 10, 12, 15, 18, 19, 23].includes(row.expected.id)) continue;
      const other: Role = row.role === 'request' ? 'response' : 'request';
      expect(decodeCommand(frameOf(hex(row.hex)), other, row.options)).toEqual(row.expected);
    }
  });

  it('reports obsolete and unknown codes raw', () => {
    const frame = {
      command: 5,
      payloadSize: 0,
      dataType: 1,
      dataCount: 2,
      parameter1: 3,
      parameter2: 4,
      headerSize: 16,
      payload: new Uint8Array(0),
      bytes: new Uint8Array(16),
    };
    expect(decodeCommand(frame, 'request')).toEqual({
      name: 'Unknown',
      id: 5,
      command_name: 'SNAPSHOT',
      payload_size: 0,
      data_type: 1,
      data_count: 2,
      parameter1: 3,
      parameter2: 4,
    });
    expect(decodeCommand({ ...frame, command: 99 }, 'response')).toMatchObject({ name: 'Unknown', command_name: '99' });
  });

  it('never throws on short payloads', () => {
    const frame = {
      command: 1,
      payloadSize: 16,
      dataType: 20,
      dataCount: 1,
      parameter1: 42,
      parameter2: 2,
      headerSize: 16,
      payload: new Uint8Array(3),
      bytes: new Uint8Array(19),
      truncated: true,
    };
    expect(decodeCommand(frame, 'request')).toMatchObject({
      name: 'EventAddRequest',
      problem: 'EVENT_ADD request payload of 3 bytes, expected 16',
      truncated: true,
    });
    expect(decodeCommand(frame, 'response')).toMatchObject({ name: 'EventAddResponse', data: [], truncated: true });
    expect(decodeCommand({ ...frame, command: 11, payload: new Uint8Array(8) }, 'response')).toMatchObject({
      name: 'ErrorResponse',
      original_request: undefined,
      error_message: '',
    });
    expect(decodeCommand({ ...frame, command: 6, payload: new Uint8Array(1) }, 'response')).toMatchObject({
      version: undefined,
    });
  });

  it('can skip DBR decoding', () => {
    const row = ROWS.find((r) => r.name === 'READ_NOTIFY reply')!;
    const c = decodeCommand(frameOf(hex(row.hex)), 'response', { skipData: true });
    expect(c).not.toHaveProperty('data');
    expect(c).toMatchObject({ name: 'ReadNotifyResponse', ioid: 1 });
  });

  it('labels enum updates from GR_ENUM metadata', () => {
    const m = build.eventAddResponse({
      data_type: 24,
      data: [2],
      subscriptionid: 1,
      metadata: { enumStrings: ['a', 'b', 'c'] },
    });
    expect(decodeCommand(frameOf(m), 'response')).toMatchObject({
      data: [2],
      enum_labels: ['c'],
      metadata: { enumStrings: ['a', 'b', 'c'] },
    });
  });
});

describe('builders round-trip through the decoder', () => {
  const cases: [string, Uint8Array, Role, Record<string, unknown>, DecodeCommandOptions?][] = [
    [
      'versionRequest',
      build.versionRequest({ priority: 10, version: 12 }),
      'request',
      { name: 'VersionRequest', priority: 10, version: 12 },
    ],
    [
      'versionRequest udp',
      build.versionRequest({ version: 13, sequence: 77 }),
      'request',
      { name: 'VersionRequest', flag: 1, sequence: 77 },
      { udp: true },
    ],
    ['versionResponse', build.versionResponse({ version: 11 }), 'response', { name: 'VersionResponse', version: 11 }],
    [
      'versionResponse caproto',
      build.versionResponse({ caproto: true }),
      'response',
      { name: 'VersionResponse', version: 13 },
    ],
    [
      'searchRequest',
      build.searchRequest({ name: 'a:b.VAL', cid: 0, reply: 10, version: 12 }),
      'request',
      { pv: 'a:b.VAL', cid: 0, reply: 10, version: 12 },
    ],
    [
      'searchResponse',
      build.searchResponse({ port: 5099, ip: '192.168.1.2', cid: 4 }),
      'response',
      { port: 5099, ip: '192.168.1.2', cid: 4, version: 13 },
    ],
    [
      'searchResponse tcp',
      build.searchResponse({ cid: 4, tcp: true }),
      'response',
      { port: 5064, use_source_address: true, version: undefined },
    ],
    [
      'notFoundResponse',
      build.notFoundResponse({ cid: 3, version: 11 }),
      'response',
      { name: 'NotFoundResponse', reply: 10, cid: 3, version: 11 },
    ],
    [
      'beacon',
      build.beacon({ version: 13, server_port: 5070, beacon_id: 0xffffffff, address: '10.1.2.3' }),
      'response',
      { server_port: 5070, beacon_id: 0xffffffff, address: '10.1.2.3' },
    ],
    [
      'repeaterRegisterRequest',
      build.repeaterRegisterRequest({ client_address: '0.0.0.0' }),
      'request',
      { client_address: '0.0.0.0' },
    ],
    [
      'repeaterConfirmResponse',
      build.repeaterConfirmResponse({ repeater_address: '10.0.0.5' }),
      'response',
      { repeater_address: '10.0.0.5' },
    ],
    [
      'eventAddRequest',
      build.eventAddRequest({ data_type: 34, data_count: 10, sid: 1, subscriptionid: 2, mask: 13, low: 1.5 }),
      'request',
      { data_type: 34, data_count: 10, sid: 1, subscriptionid: 2, mask: 13, low: 1.5 },
    ],
    [
      'eventAddResponse',
      build.eventAddResponse({ data_type: 19, data: [1, 2, 3], subscriptionid: 9, metadata: { severity: 2 } }),
      'response',
      { data: [1, 2, 3], data_count: 3, subscriptionid: 9, metadata: { severityName: 'MAJOR' } },
    ],
    [
      'eventCancelRequest',
      build.eventCancelRequest({ data_type: 6, data_count: 1, sid: 1, subscriptionid: 2 }),
      'request',
      { name: 'EventCancelRequest', sid: 1, subscriptionid: 2 },
    ],
    [
      'eventCancelResponse',
      build.eventCancelResponse({ data_type: 6, data_count: 70000, sid: 1, subscriptionid: 2 }),
      'response',
      { name: 'EventCancelResponse', data_count: 70000 },
    ],
    [
      'readRequest',
      build.readRequest({ data_type: 0, sid: 5, ioid: 6 }),
      'request',
      { name: 'ReadRequest', sid: 5, ioid: 6 },
    ],
    [
      'readResponse',
      build.readResponse({ data_type: 0, data: ['x'], sid: 5, ioid: 6 }),
      'response',
      { name: 'ReadResponse', data: ['x'] },
    ],
    [
      'writeRequest',
      build.writeRequest({ data_type: 4, data: [1, 2, 3], sid: 5, ioid: 6 }),
      'request',
      { name: 'WriteRequest', data: [1, 2, 3], data_count: 3 },
    ],
    ['eventsOffRequest', build.eventsOffRequest(), 'request', { name: 'EventsOffRequest' }],
    ['eventsOnRequest', build.eventsOnRequest(), 'request', { name: 'EventsOnRequest' }],
    ['readSyncRequest', build.readSyncRequest(), 'request', { name: 'ReadSyncRequest' }],
    ['readSyncResponse', build.readSyncResponse(), 'response', { name: 'ReadSyncResponse' }],
    [
      'errorResponse',
      build.errorResponse({
        original_request: { command: 4, dataType: 6, dataCount: 1, parameter1: 9, parameter2: 10 },
        cid: 3,
        status_code: 376,
        error_message: 'no write access to rec.VAL',
      }),
      'response',
      {
        cid: 3,
        status_code: 376,
        status_name: 'ECA_NOWTACCESS',
        error_message: 'no write access to rec.VAL',
        original_request: { request_name: 'WriteRequest', parameter1: 9 },
      },
    ],
    [
      'clearChannelRequest',
      build.clearChannelRequest({ sid: 1, cid: 2 }),
      'request',
      { name: 'ClearChannelRequest', sid: 1, cid: 2 },
    ],
    [
      'clearChannelResponse',
      build.clearChannelResponse({ sid: 1, cid: 2 }),
      'response',
      { name: 'ClearChannelResponse', sid: 1, cid: 2 },
    ],
    [
      'readNotifyRequest',
      build.readNotifyRequest({ data_type: 31, data_count: 1, sid: 1, ioid: 2 }),
      'request',
      { data_type_name: 'CTRL_ENUM' },
    ],
    [
      'readNotifyResponse',
      build.readNotifyResponse({ data_type: 31, data: [1], ioid: 2, metadata: { enumStrings: ['no', 'yes'] } }),
      'response',
      { data: [1], enum_labels: ['yes'], ioid: 2, status_name: 'ECA_NORMAL' },
    ],
    [
      'readNotifyResponse failed',
      build.readNotifyResponse({ data_type: 20, data_count: 2, status: 152, ioid: 2 }),
      'response',
      { failed: true, data: [0, 0] },
    ],
    ['createChanRequest', build.createChanRequest({ name: 'x', cid: 1 }), 'request', { pv: 'x', cid: 1, version: 13 }],
    [
      'createChanResponse',
      build.createChanResponse({ data_type: 0, data_count: 1, cid: 1, sid: 2 }),
      'response',
      { sid: 2 },
    ],
    [
      'writeNotifyRequest',
      build.writeNotifyRequest({ data_type: 0, data: ['hello'], sid: 1, ioid: 2 }),
      'request',
      { data: ['hello'] },
    ],
    [
      'writeNotifyResponse',
      build.writeNotifyResponse({ data_type: 0, status: 160, ioid: 2 }),
      'response',
      { status_name: 'ECA_PUTFAIL', failed: true },
    ],
    ['clientNameRequest', build.clientNameRequest({ name: 'bob' }), 'request', { client_name: 'bob' }],
    ['hostNameRequest', build.hostNameRequest({ name: 'h.example.org' }), 'request', { host_name: 'h.example.org' }],
    [
      'accessRightsResponse',
      build.accessRightsResponse({ cid: 1, access_rights: 2 }),
      'response',
      { read: false, write: true },
    ],
    ['echoRequest', build.echoRequest(), 'request', { name: 'EchoRequest' }],
    ['echoResponse', build.echoResponse(), 'response', { name: 'EchoResponse' }],
    ['createChFailResponse', build.createChFailResponse({ cid: 5 }), 'response', { cid: 5 }],
    ['serverDisconnResponse', build.serverDisconnResponse({ cid: 6 }), 'response', { cid: 6 }],
  ];
  it.each(cases)('%s', (_n, bytes, role, expected, options) => {
    expect(decodeCommand(frameOf(bytes), role, options)).toMatchObject(expected);
  });
  it('has a case for every builder', () => {
    const names = new Set(cases.map((c) => c[0].split(' ')[0]));
    for (const k of Object.keys(build)) if (k !== 'error') expect(names.has(k), k).toBe(true);
  });
});

describe('decoding a deframed payload in place', () => {
  it('gives what decoding a copy of it gives, for every DBR type, amid other messages', () => {
    const values = (type: number, n: number): (number | string)[] =>
      Array.from({ length: n }, (_, i) => (dbrElementKind(type) === 'string' ? `v${i}` : i + 1));
    const messages: Uint8Array[] = [];
    for (let type = 0; type <= MAX_DBR_TYPE; type++) {
      for (const n of [1, 3, 300]) {
        const metadata = { units: 'mm', precision: 2, enumStrings: ['a', 'b'], timestamp: 1_700_000_000.5 };
        messages.push(build.readNotifyResponse({ data_type: type, data: values(type, n), metadata, ioid: type }));
      }
    }
    // A one-element string cut to 8 bytes (libca), then a message: the string stops at its own payload.
    messages.push(
      encodeMessage(
        { command: 15, dataType: 0, dataCount: 1, parameter1: 1, parameter2: 99 },
        new TextEncoder().encode('ABCDEFGH'),
      ),
    );
    messages.push(build.clientNameRequest({ name: 'zz' }));
    const inPlace: CaCommand[] = [];
    const copied: CaCommand[] = [];
    const d = new Deframer();
    d.push(
      concatBytes(messages),
      (f) => {
        if (f.command !== 15) return;
        inPlace.push(decodeCommand(f, 'response'));
        copied.push(decodeCommand({ ...f, payload: f.payload.slice(), bytes: f.bytes.slice() }, 'response'));
      },
      () => expect.unreachable(),
    );
    expect(inPlace).toHaveLength(3 * (MAX_DBR_TYPE + 1) + 1);
    expect(inPlace).toEqual(copied);
    expect(inPlace[inPlace.length - 1]).toMatchObject({ data: ['ABCDEFGH'] });
  });
});
