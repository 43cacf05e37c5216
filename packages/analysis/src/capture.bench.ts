/**
 * The analyses on a real capture, one at a time: decodes the capture once as `ca-shark report` does (values of
 * writes only, a minute of searches), keeps its records and circuit ends, then runs a fresh Analyzer made for
 * each analysis's sections over them, and prints the cost a record of each, measured passes after warm ones.
 * `none` is the loop and the Analyzer's dispatch alone; `all` is what `ca-shark report` adds to decoding.
 *
 *   pnpm --filter @ca-shark/analysis bench:capture FILE [passes]
 *
 * Instruction counts (which a shared machine's load does not move) come from the same run under callgrind:
 * each measured pass is bracketed by `process.resourceUsage()`, so `--dump-before=getrusage` writes one
 * part per pass: with 3 passes, parts 4c+2 to 4c+4 (`callgrind.out.N`) are the measured passes of the c-th
 * analysis listed (c from 0), divided by the records for a record's instructions (docs/performance.md,
 * "Session 19: the analyses a record at a time"):
 *
 *   valgrind --tool=callgrind --dump-before=getrusage node --predictable --single-threaded \
 *     --import tsx --conditions=source src/capture.bench.ts FILE
 */
import { type CircuitInfo, shark } from '@ca-shark/decoder';
import { circuitEndReason, type CircuitEndReason } from './conversations.js';
import type { AnalysisRecord } from './record.js';
import { Analyzer, type Report } from './report.js';

/** The sections that make each analysis run alone (report.ts's TABLE_SOURCES); `beacons` needs searches too. */
const CONFIGS: Record<string, readonly (keyof Report)[] | undefined> = {
  none: [],
  searches: ['never_found'],
  beacons: ['beacons'],
  latency: ['latency'],
  monitors: ['monitor_load'],
  conversations: ['circuits', 'writes'],
  errors: ['errors'],
  all: undefined,
};
/** Seconds of searches the decoder keeps, as `ca-shark report` asks (decoder PAIRING_SEARCH_TTL). */
const SEARCH_TTL = 60;
const WARM_PASSES = 2;

type ClosedReason = Exclude<CircuitEndReason, 'capture-end'>;
type Event = AnalysisRecord | { circuit: number; at: number; reason: ClosedReason; closed: true };

async function main(): Promise<void> {
  const file = process.argv[2];
  const passes = Number(process.argv[3] ?? 3);
  if (file === undefined) throw new Error('usage: capture.bench.ts FILE [passes]');
  const events: Event[] = [];
  let records = 0;
  const onCircuitClose = (c: CircuitInfo): void => {
    const reason = circuitEndReason(c.closeReason);
    if (c.closedAt !== null && reason !== null) events.push({ circuit: c.id, at: c.closedAt, reason, closed: true });
  };
  for await (const record of shark(file, {
    decodeValues: 'writes',
    limits: { searchTtl: SEARCH_TTL },
    onCircuitClose,
  })) {
    events.push(record);
    records++;
  }
  const pass = (sections: readonly (keyof Report)[] | undefined): void => {
    const analyzer = new Analyzer({ sections });
    for (const e of events) {
      if ('closed' in e) analyzer.closeCircuit(e.circuit, e.at, e.reason);
      else analyzer.add(e);
    }
  };
  console.log(`${file}: ${records.toLocaleString('en-US')} records; ${passes} measured passes after ${WARM_PASSES}`);
  console.log('analysis        µs a record (min, median)');
  for (const [name, sections] of Object.entries(CONFIGS)) {
    for (let i = 0; i < WARM_PASSES; i++) pass(sections);
    process.resourceUsage();
    const times: number[] = [];
    for (let i = 0; i < passes; i++) {
      const start = performance.now();
      pass(sections);
      times.push(performance.now() - start);
      process.resourceUsage();
    }
    times.sort((a, b) => a - b);
    const perRecord = (ms: number) => ((ms * 1000) / records).toFixed(3);
    console.log(`${name.padEnd(15)} ${perRecord(times[0])}, ${perRecord(times[times.length >> 1])}`);
  }
}

await main();
