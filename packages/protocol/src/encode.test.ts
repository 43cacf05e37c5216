import { describe, expect, it } from 'vitest';
import { build, concatBytes, encodeDbr, encodeMessage, encodeString } from './encode.js';
import { DbrType } from './tables.js';
import { hex, toHex } from './test-support/hex.js';

// §7.2 worked example, byte for byte.
const EXAMPLE: [string, Uint8Array, string][] = [
  [
    'UDP VERSION',
    build.versionRequest({ version: 13, sequence: 1 }),
    '00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00',
  ],
  [
    'SEARCH request',
    build.searchRequest({ name: 'demo:ai1', cid: 7, version: 13 }),
    '00 06 00 10 00 05 00 0d 00 00 00 07 00 00 00 07 64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00',
  ],
  [
    'UDP VERSION reply',
    build.versionResponse({ version: 13, sequence: 1 }),
    '00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00',
  ],
  [
    'SEARCH reply',
    build.searchResponse({ port: 5064, cid: 7, version: 13 }),
    '00 06 00 08 13 c8 00 00 ff ff ff ff 00 00 00 07 00 0d 00 00 00 00 00 00',
  ],
  [
    'TCP VERSION',
    build.versionRequest({ priority: 0, version: 13 }),
    '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00',
  ],
  [
    'CLIENT_NAME',
    build.clientNameRequest({ name: 'alice' }),
    '00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 61 6c 69 63 65 00 00 00',
  ],
  [
    'HOST_NAME',
    build.hostNameRequest({ name: 'ws1' }),
    '00 15 00 08 00 00 00 00 00 00 00 00 00 00 00 00 77 73 31 00 00 00 00 00',
  ],
  [
    'CREATE_CHAN',
    build.createChanRequest({ name: 'demo:ai1', cid: 7, version: 13 }),
    '00 12 00 10 00 00 00 00 00 00 00 07 00 00 00 0d 64 65 6d 6f 3a 61 69 31 00 00 00 00 00 00 00 00',
  ],
  ['TCP VERSION reply', build.versionResponse({ version: 13 }), '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00'],
  [
    'ACCESS_RIGHTS',
    build.accessRightsResponse({ cid: 7, access_rights: 3 }),
    '00 16 00 00 00 00 00 00 00 00 00 07 00 00 00 03',
  ],
  [
    'CREATE_CHAN reply',
    build.createChanResponse({ data_type: 6, data_count: 1, cid: 7, sid: 42 }),
    '00 12 00 00 00 06 00 01 00 00 00 07 00 00 00 2a',
  ],
  [
    'READ_NOTIFY',
    build.readNotifyRequest({ data_type: 20, data_count: 1, sid: 42, ioid: 1 }),
    '00 0f 00 00 00 14 00 01 00 00 00 2a 00 00 00 01',
  ],
  [
    'READ_NOTIFY reply',
    build.readNotifyResponse({
      data_type: DbrType.TIME_DOUBLE,
      data: [3.5],
      status: 1,
      ioid: 1,
      metadata: { status: 0, severity: 0, secondsPastEpoch: 0x3fb55380, nanoseconds: 250000000 },
    }),
    '00 0f 00 18 00 14 00 01 00 00 00 01 00 00 00 01 00 00 00 00 3f b5 53 80 0e e6 b2 80 00 00 00 00 40 0c 00 00 00 00 00 00',
  ],
  [
    'EVENT_ADD',
    build.eventAddRequest({ data_type: 20, data_count: 0, sid: 42, subscriptionid: 2, mask: 5 }),
    '00 01 00 10 00 14 00 00 00 00 00 2a 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00',
  ],
  [
    'WRITE_NOTIFY',
    build.writeNotifyRequest({ data_type: 6, data: [1.25], sid: 42, ioid: 3 }),
    '00 13 00 08 00 06 00 01 00 00 00 2a 00 00 00 03 3f f4 00 00 00 00 00 00',
  ],
  [
    'WRITE_NOTIFY reply',
    build.writeNotifyResponse({ data_type: 6, data_count: 1, status: 1, ioid: 3 }),
    '00 13 00 00 00 06 00 01 00 00 00 01 00 00 00 03',
  ],
  [
    'EVENT_CANCEL',
    build.eventCancelRequest({ data_type: 20, data_count: 0, sid: 42, subscriptionid: 2 }),
    '00 02 00 00 00 14 00 00 00 00 00 2a 00 00 00 02',
  ],
  [
    'cancel confirm',
    build.eventCancelResponse({ data_type: 20, data_count: 0, sid: 42, subscriptionid: 2 }),
    '00 01 00 00 00 14 00 00 00 00 00 2a 00 00 00 02',
  ],
  ['CLEAR_CHANNEL', build.clearChannelRequest({ sid: 42, cid: 7 }), '00 0c 00 00 00 00 00 00 00 00 00 2a 00 00 00 07'],
  [
    'CLEAR_CHANNEL reply',
    build.clearChannelResponse({ sid: 42, cid: 7 }),
    '00 0c 00 00 00 00 00 00 00 00 00 2a 00 00 00 07',
  ],
];

