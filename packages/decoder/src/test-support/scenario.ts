/** Capture scenarios built with the protocol encoder, shared by the tests. */
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { shark } from '../shark.js';
import type { SharkOptions } from '../shark.js';
import type { CaRecord } from '../record.js';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';

export const CLIENT = '10.0.0.5';
export const SERVER = '10.0.0.9';
export const T0 = 1_700_000_000;

/** Decodes a capture held in memory. */
export async function decode(bytes: Uint8Array, options?: SharkOptions): Promise<CaRecord[]> {
  const out: CaRecord[] = [];
  for await (const r of shark(bytes, options)) out.push(r);
  return out;
}

/** The client's and the server's byte streams of the §7.2 circuit, message by message. */
export function workedCircuit(): { client: Uint8Array[]; server: Uint8Array[] } {
  const TIME_DOUBLE = DbrType.TIME_DOUBLE;
  const client = [
    concatBytes([
      build.versionRequest({ priority: 0, version: 13 }),
      build.clientNameRequest({ name: 'alice' }),
      build.hostNameRequest({ name: 'ws1' }),
      build.createChanRequest({ name: 'demo:ai1', cid: 7, version: 13 }),
    ]),
    build.readNotifyRequest({ data_type: TIME_DOUBLE, data_count: 1, sid: 42, ioid: 1 }),
    build.eventAddRequest({ data_type: TIME_DOUBLE, data_count: 0, sid: 42, subscriptionid: 2, mask: 5 }),
    build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [1.25], sid: 42, ioid: 3 }),
    build.eventCancelRequest({ data_type: TIME_DOUBLE, data_count: 0, sid: 42, subscriptionid: 2 }),
    build.echoRequest(),
    build.clearChannelRequest({ sid: 42, cid: 7 }),
  ];
  const server = [
    concatBytes([
      build.versionResponse({ version: 13 }),
      build.accessRightsResponse({ cid: 7, access_rights: 3 }),
      build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: 7, sid: 42 }),
    ]),
    build.readNotifyResponse({
      data_type: TIME_DOUBLE,
      data: [3.5],
      ioid: 1,
      metadata: { timestamp: 1_700_000_000.25 },
    }),
    build.eventAddResponse({ data_type: TIME_DOUBLE, data: [3.5], subscriptionid: 2 }),
    build.writeNotifyResponse({ data_type: DbrType.DOUBLE, data_count: 1, ioid: 3 }),
    build.eventCancelResponse({ data_type: TIME_DOUBLE, data_count: 0, sid: 42, subscriptionid: 2 }),
    build.echoResponse(),
    build.clearChannelResponse({ sid: 42, cid: 7 }),
  ];
  return { client, server };
}

export interface WorkedOptions {
  /** Server TCP port (default 5064). */
  port?: number;
  /** Include the UDP search exchange (default true). */
  search?: boolean;
  /** Include the TCP handshake (default true). */
  handshake?: boolean;
  /** Port advertised in the search reply (default `port`). */
  advertisedPort?: number;
}

/**
 * The reference's worked example (§7.2) as a capture: a search retried once and answered, then the
 * circuit: each client message at T0 + 1 + i·0.1 s, its answer 0.01 s later.
 */
export function workedExample(o: WorkedOptions = {}): PcapWriter {
  const port = o.port ?? 5064;
  const b = new PcapWriter();
  if (o.search ?? true) {
    const req = (seq: number) =>
      concatBytes([build.versionRequest({ sequence: seq }), build.searchRequest({ name: 'demo:ai1', cid: 7 })]);
    b.udp(T0, CLIENT, 40000, '10.0.0.255', 5064, req(1));
    b.udp(T0 + 0.1, CLIENT, 40000, '10.0.0.255', 5064, req(2));
    b.udp(
      T0 + 0.15,
      SERVER,
      5064,
      CLIENT,
      40000,
      concatBytes([
        build.versionResponse({ sequence: 2 }),
        build.searchResponse({ port: o.advertisedPort ?? port, cid: 7 }),
      ]),
    );
  }
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, port);
  if (o.handshake ?? true) c.open(T0 + 0.9);
  const { client, server } = workedCircuit();
  for (let i = 0; i < client.length; i++) {
    const t = T0 + 1 + i * 0.1;
    c.send(t, true, client[i]);
    c.send(t + 0.01, false, server[i]);
  }
  c.close(T0 + 2);
  return b;
}

/** One line per record: the fields the conversation tests compare. */
export function summary(r: CaRecord): string {
  const req = r.request ? ` <- ${r.request.command}@${r.request.frame} ${(r.latency ?? 0).toFixed(3)}s` : '';
  return `${r.command.name} ${r.role}/${r.role_certainty} pv=${r.pv ?? '-'}${req}`;
}

/**
 * A capture of one circuit that creates `channels` distinct channels (CreateChanRequest + CreateChanResponse
 * each, `perSegment` of them per TCP segment): the flood that exercises the channel table's cap.
 */
export function channelFlood(channels: number, perSegment = 500): Uint8Array {
  const b = new PcapWriter();
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
  for (let first = 0; first < channels; first += perSegment) {
    const last = Math.min(channels, first + perSegment);
    const reqs: Uint8Array[] = [];
    const reps: Uint8Array[] = [];
    for (let i = first; i < last; i++) {
      reqs.push(build.createChanRequest({ name: `flood:${i}`, cid: i }));
      reps.push(build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i, sid: i }));
    }
    const t = T0 + 1 + (first / perSegment) * 0.01;
    c.send(t, true, concatBytes(reqs));
    c.send(t + 0.001, false, concatBytes(reps));
  }
  return b.bytes();
}
