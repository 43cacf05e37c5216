import { describe, expect, it } from 'vitest';
import type { SnapshotMessage } from './contract.js';
import { initialStatus } from './remote-client.js';
import { describeConnection, describeSource, formatLag, linkTypeName, streamHealth } from './status.js';
import type { ClientStatus } from './worker-protocol.js';

function status(stream: Partial<ClientStatus['stream']>, more: Partial<ClientStatus> = {}): ClientStatus {
  const st = initialStatus();
  return { ...st, state: 'open', lastSnapshotAt: 9500, ...more, stream: { ...st.stream, ...stream } };
}

const busy = { stats: { messagesPerSecond: 85_000 } } as SnapshotMessage;

describe('status wording', () => {
  it('describes sources', () => {
    expect(describeSource({ kind: 'live', iface: 'lo', linktype: 1, filter: 'udp port 5064 or tcp' })).toBe(
      'live lo (EN10MB) filter "udp port 5064 or tcp"',
    );
    expect(describeSource({ kind: 'file', file: 'x.pcapng' })).toBe('file x.pcapng');
    expect(describeSource(null)).toBe('unknown source');
    expect(linkTypeName(276)).toBe('LINUX_SLL2');
    expect(linkTypeName(999)).toBe('linktype 999');
  });
  it('describes the connection with a countdown', () => {
    expect(describeConnection('open', 0, 0, 0)).toBe('connected');
    expect(describeConnection('reconnecting', 5000, 2100, 3)).toBe('reconnecting in 3 s (attempt 3)');
    expect(describeConnection('reconnecting', 1000, 2000, 1)).toBe('reconnecting (attempt 1)…');
  });
});

describe('stream health', () => {
  it('adds the time since the last frame to its lag while records are expected, and says "behind" over 2 s', () => {
    const st = status({ lastFrameAt: 9000, frameLagMs: 300, matchedRate: 85_000, sentRate: 2000, sampling: true });
    const h = streamHealth(st, busy, 10_000);
    expect(h).toEqual({
      lagMs: 1300,
      behind: false,
      stale: '',
      sampling: true,
      notSent: 0,
      matchedRate: 85_000,
      sentRate: 2000,
    });
    expect(streamHealth(st, busy, 10_800).behind).toBe(true);
  });

  it('calls the view stale when frames stop while the daemon reports traffic, not when all is quiet', () => {
    const st = status({ lastFrameAt: 1000, frameLagMs: 50, matchedRate: 500 }, { lastSnapshotAt: 4500 });
    expect(streamHealth(st, busy, 4500).stale).toBe('no records for 3 s while the daemon reports traffic');
    const quiet = status({ lastFrameAt: 1000, frameLagMs: 0, matchedRate: 0 }, { lastSnapshotAt: 4500 });
    const idle = { stats: { messagesPerSecond: 0 } } as SnapshotMessage;
    expect(streamHealth(quiet, idle, 4500)).toMatchObject({ stale: '', lagMs: 0 });
    // A filter that matches nothing: the daemon's message rate says nothing about this page's records.
    const filtered = status(
      { lastFrameAt: 1000, frameLagMs: 0, matchedRate: 0 },
      { filter: { pv: ['x'] }, lastSnapshotAt: 4500 },
    );
    expect(streamHealth(filtered, busy, 4500).stale).toBe('');
    expect(streamHealth(status({}, { lastSnapshotAt: 1000 }), busy, 5000).stale).toMatch(/no snapshot for 4 s/);
  });

  it('counts what the page was not sent, sampled out or dropped, and has no lag for a replayed file', () => {
    const st = status(
      { matched: 85_000, sent: 2000, frameLagMs: 100, lastFrameAt: 9900 },
      { serverDropped: 10, source: { kind: 'file', file: 'x.pcap' } },
    );
    expect(streamHealth(st, busy, 10_000)).toMatchObject({ notSent: 83_010, lagMs: null, behind: false });
    expect(formatLag(null)).toBe('–');
    expect(formatLag(120.4)).toBe('120 ms');
    expect(formatLag(3210)).toBe('3.2 s');
  });
});
