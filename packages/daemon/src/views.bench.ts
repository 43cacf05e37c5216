/**
 * What the daemon's views cost the decoding worker: a capture (VIEWS_FILE, default /tmp/caps/real100.pcap;
 * or VIEWS_CHANNELS=100000 for a generated capture with that many channels, each searched, created and
 * monitored) runs through an in-process Engine; every VIEWS_EVERY frames (and at the end) it prints, in ms
 * of CPU time of this thread:
 * - `publish`: one ViewPublisher publication of the snapshot and all four tables after new frames (what the
 *   worker pays each second while traffic flows and every table is read), and `again` with no new frame;
 * - `snapshot` and `tables`: the snapshot and each table computed and serialised on their own, as each
 *   query did before views were published (once per client, per request);
 * - `report`: the analysis report as `/api/report` serves it (cut to 100 rows) and whole (`?full=1`), time
 *   and size.
 *
 *   node --conditions=source --import tsx src/views.bench.ts
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { CaptureReader, PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import pino from 'pino';
import { Engine } from './engine.js';
import { TABLE_NAMES } from './model.js';
import { DEFAULT_REPORT_LIMIT } from './report-cut.js';
import { ViewPublisher } from './views-publisher.js';

const T0 = 1_700_000_000;
const PER_CIRCUIT = 1000;

/** A capture with `n` channels: per 1,000 a client circuit; each PV searched, created, monitored, updated. */
function manyChannels(n: number): Uint8Array {
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

/** CPU ms of this thread spent in `fn`, and its result. */
function cpu<T>(fn: () => T): [number, T] {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return [(used.user + used.system) / 1000, value];
}

const engine = new Engine({
  describe: () => ({ kind: 'file', file: 'bench' }),
  counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
  publish: () => undefined,
  hubStats: () => ({ clients: 0, dropped: 0 }),
  logger: pino({ level: 'silent' }),
});
const publisher = new ViewPublisher(engine);
const every = Number(process.env.VIEWS_EVERY ?? 250_000);
let frames = 0;

function measure(): void {
  const [publish, views] = cpu(() => publisher.publish(TABLE_NAMES));
  const [again] = cpu(() => publisher.publish(TABLE_NAMES));
  const [snapshot, text] = cpu(() => engine.snapshotText());
  const tables = TABLE_NAMES.map((name) => {
    const [ms, t] = cpu(() => JSON.stringify(engine.table(name)));
    return `${name} ${ms.toFixed(0)} ms ${(t.length / 1e6).toFixed(2)} MB`;
  });
  const [cutMs, cut] = cpu(() => engine.reportText(undefined, { limit: DEFAULT_REPORT_LIMIT }));
  const [fullMs, full] = cpu(() => engine.reportText(undefined, { limit: null }));
  const totals = engine.snapshot().channelTotals;
  const mb = (s: string): string => `${(s.length / 1e6).toFixed(2)} MB`;
  console.log(
    `frames ${frames}, messages ${engine.stats().messages}, channels open ${totals.open} closed ${totals.closed}\n` +
      `  publish ${publish.toFixed(0)} ms (snapshot ${mb(views.snapshot.text)}), again ${again.toFixed(1)} ms\n` +
      `  snapshot alone ${snapshot.toFixed(0)} ms ${mb(text)}; ${tables.join('; ')}\n` +
      `  report cut ${cutMs.toFixed(0)} ms ${mb(cut.text)}; full ${fullMs.toFixed(0)} ms ${mb(full.text)}`,
  );
}

const reader = new CaptureReader({
  frame: (f) => {
    engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen);
    frames += 1;
    if (frames % every === 0) measure();
  },
  problem: () => undefined,
});
const channels = Number(process.env.VIEWS_CHANNELS ?? 0);
if (channels > 0) {
  reader.push(manyChannels(channels));
} else {
  const fd = openSync(process.env.VIEWS_FILE ?? '/tmp/caps/real100.pcap', 'r');
  for (;;) {
    // A new buffer each time: the reader may keep a view of the last one's remainder.
    const buffer = new Uint8Array(4 << 20);
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    reader.push(buffer.subarray(0, n));
  }
  closeSync(fd);
}
reader.end();
measure();
