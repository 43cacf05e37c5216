import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertRow, SnapshotMessage, WriteRow } from './contract.js';
import {
  alertSummary,
  alertSummaryOf,
  analysisOf,
  formatList,
  describeAlerts,
  describeDuplicate,
  formatWriteValue,
  parseStorms,
  reportUrl,
  severityClass,
  StormPoller,
  writeOutcome,
  type FetchLike,
  type StormPoll,
} from './analysis.js';

const stats: SnapshotMessage['stats'] = {
  packets: 0,
  bytes: 0,
  messages: 0,
  messagesPerSecond: 0,
  perCommand: {},
  malformed: 0,
  decoderDropped: 0,
  skippedFlows: { flows: 0, bytes: 0 },
  capture: { received: 0, dropped: 0, ifDropped: 0 },
  websocket: { clients: 0, dropped: 0 },
};

// No default `analysis`: the fallback for snapshots without it (older daemons) is under test too.
function snap(extra: Partial<SnapshotMessage>): SnapshotMessage {
  return <SnapshotMessage>{
    type: 'snapshot',
    time: 0,
    stats,
    channels: [],
    servers: [],
    clients: [],
    searches: { top: [], unanswered: [] },
    errors: [],
    alerts: [],
    ...extra,
  };
}

function write(extra: Partial<WriteRow>): WriteRow {
  return {
    time: 1,
    frame: 1,
    client: '10.0.0.2:40000',
    host: 'opi',
    user: 'op',
    server: '10.0.0.5:5064',
    pv: 'X:SP',
    command: 'WriteNotifyRequest',
    data_type: 6,
    data_count: 1,
    value: [1.5],
    status: null,
    status_name: null,
    ...extra,
  };
}

describe('analysisOf', () => {
  it('keeps well-formed rows and drops junk', () => {
    const a = analysisOf(
      snap({
        analysis: {
          never_found: [
            { pv: 'a', count: 3, first_seen: 1, last_seen: 2, clients: ['1.2.3.4:5'], hosts: ['1.2.3.4'] },
            { nope: 1 } as never,
          ],
          duplicates: [{ pv: 'd', servers: ['1.1.1.1:5064', '2.2.2.2:5064'], verdict: 'duplicate', answers: [] }],
          beacon_anomalies: [{ server: '1.1.1.1:5064', time: 3, cause: 'restart', detail: 'id reset' }, 'x' as never],
          writes: [write({})],
          redundant_subscriptions: [
            { pv: 'r', circuit: 2, client: null, server: null, count: 3, subscriptionids: [1, 2, 3], first_seen: 4 },
          ],
        },
      }),
    );
    expect(a.never_found.map((n) => n.pv)).toEqual(['a']);
    expect(a.duplicates[0].verdict).toBe('duplicate');
    expect(a.beacon_anomalies).toHaveLength(1);
    expect(a.writes).toHaveLength(1);
    expect(a.redundant_subscriptions[0].subscriptionids).toEqual([1, 2, 3]);
  });

  it('falls back to the unanswered searches of a daemon without analyses', () => {
    const a = analysisOf(
      snap({
        searches: {
          top: [],
          unanswered: [{ pv: 'm', count: 7, firstSeen: 10, lastSeen: 20, clients: ['10.0.0.9:5000', '10.0.0.9:5001'] }],
        },
      }),
    );
    expect(a.never_found).toEqual([
      {
        pv: 'm',
        count: 7,
        first_seen: 10,
        last_seen: 20,
        clients: ['10.0.0.9:5000', '10.0.0.9:5001'],
        hosts: ['10.0.0.9'],
      },
    ]);
    expect(a.duplicates).toEqual([]);
    expect(analysisOf(null).writes).toEqual([]);
  });

  it('reads a snapshot once, whichever view asks, and the next snapshot afresh', () => {
    const first = snap({ analysis: { writes: [write({})] } as never });
    const a = analysisOf(first);
    expect(analysisOf(first)).toBe(a);
    const next = analysisOf(snap({ analysis: { writes: [] } as never }));
    expect(next).not.toBe(a);
    expect(next.writes).toEqual([]);
    expect(a.writes).toHaveLength(1);
  });
});

describe('formatList', () => {
  it('cuts long lists', () => {
    expect(formatList(['a', 'b'])).toBe('a, b');
    expect(formatList(['a', 'b', 'c', 'd', 'e'], 2)).toBe('a, b +3 more');
  });
});

