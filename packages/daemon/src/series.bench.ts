/**
 * The per-message cost of the chart series (series.ts) on a realistic capture: decodes it once, keeps the
 * records, then times {@link SeriesStore.add} over all of them, several passes (the first one warms up).
 * Prints ns per message and, for scale, the decode cost per message of the same capture.
 *
 *   node --conditions=source --import tsx src/series.bench.ts [CAPTURE]   (default /tmp/caps/realistic.pcap)
 */
import { createReadStream } from 'node:fs';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { SeriesStore } from './series.js';

const file = process.argv[2] ?? '/tmp/caps/realistic.pcap';
const records: CaRecord[] = [];
const cpu0 = process.cpuUsage();
for await (const r of shark(createReadStream(file))) records.push(r);
const cpu1 = process.cpuUsage(cpu0);
const decodeNs = ((cpu1.user + cpu1.system) * 1000) / records.length;
console.log(`${records.length} messages decoded, ${decodeNs.toFixed(0)} ns CPU per message (decode, one cold pass)`);
for (let pass = 0; pass < 5; pass++) {
  const store = new SeriesStore();
  const start = process.cpuUsage();
  for (const r of records) store.add(r);
  const used = process.cpuUsage(start);
  const ns = ((used.user + used.system) * 1000) / records.length;
  const keys = store.keys();
  console.log(
    `pass ${pass + 1}: SeriesStore.add ${ns.toFixed(0)} ns CPU per message (${keys.iocs.length} IOCs, ${keys.clients.length} clients, ${keys.pvs.length} PVs tracked)`,
  );
}
