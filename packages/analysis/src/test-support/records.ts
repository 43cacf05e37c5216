import type { AnalysisRecord } from '../record.js';

/** Builds a record for analysis tests; only what an analysis reads needs saying. */
export function rec(
  timestamp: number,
  from: string,
  to: string,
  command: AnalysisRecord['command'],
  extra: Partial<AnalysisRecord> = {},
): AnalysisRecord {
  const [src, sport] = from.split(':');
  const [dst, dport] = to.split(':');
  const tcp = extra.circuit !== undefined;
  return {
    frame: Math.round(timestamp * 1000),
    timestamp,
    src,
    dst,
    transport: { protocol: tcp ? 'tcp' : 'udp', sport: Number(sport), dport: Number(dport) },
    command: { id: 0, ...command },
    pv: null,
    role: command.name.endsWith('Request') ? 'request' : 'response',
    size: 16,
    ...extra,
  };
}
