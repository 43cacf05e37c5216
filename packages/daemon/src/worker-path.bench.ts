/**
 * CPU per message of the decoding worker's record path, in one thread: the {@link Engine} with the packet
 * ring and the held records, fed a capture's frames from memory as the worker is fed frame batches (no
 * WebSocket client, no views). live-cpu.bench.ts measures the whole daemon; this one runs where `--cpu-prof`
 * sees it (a worker thread's profile is lost when the daemon exits) and without the daemon's start-up.
 *
 *   node --conditions=source --import tsx src/worker-path.bench.ts [CAPTURE] [--passes N] [--tree DIR]
 *
 * Each pass decodes the whole capture into a fresh engine and history (pass 1 is a fresh daemon, JIT
 * warm-up and fresh memory included; later passes are warm). `--tree DIR` runs another worktree's built
 * modules (DIR/packages/daemon/dist), so two builds are compared by the same script; without it, this
 * tree's dist. Add `--cpu-prof` before `--conditions` for a profile.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type CaptureFrame, readCapture } from '@ca-shark/packet';
import { summarizeFields } from '@ca-shark/analysis/summary';
import pino from 'pino';
import type * as EngineModule from './engine.js';
import type * as HistoryModule from './history.js';
import type * as PacketRingModule from './packet-ring.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const passes = Number(option('--passes') ?? 2);
const tree = option('--tree');
const capture = args[0] ?? '/tmp/caps/realistic.pcap';
const dist =
  tree === undefined
    ? fileURLToPath(new URL('../dist/', import.meta.url))
    : `${tree.replace(/\/$/, '')}/packages/daemon/dist/`;
const load = async <T>(name: string): Promise<T> => (await import(pathToFileURL(dist + name).href)) as T;
const { Engine } = await load<typeof EngineModule>('engine.js');
const { RecordHistory } = await load<typeof HistoryModule>('history.js');
const { PacketRing } = await load<typeof PacketRingModule>('packet-ring.js');
/**
 * Builds before session 7 (main 72ca27d and older) made every record's summary line in the worker and gave
 * it to history.add: the comparison runs them as their worker did.
 */
const linesFirst = !('deferredSummary' in (await load<Record<string, unknown>>('history-ring.js')));

const frames: CaptureFrame[] = [];
for await (const item of readCapture(readFileSync(capture))) if (item.type === 'frame') frames.push(item);

for (let pass = 1; pass <= passes; pass++) {
  const ring = new PacketRing();
  const history = new RecordHistory({});
  let sequence = 0;
  const engine = new Engine({
    packets: ring,
    describe: () => ({ kind: 'stdin' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    // What the worker does with each record when no stream is open (engine-worker.ts).
    publish: (record, channel) => {
      ring.record(record);
      const id = ++sequence;
      if (linesFirst)
        (history.add as (...a: unknown[]) => void)(id, record, summarizeFields(record.command, undefined, channel));
      else history.add(id, record, channel);
    },
  });
  engine.setSeriesPast(history.held);
  const cpu0 = process.cpuUsage();
  for (const f of frames) engine.frame(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId);
  engine.end();
  const cpu = process.cpuUsage(cpu0);
  const seconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      dist,
      pass,
      messages: sequence,
      cpuSeconds: Math.round(seconds * 100) / 100,
      systemSeconds: Math.round(cpu.system / 1e4) / 100,
      usPerMessage: Math.round((seconds * 1e7) / sequence) / 10,
    }),
  );
}
