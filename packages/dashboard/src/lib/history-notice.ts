/**
 * The line above the Live table about the past: a replay that finished (the daemon keeps serving what it
 * decoded), how much of the held history matching the filter the table shows, and, once the daemon's
 * history let records go, how far back it reaches.
 */
import type { StatsJSON } from './contract.js';
import { formatCount } from './dbr.js';
import { historyReach } from './held.js';
import type { ClientStatus } from './worker-protocol.js';

/** `HH:MM:SS` (UTC) of a Unix time. */
function clockSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(11, 19);
}

/** What the notice says, or '' for nothing. `stats`: the latest snapshot's (its `history`). */
export function historyNotice(
  s: Pick<ClientStatus, 'input' | 'source' | 'stream'>,
  stats?: Pick<StatsJSON, 'history'> | null,
): string {
  const parts: string[] = [];
  const input = s.input;
  if (input?.eof === true) {
    const what = s.source?.kind === 'stdin' ? 'Input ended' : 'Replay finished';
    const at = input.endedAt === null ? '' : ` at ${clockSeconds(input.endedAt)} UTC`;
    parts.push(`${what}${at} (${formatCount(input.messages)} messages)`);
  }
  const h = s.stream.history;
  if (h !== null && !h.done) parts.push('loading held records…');
  else if (h !== null && h.sampling)
    parts.push(`showing ${formatCount(h.sent)} of ${formatCount(h.matched)} held records that match, evenly spaced`);
  const reach = historyReach(stats?.history);
  if (reach !== '') parts.push(reach);
  return parts.join(' · ');
}