describe('builders reproduce the §7.2 worked example', () => {
  it.each(EXAMPLE)('%s', (_name, bytes, expected) => {
    expect(toHex(bytes)).toBe(toHex(hex(expected)));
  });
  it('TIME_DOUBLE timestamp from Unix seconds', () => {
    const b = encodeDbr(DbrType.TIME_DOUBLE, [3.5], { timestamp: 1700000000.25 });
    expect(toHex(b)).toBe('00 00 00 00 3f b5 53 80 0e e6 b2 80 00 00 00 00 40 0c 00 00 00 00 00 00');
  });
});

describe('encodeMessage', () => {
  it('pads the payload to 8', () => {
    const m = encodeMessage({ command: 20 }, new Uint8Array([1, 2, 3]));
    expect(toHex(m)).toBe('00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 01 02 03 00 00 00 00 00');
  });
  it('uses the extended header for count ≥ 0xFFFF even without payload', () => {
    const m = build.writeNotifyResponse({ data_type: 5, data_count: 0x10000, ioid: 9 });
    expect(toHex(m)).toBe('00 13 ff ff 00 05 00 00 00 00 00 01 00 00 00 09 00 00 00 00 00 01 00 00');
  });
  it('uses the extended header for payloads ≥ 0xFFFF', () => {
    const m = encodeMessage(
      { command: 1, dataType: 4, dataCount: 0xfff9, parameter1: 1, parameter2: 2 },
      new Uint8Array(0xfff9),
    );
    expect(m.length).toBe(24 + 0x10000);
    expect(toHex(m.subarray(0, 24))).toBe('00 01 ff ff 00 04 00 00 00 00 00 01 00 00 00 02 00 01 00 00 00 00 ff f9');
    const small = encodeMessage({ command: 1, dataCount: 0xfffe }, new Uint8Array(0xfff0));
    expect(small.length).toBe(16 + 0xfff0);
  });
  it('refuses to squeeze a big message into a standard header', () => {
    expect(() => encodeMessage({ command: 1, dataCount: 0x10000 }, undefined, { extended: false })).toThrow(RangeError);
  });
  it('encodes padded names', () => {
    expect(toHex(encodeString('abcdefg'))).toBe('61 62 63 64 65 66 67 00');
    expect(encodeString('abcdefgh').length).toBe(16);
    expect(encodeString('').length).toBe(8);
  });
  it('builds ERROR with the original header', () => {
    const original = build.readNotifyRequest({ data_type: 20, data_count: 1, sid: 42, ioid: 1 });
    const m = build.error({ original, cid: 7, status: 368, message: 'no' });
    expect(toHex(m)).toBe(
      toHex(
        hex(
          '00 0b 00 18 00 00 00 00 00 00 00 07 00 00 01 70 | 00 0f 00 00 00 14 00 01 00 00 00 2a 00 00 00 01 | 6e 6f 00 00 00 00 00 00',
        ),
      ),
    );
  });
  it('concatenates', () => {
    expect(concatBytes([build.echoRequest(), build.echoRequest()]).length).toBe(32);
  });
});
