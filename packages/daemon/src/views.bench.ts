/**
 * What the daemon's views cost the decoding worker: a capture (VIEWS_FILE, default /tmp/caps/real100.pcap;
 * or VIEWS_CHANNELS=100000 for a generated capture with that many channels, each searched, created and
 * monitored) runs through an in-process Engine; every VIEWS_EVERY frames (and at the end) it prints, in ms
 * of CPU time of this thread:
 * - `publish`: one ViewPublisher publication of the snapshot and all four tables after new frames (what the
 *   worker pays each second while traffic flows and every table is read), and `again` with no new frame;
 *   `in steps`: the same publication as the worker runs it, a slice at a time, and its longest step (the
 *   longest the worker stops decoding for views);
 * - `snapshot` and `tables`: the snapshot and each table computed and serialised on their own, as each
 *   query did before views were published (once per client, per request);
 * - `report`: the analysis report as `/api/report` serves it (cut to 100 rows) and whole (`?full=1`), time
 *   and size.
 *
 *   node --conditions=source --import tsx src/views.bench.ts
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { Engine } from './engine.js';
import { TABLE_NAMES } from './model.js';
import { DEFAULT_REPORT_LIMIT } from './report-cut.js';
import { ViewPublisher } from './views-publisher.js';
import { manyChannels } from './test-support/many-channels.js';

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

/** A whole publication in steps, as the worker runs it: its steps, and the longest one in CPU ms. */
function sliced(): { steps: number; longest: number } {
  const steps = new ViewPublisher(engine).publishSteps(TABLE_NAMES);
  let longest = 0;
  let n = 0;
  for (;;) {
    const [ms, next] = cpu(() => steps.next());
    n += 1;
    longest = Math.max(longest, ms);
    if (next.done === true) return { steps: n, longest };
  }
}

function measure(): void {
  const slices = sliced();
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
      `  publish ${publish.toFixed(0)} ms (snapshot ${mb(views.snapshot.text)}), again ${again.toFixed(1)} ms; ` +
      `in steps: ${slices.steps} steps, the longest ${slices.longest.toFixed(1)} ms\n` +
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
