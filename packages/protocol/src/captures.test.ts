import { describe, expect, it } from 'vitest';
import { decodeCommand } from './commands.js';
import { deframeDatagram } from './deframer.js';
import { guessRole } from './role.js';
import type { CaCommand, CaFrame, Role } from './types.js';
import { framesOf } from './test-support/frames.js';
import { hex } from './test-support/hex.js';

// Messages copied byte for byte from the real captures in packages/packet/fixtures (cashark's and
// caproto's test data, BSD licences there), named by file and frame number.
const STRINGS_1_TO_5 = ['1', '2', '3', '4', '5']
  .map((s) => `${s.charCodeAt(0).toString(16)} ${'00 '.repeat(39)}`)
  .join(' ');

const ROWS: [string, Role, string, Partial<CaCommand>, boolean?][] = [
  [
    'catest.pcap #84: libca UDP VERSION (flag 1, sequence 1)',
    'request',
    '00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00',
    { name: 'VersionRequest', version: 13, flag: 1, sequence: 1 },
    true,
  ],
  [
    'catest.pcap #84: libca search for a field name',
    'request',
    '00 06 00 10 00 05 00 0d 00 00 00 01 00 00 00 01 74 65 73 74 3a 77 66 2e 4e 4f 52 44 00 00 00 00',
    { name: 'SearchRequest', pv: 'test:wf.NORD', cid: 1, reply: 5, version: 13 },
  ],
  [
    'catest.pcap #2: RSRV search reply',
    'response',
    '00 06 00 08 13 c8 00 00 ff ff ff ff 00 00 00 01 00 0d 00 00 00 00 00 00',
    { name: 'SearchResponse', port: 5064, use_source_address: true, cid: 1, version: 13 },
  ],
  [
    'catest.pcap #28: libca WRITE of a short string, CID in p2',
    'request',
    '00 04 00 08 00 00 00 01 00 00 00 03 00 00 00 01 31 00 00 00 00 00 00 00',
    { name: 'WriteRequest', data_type: 0, data_count: 1, sid: 3, ioid: 1, data: ['1'] },
  ],
  [
    'catest.pcap #128: count-0 update of an old IOC with one slack element, junk in the RISC pad',
    'response',
    '00 01 00 18 00 14 00 00 00 00 00 01 00 00 00 01 00 11 00 03 00 00 00 00 00 00 00 00 00 00 00 03 00 12 00 00 00 06 04 00',
    {
      name: 'EventAddResponse',
      data_count: 0,
      status_name: 'ECA_NORMAL',
      subscriptionid: 1,
      data: [],
      metadata: {
        status: 17,
        statusName: 'UDF',
        severity: 3,
        severityName: 'INVALID',
        secondsPastEpoch: 0,
        nanoseconds: 0,
      },
    },
  ],
  [
    'example_tcp_data.pcap #6: caproto server TCP VERSION (dt 1, p1 1)',
    'response',
    '00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00',
    { name: 'VersionResponse', version: 13 },
  ],
  [
    'example_tcp_data.pcap #36: caproto cancel confirmation with count 0',
    'response',
    '00 01 00 00 00 00 00 00 00 00 00 01 00 00 00 00',
    { name: 'EventCancelResponse', data_type: 0, data_count: 0, sid: 1, subscriptionid: 0 },
  ],
  [
    'example_udp_data.pcap #1: caproto client UDP VERSION (dt 0, p1 0: no sequence number)',
    'request',
    '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00',
    { name: 'VersionRequest', version: 13, flag: 0, sequence: 0 },
    true,
  ],
  [
    'ca_monitor2.pcapng #1: RSRV beacon (address 0 = use the source)',
    'response',
    '00 0d 00 00 00 0d 13 c8 00 00 00 09 00 00 00 00',
    { name: 'Beacon', version: 13, server_port: 5064, beacon_id: 9, address: '0.0.0.0' },
  ],
  [
    'ca_arrays.pcapng #24: WRITE of a 5-element string array',
    'request',
    `00 04 00 c8 00 00 00 05 00 00 00 0b 00 00 00 01 ${STRINGS_1_TO_5}`,
    { name: 'WriteRequest', data_count: 5, data: ['1', '2', '3', '4', '5'] },
  ],
];

describe('messages from the real captures', () => {
  it.each(ROWS)('%s', (_n, role, h, expected, udp) => {
    const bytes = hex(h);
    let frames: CaFrame[];
    if (udp) {
      frames = [];
      expect(
        deframeDatagram(
          bytes,
          (f) => frames.push(f),
          () => {},
        ),
      ).toBe(true);
    } else {
      frames = framesOf(bytes);
    }
    expect(frames).toHaveLength(1);
    expect(decodeCommand(frames[0], role, { udp })).toMatchObject(expected);
    const g = guessRole(frames[0]);
    if (g !== undefined && !g.ambiguous) expect(g.role).toBe(role);
  });
});
