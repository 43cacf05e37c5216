/**
 * A capture with many channels, for what views cost (views.bench.ts) and for the sliced publication test:
 * per 1,000 channels a client circuit; each PV searched, answered, created, monitored and updated once.
 */
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';

const T0 = 1_700_000_000;
const PER_CIRCUIT = 1000;

/** A capture with `n` channels: per 1,000 a client circuit; each PV searched, created, monitored, updated. */
export function manyChannels(n: number): Uint8Array {
  const b = new PcapWriter();
  const server = '10.0.0.9';
  for (let c = 0; c * PER_CIRCUIT < n; c++) {
    const host = `10.1.${c >> 8}.${c & 255}`;
    const t = T0 + c * 0.01;
    const searches: Uint8Array[] = [build.versionRequest({ sequence: c })];
    const answers: Uint8Array[] = [build.versionResponse({ sequence: c })];
    const conv = new TcpConversation(b, host, 40000, server, 5064).open(t);
    conv.send(t, true, concatBytes([build.versionRequest({ priority: 0, version: 13 })]));
    conv.send(t, false, build.versionResponse({ version: 13 }));
    const creates: Uint8Array[] = [];
    const replies: Uint8Array[] = [];
    const monitors: Uint8Array[] = [];
    const updates: Uint8Array[] = [];
    for (let i = 0; i < PER_CIRCUIT && c * PER_CIRCUIT + i < n; i++) {
      const name = `BL${c}:dev${i}:value`;
      const cid = i + 1;
      const sid = 100_000 + i;
      searches.push(build.searchRequest({ name, cid }));
      answers.push(build.searchResponse({ port: 5064, cid }));
      creates.push(build.createChanRequest({ name, cid, version: 13 }));
      replies.push(
        build.accessRightsResponse({ cid, access_rights: 3 }),
        build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid, sid }),
      );
      monitors.push(
        build.eventAddRequest({ data_type: DbrType.DOUBLE, data_count: 1, sid, subscriptionid: cid, mask: 1 }),
      );
      updates.push(build.eventAddResponse({ data_type: DbrType.DOUBLE, data: [i], subscriptionid: cid }));
    }
    // Segments of 50 messages: the decoder sees realistic TCP payloads, the file stays small.
    const chunks = (list: Uint8Array[], size: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < list.length; i += size) out.push(concatBytes(list.slice(i, i + size)));
      return out;
    };
    for (const chunk of chunks(searches, 50)) b.udp(t, host, 41000, server, 5064, chunk);
    for (const chunk of chunks(answers, 50)) b.udp(t + 0.001, server, 5064, host, 41000, chunk);
    for (const chunk of chunks(creates, 50)) conv.send(t + 0.002, true, chunk);
    for (const chunk of chunks(replies, 100)) conv.send(t + 0.003, false, chunk);
    for (const chunk of chunks(monitors, 50)) conv.send(t + 0.004, true, chunk);
    for (const chunk of chunks(updates, 50)) conv.send(t + 0.005, false, chunk);
  }
  return b.bytes();
}
