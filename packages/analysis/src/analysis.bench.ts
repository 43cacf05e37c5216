/**
 * Report benchmark: writes a capture of mixed CA traffic (answered and unanswered searches, beacons from
 * several IOCs, circuits with monitors, reads and writes), then measures
 *   1. decode only (shark's engine), 2. decode + every analysis, 3. the analyses alone on kept records,
 * and prints messages/s, the analyses' share, peak RSS and the heap after the run.
 *
 *   pnpm --filter @ca-shark/analysis bench          (or: npx tsx --conditions=source src/analysis.bench.ts [messages])
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CaRecord, createDecoder } from '@ca-shark/decoder';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { Analyzer } from './report.js';

const target = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'ca-shark-report-bench-'));
const file = join(dir, 'report-bench.pcap');
const SERVERS = 10;
const CIRCUITS = 40;
const PVS_PER_CIRCUIT = 25;

function generate(): number {
  const fd = openSync(file, 'w');
  const w = new PcapWriter();
  const flush = () => {
    for (const part of w.drain()) writeSync(fd, part);
  };
  let t = 1_700_000_000;
  let messages = 0;
  let beaconId = 0;
  const server = (i: number) => `10.2.0.${(i % SERVERS) + 1}`;
  const conns: TcpConversation[] = [];
  for (let c = 0; c < CIRCUITS; c++) {
    const client = `10.1.0.${c + 1}`;
    const srv = server(c);
    for (let k = 0; k < PVS_PER_CIRCUIT; k++) {
      w.udp(
        (t += 1e-4),
        client,
        40000 + c,
        '10.255.255.255',
        5064,
        concatBytes([build.versionRequest({ sequence: k }), build.searchRequest({ name: `C${c}:PV${k}`, cid: k })]),
      );
      w.udp(
        (t += 1e-4),
        srv,
        5064,
        client,
        40000 + c,
        concatBytes([build.versionResponse({ sequence: k }), build.searchResponse({ cid: k })]),
      );
      messages += 4;
    }
    const conn = new TcpConversation(w, client, 50000 + c, srv, 5064).open((t += 1e-4));
    const open = [
      build.versionRequest({ version: 13 }),
      build.clientNameRequest({ name: `op${c % 3}` }),
      build.hostNameRequest({ name: `ws${c}` }),
    ];
    const reply = [build.versionResponse({ version: 13 })];
    for (let k = 0; k < PVS_PER_CIRCUIT; k++) {
      open.push(build.createChanRequest({ name: `C${c}:PV${k}`, cid: k }));
      reply.push(
        build.accessRightsResponse({ cid: k, access_rights: 3 }),
        build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: k, sid: 1000 + k }),
      );
      open.push(build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, sid: 1000 + k, subscriptionid: k, mask: 5 }));
    }
    conn.send((t += 1e-4), true, concatBytes(open)).send((t += 1e-4), false, concatBytes(reply));
    messages += open.length + reply.length;
    conns.push(conn);
  }
  let ioid = 1_000_000;
  let round = 0;
  while (messages < target) {
    round++;
    // a client that keeps searching for names nobody serves
    w.udp(
      (t += 1e-5),
      '10.1.9.9',
      45555,
      '10.255.255.255',
      5064,
      concatBytes([
        build.versionRequest({ sequence: round }),
        build.searchRequest({ name: `MISSING:${round % 50}`, cid: 9000 + (round % 50) }),
      ]),
    );
    messages += 2;
    if (round % 20 === 0) {
      for (let s = 0; s < SERVERS; s++)
        w.udp(
          (t += 1e-5),
          server(s),
          40001,
          '10.255.255.255',
          5065,
          build.beacon({ server_port: 5064, beacon_id: beaconId }),
        );
      beaconId++;
      messages += SERVERS;
    }
    for (const conn of conns) {
      const updates: Uint8Array[] = [];
      for (let k = 0; k < 6; k++)
        updates.push(
          build.eventAddResponse({
            data_type: DbrType.TIME_DOUBLE,
            data: [k + t],
            subscriptionid: (k * 4) % PVS_PER_CIRCUIT,
            metadata: { timestamp: t },
          }),
        );
      const reqs: Uint8Array[] = [];
      const reps: Uint8Array[] = [];
      for (let k = 0; k < 3; k++) {
        const id = ioid++;
        reqs.push(build.readNotifyRequest({ data_type: DbrType.TIME_DOUBLE, sid: 1000 + k, ioid: id }));
        reps.push(
          build.readNotifyResponse({ data_type: DbrType.TIME_DOUBLE, data: [k], ioid: id, metadata: { timestamp: t } }),
        );
      }
      const wid = ioid++;
      reqs.push(build.writeNotifyRequest({ data_type: DbrType.DOUBLE, data: [round], sid: 1001, ioid: wid }));
      reps.push(build.writeNotifyResponse({ data_type: DbrType.DOUBLE, ioid: wid }));
      conn
        .send((t += 1e-5), false, concatBytes(updates))
        .send((t += 1e-5), true, concatBytes(reqs))
        .send((t += 1e-5), false, concatBytes(reps));
      messages += updates.length + reqs.length + reps.length;
    }
    if (round % 16 === 0) flush();
  }
  for (const conn of conns) conn.close((t += 1e-3));
  flush();
  closeSync(fd);
  return messages;
}

function decodeFile(onRecord: (r: CaRecord) => void, analyzer?: Analyzer): { seconds: number; records: number } {
  let records = 0;
  const decoder = createDecoder({
    onRecord: (r) => {
      records++;
      onRecord(r);
    },
    onCircuitClose: analyzer && ((c) => c.closedAt !== null && analyzer.closeCircuit(c.id, c.closedAt, 'fin')),
  });
  const buf = new Uint8Array(1 << 20);
  const fd = openSync(file, 'r');
  const start = process.cpuUsage();
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    decoder.pushCapture(buf.subarray(0, n));
  }
  decoder.end();
  closeSync(fd);
  const used = process.cpuUsage(start);
  return { seconds: (used.user + used.system) / 1e6, records };
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en')} msgs/s`;

const written = generate();
console.log(`generated ${written.toLocaleString('en')} CA messages in ${file}`);
decodeFile(() => {}); // JIT warm-up, as a long-running daemon would be
const plain = decodeFile(() => {});
console.log(`decode only:            ${rate(plain.records, plain.seconds)} (CPU time)`);
const analyzer = new Analyzer();
const both = decodeFile((r) => analyzer.add(r), analyzer);
const reportStart = process.cpuUsage();
const report = analyzer.report();
const reportCpu = process.cpuUsage(reportStart);
console.log(
  `decode + all analyses:  ${rate(both.records, both.seconds)} (analyses add ${(((both.seconds - plain.seconds) / plain.seconds) * 100).toFixed(0)}%)`,
);
console.log(
  `report():               ${((reportCpu.user + reportCpu.system) / 1e3).toFixed(1)} ms for ${report.channels?.length} channels, ${report.writes?.length} writes, ${report.never_found?.length} PVs never found`,
);
const kept: CaRecord[] = [];
decodeFile((r) => {
  if (kept.length < 300_000) kept.push(r);
});
const alone = new Analyzer();
const aloneStart = process.cpuUsage();
for (const r of kept) alone.add(r);
const aloneCpu = process.cpuUsage(aloneStart);
console.log(
  `analyses alone:         ${rate(kept.length, (aloneCpu.user + aloneCpu.system) / 1e6)} on ${kept.length.toLocaleString('en')} kept records`,
);
console.log(
  `peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}, heap used now ${mib(process.memoryUsage().heapUsed)}`,
);
rmSync(dir, { recursive: true, force: true });
