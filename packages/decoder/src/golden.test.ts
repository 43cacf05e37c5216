import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shark } from './shark.js';
import type { CaRecord } from './record.js';
import { goldenLine } from './test-support/golden.js';

const FIXTURES = new URL('../../packet/fixtures/', import.meta.url);
const OWN_FIXTURES = new URL('../fixtures/', import.meta.url);
const GOLDEN = new URL('./golden/', import.meta.url);

/**
 * Per capture: our per-command counts (checked against the packet bytes, see the golden files' headers)
 * and the number of CA messages Wireshark's cashark dissector finds (fixtures README): a floor.
 */
const CAPTURES: { file: string; wireshark: number; counts: Record<string, number>; own?: boolean }[] = [
  {
    file: 'example_tcp_data.pcap',
    wireshark: 22,
    counts: {
      VersionRequest: 1,
      VersionResponse: 1,
      ClientNameRequest: 1,
      HostNameRequest: 1,
      CreateChanRequest: 1,
      AccessRightsResponse: 1,
      CreateChanResponse: 1,
      ReadNotifyRequest: 2,
      ReadNotifyResponse: 2,
      WriteNotifyRequest: 1,
      WriteNotifyResponse: 1,
      EventAddRequest: 1,
      EventAddResponse: 4,
      EventCancelRequest: 1,
      EventCancelResponse: 1,
      ClearChannelRequest: 1,
      ServerDisconnResponse: 1,
    },
  },
  {
    file: 'example_udp_data.pcap',
    wireshark: 16,
    counts: { VersionRequest: 4, SearchRequest: 4, VersionResponse: 4, SearchResponse: 4 },
  },
  {
    file: 'catest.pcap',
    wireshark: 148,
    counts: {
      VersionRequest: 18,
      VersionResponse: 18,
      SearchRequest: 9,
      SearchResponse: 9,
      ClientNameRequest: 9,
      HostNameRequest: 9,
      CreateChanRequest: 9,
      AccessRightsResponse: 9,
      CreateChanResponse: 9,
      ReadNotifyRequest: 10,
      ReadNotifyResponse: 10,
      ClearChannelRequest: 6,
      ClearChannelResponse: 6,
      WriteRequest: 2,
      EventAddRequest: 3,
      EventAddResponse: 10,
      WriteNotifyRequest: 1,
      WriteNotifyResponse: 1,
    },
  },
  {
    file: 'ca_monitor.pcapng',
    wireshark: 15,
    counts: {
      VersionRequest: 2,
      VersionResponse: 2,
      SearchRequest: 1,
      SearchResponse: 1,
      ClientNameRequest: 1,
      HostNameRequest: 1,
      CreateChanRequest: 1,
      AccessRightsResponse: 1,
      CreateChanResponse: 1,
      EventAddRequest: 1,
      EventAddResponse: 3,
    },
  },
  {
    file: 'ca_monitor2.pcapng',
    wireshark: 33,
    counts: {
      Beacon: 1,
      VersionRequest: 2,
      VersionResponse: 2,
      SearchRequest: 2,
      SearchResponse: 2,
      ClientNameRequest: 1,
      HostNameRequest: 1,
      CreateChanRequest: 2,
      AccessRightsResponse: 2,
      CreateChanResponse: 2,
      EventAddRequest: 2,
      EventAddResponse: 14,
    },
  },
  { file: 'cabeacon.cap', wireshark: 8, counts: { Beacon: 8 } },
  {
    file: 'ca_arrays.pcapng',
    wireshark: 70,
    counts: {
      VersionRequest: 6,
      VersionResponse: 6,
      ClientNameRequest: 6,
      HostNameRequest: 6,
      CreateChanRequest: 7,
      AccessRightsResponse: 7,
      CreateChanResponse: 7,
      ReadNotifyRequest: 5,
      ReadNotifyResponse: 5,
      ClearChannelRequest: 4,
      ClearChannelResponse: 4,
      WriteRequest: 1,
      EventAddRequest: 3,
      EventAddResponse: 3,
    },
  },
  {
    // Our own recording of libca talking to the simulator on TCP 45123 (fixtures/README.md). No Wireshark
    // count: cashark only dissects TCP 5064; the floor is the IOC's own statistics (8 search requests,
    // 4 replies, 5 reads, 1 write, 16 updates).
    file: 'libca-sim.pcap',
    own: true,
    wireshark: 0,
    counts: {
      Beacon: 9,
      VersionRequest: 9,
      SearchRequest: 8,
      VersionResponse: 5,
      SearchResponse: 4,
      ClientNameRequest: 1,
      HostNameRequest: 1,
      CreateChanRequest: 4,
      AccessRightsResponse: 4,
      CreateChanResponse: 4,
      EventAddRequest: 4,
      EventAddResponse: 16,
      ReadNotifyRequest: 5,
      ReadNotifyResponse: 5,
      WriteNotifyRequest: 1,
      WriteNotifyResponse: 1,
      EventCancelRequest: 4,
      EventCancelResponse: 4,
      ClearChannelRequest: 4,
      ClearChannelResponse: 4,
    },
  },
];

async function decodeFixture(file: string, own = false): Promise<{ records: CaRecord[]; problems: number }> {
  const records: CaRecord[] = [];
  let problems = 0;
  for await (const r of shark(new URL(file, own ? OWN_FIXTURES : FIXTURES), { onProblem: () => problems++ }))
    records.push(r);
  return { records, problems };
}

describe.each(CAPTURES)('golden: $file', ({ file, wireshark, counts, own }) => {
  it('finds every CA message (per-command counts, at least Wireshark’s total)', async () => {
    const { records } = await decodeFixture(file, own);
    const got: Record<string, number> = {};
    for (const r of records) got[r.command.name] = (got[r.command.name] ?? 0) + 1;
    expect(got).toEqual(counts);
    expect(records.length).toBeGreaterThanOrEqual(wireshark);
  });

  it('matches the checked golden output', async () => {
    const { records } = await decodeFixture(file, own);
    const lines = records.map(goldenLine);
    const path = fileURLToPath(new URL(`${file}.txt`, GOLDEN));
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const header = text.split('\n').filter((l) => l.startsWith('#'));
    if (process.env.UPDATE_GOLDEN) {
      // Rewrites the body only: the header records what was checked by hand and must be revised with it.
      writeFileSync(path, `${[...header, ...lines].join('\n')}\n`);
    }
    expect(header.length, `${file}.txt needs a header saying what was checked`).toBeGreaterThan(0);
    const body = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(body);
  });
});
