/** `--history RECORDS,DURATION`: the bounds of the held records (see history-ring.ts). */
import { DaemonError } from './errors.js';
import { DEFAULT_HISTORY, type HistoryBounds } from './history-ring.js';

const COUNT = /^(\d+)([kM]?)$/;
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const COUNT_SCALE = { '': 1, k: 1_000, M: 1_000_000 } as const;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * Parses `--history`: a record count (`500000`, `500k`, `2M`), a capture-time span (`90s`, `10m`, `2h`,
 * `1d`), or both separated by a comma; a bound not given keeps its default (1M records, 10 minutes). `0`
 * holds nothing. Lower-case `m` is minutes, upper-case `M` millions of records.
 */
export function parseHistory(text: string): HistoryBounds {
  const bad = (why: string): DaemonError =>
    new DaemonError(
      'usage',
      `bad --history ${JSON.stringify(text)}: ${why}; use records (500000, 500k, 2M), a duration (90s, 10m, 2h, 1d) or both, e.g. 2M,30m`,
    );
  if (text.trim() === '0') return { maxRecords: 0, maxSeconds: 0 };
  const out: HistoryBounds = { ...DEFAULT_HISTORY };
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const count = COUNT.exec(part);
    const duration = DURATION.exec(part);
    const kind = count !== null ? 'records' : duration !== null ? 'duration' : undefined;
    if (kind === undefined) throw bad(`${JSON.stringify(part)} is neither a record count nor a duration`);
    if (seen.has(kind)) throw bad(`two ${kind === 'records' ? 'record counts' : 'durations'}`);
    seen.add(kind);
    if (count !== null) out.maxRecords = Number(count[1]) * COUNT_SCALE[count[2] as keyof typeof COUNT_SCALE];
    else if (duration !== null) out.maxSeconds = Number(duration[1]) * SECONDS[duration[2] as keyof typeof SECONDS];
  }
  return out;
}
