import { afterEach, describe, expect, it } from 'vitest';
import type { StatsJSON } from './contract.js';
import { PCAP_TITLE, formatBytes, historyReach, pcapReach, spoolFlag } from './held.js';
import { historyNotice } from './history-notice.js';
import { setTimeZoneMode } from './time.js';
import type { ClientStatus } from './worker-protocol.js';

type Ring = NonNullable<StatsJSON['packetRing']>;

/** 2026-12-07 14:02:11 UTC. */
const T0 = Date.UTC(2026, 11, 7, 14, 2, 11) / 1000;

const ring = (more: Partial<Ring> = {}): Ring => ({
  bytes: 200 * 1024 * 1024,
  maxBytes: 256 * 1024 * 1024,
  frames: 150_000,
  messages: 240_000,
  oldestTime: T0,
  newestTime: T0 + 200,
  evictedFrames: 0,
  droppedMessages: 0,
  ...more,
});

afterEach(() => setTimeZoneMode('utc'));

describe('formatBytes', () => {
  it('writes binary units as the daemon options take them', () => {
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(20_000)).toBe('19.5 KiB');
    expect(formatBytes(256 * 1024 * 1024)).toBe('256 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatBytes(300 * 1024 * 1024 + 1)).toBe('300 MiB');
    expect(formatBytes(Number.NaN)).toBe('');
  });
});

describe('pcapReach', () => {
  it('says from when the packets go back, over what span, and that older ones were let go', () => {
    const r = pcapReach(ring({ droppedMessages: 12_345, evictedFrames: 9000 }));
    expect(r.title).toBe(
      `${PCAP_TITLE}. The daemon holds packets from 14:02:11 UTC, the last 3 min 20 s of capture ` +
        '(240\u2009000 messages, 200 MiB of 256 MiB); 12\u2009345 older messages let go (the ring keeps 256 MiB, --packet-ring)',
    );
    expect(r.reach).toBe('last 3 min 20 s');
    expect(r.letGo).toBe(12_345);
  });

  it('says nothing was let go, and adds nothing to the label, while the ring holds everything', () => {
    const r = pcapReach(ring());
    expect(r.title).toMatch(/the last 3 min 20 s of capture .*; nothing let go yet$/);
    expect(r.reach).toBe('');
  });

  it('writes the clock in the page time zone', () => {
    setTimeZoneMode('local');
    expect(pcapReach(ring()).title).toContain(' local, the last');
  });

  it('keeps the plain tooltip for a daemon that does not say, and says when it holds no packets', () => {
    expect(pcapReach(undefined)).toEqual({ title: PCAP_TITLE, reach: '', letGo: 0 });
    const empty = pcapReach(ring({ messages: 0, oldestTime: null, newestTime: null, droppedMessages: 4 }));
    expect(empty.title).toBe(
      `${PCAP_TITLE}. The daemon holds no packets now; 4 older messages let go (the ring keeps 256 MiB, --packet-ring)`,
    );
    expect(empty.reach).toBe('');
  });
});

describe('historyReach and the Live notice', () => {
  const history = { records: 1_000_000, maxRecords: 1_000_000, maxSeconds: 600, oldestTime: T0, dropped: 52 };

  it('says how far back the held records go once older ones were let go', () => {
    expect(historyReach(history)).toBe(
      'the daemon holds 1\u2009000\u2009000 records from 14:02:11 UTC; 52 older ones let go (--history)',
    );
    expect(historyReach({ ...history, dropped: 0 })).toBe('');
    expect(historyReach(undefined)).toBe('');
  });

  it('is a part of the notice above the Live table', () => {
    const s = {
      input: { eof: true, endedAt: T0 + 60, messages: 1_000_052 },
      source: { kind: 'file' },
      stream: { history: null },
    } as unknown as Pick<ClientStatus, 'input' | 'source' | 'stream'>;
    expect(historyNotice(s, { history })).toBe(
      'Replay finished at 14:03:11 UTC (1\u2009000\u2009052 messages) · ' +
        'the daemon holds 1\u2009000\u2009000 records from 14:02:11 UTC; 52 older ones let go (--history)',
    );
    expect(historyNotice(s, null)).toBe('Replay finished at 14:03:11 UTC (1\u2009000\u2009052 messages)');
  });
});

describe('spoolFlag', () => {
  const spool = { dir: '/var/spool', bytes: 256 * 1024 * 1024, bytesWritten: 10 * 1024, tmpfs: false, stopped: null };

  it('flags a stopped spool as an error, with its reason and what it means', () => {
    const f = spoolFlag({ ...spool, stopped: 'ENOSPC: no space left on device, write' });
    expect(f.level).toBe('error');
    expect(f.text).toBe('spool stopped');
    expect(f.title).toBe(
      'stdin spool in /var/spool stopped (ENOSPC: no space left on device, write): the packets of later messages ' +
        "are kept in the daemon's memory, up to --packet-ring (256 MiB); 10 KiB were spooled",
    );
  });

  it('flags a spool that could not be made as an error, with the reason and what it means', () => {
    const f = spoolFlag({
      ...spool,
      dir: '/nonexistent',
      bytesWritten: 0,
      stopped: 'ENOENT: no such file',
      unmade: true,
    });
    expect(f.level).toBe('error');
    expect(f.text).toBe('no spool');
    expect(f.title).toBe(
      "stdin spool could not be made in /nonexistent (ENOENT: no such file): the packets are kept in the daemon's " +
        'memory, up to --packet-ring (256 MiB)',
    );
  });

  it('warns of a spool on a tmpfs', () => {
    const f = spoolFlag({ ...spool, dir: '/dev/shm', tmpfs: true });
    expect(f).toEqual({
      level: 'warn',
      text: 'spool in memory',
      title:
        'stdin spool in /dev/shm is on a tmpfs, which keeps it in memory (up to 256 MiB): give --spool-dir a directory on disk',
    });
  });

  it('says nothing of a spool on disk that writes, or of none', () => {
    expect(spoolFlag(spool).level).toBe('');
    expect(spoolFlag(undefined).level).toBe('');
  });
});