describe('alerts', () => {
  const row = (kind: AlertRow['kind'], severity: AlertRow['severity'], acknowledged = false): AlertRow => ({
    key: `${kind} x`,
    kind,
    subject: 'x',
    severity,
    message: '',
    firstSeen: 1,
    lastSeen: 2,
    count: 3,
    acknowledged: acknowledged ? { at: 2, count: 3 } : null,
  });
  it('counts open groups by severity and names the worst', () => {
    const s = alertSummary([
      row('search-storm', 'warn'),
      row('duplicate-pv', 'error'),
      row('multi-path', 'info'),
      row('search-client', 'warn'),
      row('capture-drops', 'error', true),
    ]);
    expect(s).toEqual({ total: 4, error: 1, warn: 2, info: 1, worst: 'error' });
    expect(describeAlerts(s)).toBe('4 alerts (1 error, 2 warn, 1 info)');
    expect(alertSummary([row('multi-path', 'info')]).worst).toBe('info');
    expect(describeAlerts(alertSummary([]))).toBe('no alerts');
    // The daemon's totals win: they count groups beyond the list it sends.
    expect(alertSummaryOf({ alerts: [], alertTotals: { open: { error: 0, warn: 7, info: 1 } } })).toEqual({
      total: 8,
      error: 0,
      warn: 7,
      info: 1,
      worst: 'warn',
    });
    expect(severityClass('bogus')).toBe('info');
  });
});

describe('writes', () => {
  it('tells success, failure and silence apart', () => {
    expect(writeOutcome(write({ status: 1, status_name: 'ECA_NORMAL' }))).toEqual({ text: 'NORMAL', cls: 'ok' });
    expect(writeOutcome(write({ status: 160, status_name: 'ECA_PUTFAIL' }))).toEqual({ text: 'PUTFAIL', cls: 'error' });
    expect(writeOutcome(write({ status: 160 })).cls).toBe('error');
    expect(writeOutcome(write({ command: 'WriteRequest' }))).toEqual({ text: 'no reply (WRITE)', cls: 'muted' });
    expect(writeOutcome(write({})).text).toBe('no reply yet');
  });
  it('shows scalars bare and cut arrays with their real count', () => {
    expect(formatWriteValue(write({ value: [1.5] }))).toBe('1.5');
    expect(formatWriteValue(write({ value: ['on'], data_type: 0 }))).toContain('on');
    const long = formatWriteValue(write({ value: Array.from({ length: 16 }, (_, i) => i), data_count: 100 }));
    expect(long.startsWith('[100] 0, 1')).toBe(true);
    expect(formatWriteValue(write({ value: Array.from({ length: 16 }, (_, i) => i), data_count: 100 }), 3)).toBe(
      '[100] 0, 1, …',
    );
  });
});

describe('duplicates', () => {
  it('explains the verdict with the paths', () => {
    const text = describeDuplicate({
      pv: 'p',
      servers: ['1.1.1.1:5064'],
      verdict: 'multi-path',
      answers: [{ server: '1.1.1.1:5064', via: ['1.1.1.1:5064', '1.1.2.1:5064'], first_seen: 0, count: 4 }],
    });
    expect(text).toBe('one server reached over several paths: 1.1.1.1:5064 via 1.1.1.1:5064, 1.1.2.1:5064 (4×)');
  });
});

describe('report fetch', () => {
  afterEach(() => vi.useRealTimers());

  it('builds the report URL beside the page with its token', () => {
    expect(reportUrl({ origin: 'http://h:8080', pathname: '/', search: '' }, ['search_storms'])).toBe(
      'http://h:8080/api/report?section=search_storms',
    );
    expect(reportUrl({ origin: 'https://gw', pathname: '/ca/index.html', search: '?token=a b' }, ['a', 'b'])).toBe(
      'https://gw/ca/api/report?section=a%2Cb&token=a+b',
    );
  });

  it('parses storms and drops malformed rows', () => {
    const rows = parseStorms({
      search_storms: [
        { pv: 's', count: 40, rate: 4, flagged: true, reasons: ['rate 4.0/s ≥ 1/s'], clients: ['1.2.3.4:5'] },
        { pv: 3 },
      ],
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].flagged).toBe(true);
    expect(parseStorms('nope')).toEqual([]);
  });

  it('polls on an interval, one request at a time, and stops', async () => {
    vi.useFakeTimers();
    const results: StormPoll[] = [];
    let calls = 0;
    let release: (() => void) | null = null;
    const fetchImpl: FetchLike = async () => {
      calls++;
      if (calls === 2) await new Promise<void>((r) => (release = r));
      if (calls === 3) return { ok: false, status: 503, json: async () => ({}) };
      return { ok: true, status: 200, json: async () => ({ search_storms: [{ pv: `p${calls}`, count: 1, rate: 1 }] }) };
    };
    const poller = new StormPoller('u', (r) => results.push(r), fetchImpl, 1000);
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(results.map((r) => r.storms[0]?.pv)).toEqual(['p1']);
    await vi.advanceTimersByTimeAsync(5000);
    // The second request hangs: no third one is sent meanwhile.
    expect(calls).toBe(2);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(results.map((r) => r.error)).toEqual([null, null, 'HTTP 503']);
    poller.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
  });
});
