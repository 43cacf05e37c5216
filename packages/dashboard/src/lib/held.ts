/**
 * Wording of what the daemon holds and what it let go (`stats.packetRing`, `stats.history`, `stats.spool`,
 * see the daemon's views.ts): how far back "Download pcapng" reaches, how far back the held records go, and
 * a spool on stdin that stopped (its later packets then fill the daemon's memory) or that lives in memory
 * (a tmpfs). A download or a table that silently covers less than the user thinks is worse than one that
 * says so.
 */
import type { StatsJSON } from './contract.js';
import { formatCount } from './dbr.js';
import { formatDuration, legendTime, timeZoneLabel } from './time.js';

type PacketRingStats = NonNullable<StatsJSON['packetRing']>;
type HistoryStats = NonNullable<StatsJSON['history']>;
type SpoolStats = NonNullable<StatsJSON['spool']>;

/** The "Download pcapng" link's tooltip without the daemon's stats (and its first sentence with them). */
export const PCAP_TITLE = 'Download the packets of the messages this filter keeps (pcapng, for Wireshark)';

const KIB = 1024;
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Bytes in binary units, as the daemon's options take them: `900 B`, `12.5 KiB`, `256 MiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < KIB) return `${Math.round(n)} B`;
  let v = n / KIB;
  let unit = 0;
  while (v >= KIB && unit < UNITS.length - 1) {
    v /= KIB;
    unit++;
  }
  // Whole numbers stay whole (`256 MiB`); one decimal below 100.
  const text = Number.isInteger(v) || v >= 100 ? String(Math.round(v)) : v.toFixed(1);
  return `${text} ${UNITS[unit]}`;
}

/** A capture time as the page writes clocks, with its zone: `14:02:11 UTC`. */
function clock(unixSeconds: number): string {
  return `${legendTime(unixSeconds)} ${timeZoneLabel()}`;
}

/** What the "Download pcapng" link covers. */
export interface PcapReach {
  /** Its tooltip: what it downloads, from when, and what was let go. */
  title: string;
  /** Beside its label when older packets were let go (`last 3 min 20 s`), else ''. */
  reach: string;
  /** Messages (and their packets) the ring let go since the daemon started. */
  letGo: number;
}

/**
 * What a download covers, from the daemon's `stats.packetRing` (undefined: a daemon that does not say, or
 * one that holds no packets by configuration, `--packet-ring 0`).
 */
export function pcapReach(ring: PacketRingStats | undefined): PcapReach {
  if (ring === undefined) return { title: PCAP_TITLE, reach: '', letGo: 0 };
  const letGo = ring.droppedMessages;
  const gone =
    letGo > 0
      ? `; ${formatCount(letGo)} older messages let go (the ring keeps ${formatBytes(ring.maxBytes)}, --packet-ring)`
      : '; nothing let go yet';
  if (ring.messages === 0 || ring.oldestTime === null) {
    return { title: `${PCAP_TITLE}. The daemon holds no packets now${gone}`, reach: '', letGo };
  }
  const span = Math.max(0, (ring.newestTime ?? ring.oldestTime) - ring.oldestTime);
  const last = formatDuration(span);
  const title =
    `${PCAP_TITLE}. The daemon holds packets from ${clock(ring.oldestTime)}, the last ${last} of capture ` +
    `(${formatCount(ring.messages)} messages, ${formatBytes(ring.bytes)} of ${formatBytes(ring.maxBytes)})${gone}`;
  return { title, reach: letGo > 0 ? `last ${last}` : '', letGo };
}

/**
 * The held records' reach for the line above the Live table, once the history let records go (before,
 * it holds everything since the start and there is nothing to say): '' otherwise.
 */
export function historyReach(history: HistoryStats | undefined): string {
  if (history === undefined || history.dropped === 0) return '';
  const from = history.oldestTime === null ? '' : ` from ${clock(history.oldestTime)}`;
  return (
    `the daemon holds ${formatCount(history.records)} records${from}; ` +
    `${formatCount(history.dropped)} older ones let go (--history)`
  );
}

/** A flag of the status bar about stdin's spool. */
export interface SpoolFlag {
  /**
   * `error`: it could not be made or it stopped, (later) packets fill memory; `warn`: it is in memory (a tmpfs);
   * '': nothing to flag.
   */
  level: 'error' | 'warn' | '';
  text: string;
  title: string;
}

/** The status bar's flag for stdin's spool (`--stdin` only). */
export function spoolFlag(spool: SpoolStats | undefined): SpoolFlag {
  if (spool === undefined) return { level: '', text: '', title: '' };
  if (spool.unmade === true) {
    return {
      level: 'error',
      text: 'no spool',
      title:
        `stdin spool could not be made in ${spool.dir} (${spool.stopped ?? 'no reason given'}): the packets are kept ` +
        `in the daemon's memory, up to --packet-ring (${formatBytes(spool.bytes)})`,
    };
  }
  if (spool.stopped !== null) {
    return {
      level: 'error',
      text: 'spool stopped',
      title:
        `stdin spool in ${spool.dir} stopped (${spool.stopped}): the packets of later messages are kept in the ` +
        `daemon's memory, up to --packet-ring (${formatBytes(spool.bytes)}); ${formatBytes(spool.bytesWritten)} were spooled`,
    };
  }
  if (spool.tmpfs) {
    return {
      level: 'warn',
      text: 'spool in memory',
      title:
        `stdin spool in ${spool.dir} is on a tmpfs, which keeps it in memory (up to ${formatBytes(spool.bytes)}): ` +
        'give --spool-dir a directory on disk',
    };
  }
  return { level: '', text: '', title: '' };
}
