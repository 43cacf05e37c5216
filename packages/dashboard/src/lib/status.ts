/** Wording of the status bar: where packets come from and how the connection is doing. */
import type { SourceInfo } from './contract.js';
import type { ConnectionState } from './live-client.js';

const LINK_TYPES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'EN10MB',
  101: 'RAW',
  108: 'LOOP',
  113: 'LINUX_SLL',
  228: 'IPV4',
  276: 'LINUX_SLL2',
};

/** Link type as its libpcap name (`EN10MB`), keeping unknown numbers. */
export function linkTypeName(v: unknown): string {
  if (typeof v === 'number') return LINK_TYPES[v] ?? `linktype ${v}`;
  return typeof v === 'string' ? v : '';
}

/** One line describing the daemon's source, e.g. `live lo (EN10MB) filter "udp port 5064"`. */
export function describeSource(s: SourceInfo | null): string {
  if (!s) return 'unknown source';
  const parts: string[] = [s.kind];
  if (s.iface) parts.push(s.iface);
  if (s.file) parts.push(s.file);
  if (s.linktype !== undefined) parts.push(`(${linkTypeName(s.linktype)})`);
  if (s.filter) parts.push(`filter "${s.filter}"`);
  return parts.join(' ');
}

/** Connection state in words, with the seconds left before the next attempt when reconnecting. */
export function describeConnection(
  state: ConnectionState,
  nextAttemptAt: number,
  now: number,
  attempts: number,
): string {
  switch (state) {
    case 'open':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'closed':
      return 'disconnected';
    case 'reconnecting': {
      const left = Math.max(0, Math.ceil((nextAttemptAt - now) / 1000));
      return left > 0 ? `reconnecting in ${left} s (attempt ${attempts})` : `reconnecting (attempt ${attempts})…`;
    }
    default:
      return String(state);
  }
}
