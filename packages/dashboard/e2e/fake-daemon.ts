/**
 * TEST FIXTURE, not product code: a stand-in for `ca-sharkd` that speaks the dashboard's WebSocket and
 * HTTP contract (hello, compact `records` frames that sample when a page cannot take everything, snapshots,
 * dropped notices, subscriptions, `GET /api/record/:id` from a bounded ring) with synthetic CA traffic, and
 * serves the built page. It lets the browser tests and the render bench run without
 * capture privileges; the end-to-end test against the real daemon lives in daemon.e2e.test.ts.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CaCommandJSON } from '@ca-shark/analysis';
import type {
  RecordJSON,
  RecordsMessage,
  SearchStormRow,
  SnapshotAnalysis,
  SnapshotMessage,
  SubscribeFilter,
} from '../src/lib/contract.js';
import { compileFilter, type RecordPredicate } from '../src/lib/filter.js';
import { liveRecordOf } from '../src/lib/live-record.js';
import { packetParts } from '../src/lib/test-support/records.js';

/** Options of {@link startFakeDaemon}. */
export interface FakeDaemonOptions {
  /** Directory of the built page (`vite build` output). */
  distDir: string;
  /** Synthetic CA messages per second (default 200). */
  rate?: number;
  /** Milliseconds between record frames (default 100, as the daemon). */
  tickMs?: number;
  /** Bytes a client may have unsent before its records are dropped (default 8 MiB). */
  maxBuffered?: number;
  /**
   * `compact` (default): LiveRecord frames with matched/sent/rate/sampling, as the daemon sends since issue
   * 12. `full`: full records and nothing else, as daemons before it did (the page still reads those).
   */
  format?: 'compact' | 'full';
  /** Most records a second sent to one page; above it the frames carry a sample (default 20,000). */
  maxPerSecond?: number;
  /** Latest records `GET /api/record/:id` still answers (default 100,000). */
  held?: number;
  /** Rows added to each snapshot table (channels, clients, top searches, errors), to load the views. */
  tableRows?: number;
  /**
   * Alert groups added to the snapshot (info `multi-path`, one per PV `sim:many:N`), as a daemon under a
   * flood holds a few hundred (up to 200 per severity).
   */
  alertRows?: number;
  /** Token the daemon requires on /api and /ws (`?token=` or `Authorization: Bearer`), none by default. */
  token?: string;
  /**
   * Where the newest record of each compact frame spent its time in the daemon (ms), sent as the frame's
   * `postedAt`, `decodedAt` and `publishedAt` (the contract's `RecordsMessage`): records are captured that much before
   * the frame is sent, the newest exactly so. Without it frames carry no stage times (a file or an older
   * daemon).
   */
  stagesMs?: FakeStages;
  /** Fields added to every snapshot's stats (what the daemon holds and let go: `packetRing`, `spool`, ...). */
  stats?: Partial<SnapshotMessage['stats']>;
}

/** The daemon's stages of a record on its way to the page (ms), as the status bar names them. */
export interface FakeStages {
  /** From capture to the decoder's queue (libpcap and the 10 ms batching). */
  capture: number;
  /** Waiting for and in the decoding worker. */
  decoder: number;
  /** Waiting for the daemon's main thread. */
  main: number;
  /** In the hub until the frame was sent. */
  hub: number;
}

/** A running fake daemon. */
export interface FakeDaemon {
  url: string;
  /** Subscriptions received, in order. */
  subscriptions: SubscribeFilter[];
  /** Sections asked of `/api/report`, one entry per request. */
  reportRequests: string[][];
  /** Records sent over all connections. */
  sent(): number;
  /** Records dropped for slow clients. */
  dropped(): number;
  /** Records that matched a page's filter but were left out of its sample. */
  unsent(): number;
  /** Ids asked of `GET /api/record/:id`, in order. */
  recordRequests: number[];
  /** Alert keys acknowledged with `POST /api/alerts/ack`, in order. */
  ackRequests: string[];
  /** Closes every WebSocket (the page should reconnect). */
  kickClients(): void;
  /** Stops (true) or restarts record frames while snapshots go on, as a stalled stream would. */
  stall(on: boolean): void;
  /** From now on `GET /api/record/:id` answers only for the latest `n` records. */
  holdOnly(n: number): void;
  /** Changes the rows added to each snapshot table. */
  setTableRows(n: number): void;
  close(): Promise<void>;
}

const SERVER = '127.0.0.1';
const SERVER_PORT = 5070;
const CLIENT = '127.0.0.1';
const CLIENT_PORT = 40123;
/** Search port of a second client process on the same host. */
const SECOND_SEARCH_PORT = 40124;
const BEACON_PERIOD_S = 15;
const EPICS_EPOCH_OFFSET = 631152000;

/** CA header: command u16, payload size u16, data type u16, data count u16, p1 u32, p2 u32. */
function headerHex(cmd: number, payload: string, dt: number, dc: number, p1: number, p2: number): string {
  const h = (n: number, bytes: number): string =>
    (n >>> 0)
      .toString(16)
      .padStart(bytes * 2, '0')
      .slice(-bytes * 2);
  return h(cmd, 2) + h(payload.length / 2, 2) + h(dt, 2) + h(dc, 2) + h(p1, 4) + h(p2, 4) + payload;
}

function stringPayloadHex(s: string): string {
  let hex = Buffer.from(`${s}\0`, 'latin1').toString('hex');
  while ((hex.length / 2) % 8 !== 0) hex += '00';
  return hex;
}

function doubleHex(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

function base(
  t: number,
  frame: number,
  udp: boolean,
  fromServer: boolean,
): Omit<RecordJSON, 'command' | 'pv' | 'size'> {
  const src = fromServer ? SERVER : CLIENT;
  const dst = fromServer ? CLIENT : udp ? '127.255.255.255' : SERVER;
  const sport = fromServer ? (udp ? 5064 : SERVER_PORT) : CLIENT_PORT;
  const dport = fromServer ? CLIENT_PORT : udp ? 5064 : SERVER_PORT;
  const { size: _size, ...packet } = packetParts({ src, dst, sport, dport, udp });
  return {
    ...packet,
    frame,
    timestamp: t,
    role: fromServer ? 'response' : 'request',
    role_certainty: 'certain',
    server: `${SERVER}:${SERVER_PORT}`,
    client: `${CLIENT}:${CLIENT_PORT}`,
  };
}

/** Deterministic synthetic traffic: a mix of searches, a search storm for a missing PV, monitors, reads, writes. */
export class TrafficGenerator {
  private frame = 0;
  private counter = 0;

  /** The record number `n` of the cycle, stamped at time `t` (Unix seconds). */
  next(t: number): RecordJSON {
    const n = this.frame++;
    const f = n + 1;
    switch (n % 10) {
      case 0: {
        const pv = n % 20 === 0 ? 'sim:missing' : 'sim:double';
        return {
          ...base(t, f, true, false),
          pv,
          command: { name: 'SearchRequest', id: 6, pv, cid: n % 1000, reply: 5, version: 13 } satisfies CaCommandJSON,
          size: 40,
          raw: headerHex(6, stringPayloadHex(pv), 5, 13, n % 1000, n % 1000),
        };
      }
      case 1:
        return {
          ...base(t, f, true, true),
          pv: 'sim:double',
          command: {
            name: 'SearchResponse',
            id: 6,
            port: SERVER_PORT,
            ip: '255.255.255.255',
            ip_raw: 0xffffffff,
            use_source_address: true,
            cid: (n - 1) % 1000,
            version: 13,
          } satisfies CaCommandJSON,
          latency: 0.0004 + (n % 7) * 0.0001,
          request: { frame: f - 1, timestamp: t, command: 'SearchRequest' },
          size: 24,
          raw: headerHex(6, '000d000000000000', SERVER_PORT, 0, 0xffffffff, (n - 1) % 1000),
        };
      case 2:
      case 3:
      case 4: {
        this.counter++;
        const pv = n % 10 === 2 ? 'sim:counter' : 'sim:double';
        const value = pv === 'sim:counter' ? this.counter : Math.sin(n / 100) * 10;
        const secs = Math.floor(t) - EPICS_EPOCH_OFFSET;
        const nsec = Math.round((t % 1) * 1e9);
        const high = value > 8;
        return {
          ...base(t, f, false, true),
          pv,
          circuit: 1,
          command: {
            name: 'EventAddResponse',
            id: 1,
            data_type: 20,
            data_type_name: 'TIME_DOUBLE',
            data_count: 1,
            status: 1,
            status_name: 'ECA_NORMAL',
            severity: 'SUCCESS',
            subscriptionid: pv === 'sim:counter' ? 2 : 1,
            data: [value],
            metadata: {
              status: high ? 4 : 0,
              statusName: high ? 'HIGH' : 'NO_ALARM',
              severity: high ? 1 : 0,
              severityName: high ? 'MINOR' : 'NO_ALARM',
              timestamp: t,
              secondsPastEpoch: secs,
              nanoseconds: nsec,
            },
          } satisfies CaCommandJSON,
          size: 40,
          raw: headerHex(
            1,
            `${high ? '0004' : '0000'}${high ? '0001' : '0000'}${secs.toString(16).padStart(8, '0')}${nsec.toString(16).padStart(8, '0')}00000000${doubleHex(value)}`,
            20,
            1,
            1,
            2,
          ),
        };
      }
      case 5:
        return {
          ...base(t, f, false, false),
          pv: 'sim:enum',
          circuit: 1,
          command: {
            name: 'ReadNotifyRequest',
            id: 15,
            data_type: 31,
            data_type_name: 'CTRL_ENUM',
            data_count: 1,
            sid: 3,
            ioid: n,
          } satisfies CaCommandJSON,
          size: 16,
          raw: headerHex(15, '', 31, 1, 3, n),
        };
      case 6:
        return {
          ...base(t, f, false, true),
          pv: 'sim:enum',
          circuit: 1,
          latency: 0.0009 + (n % 5) * 0.0002,
          request: { frame: f - 1, timestamp: t, command: 'ReadNotifyRequest' },
          command: {
            name: 'ReadNotifyResponse',
            id: 15,
            data_type: 31,
            data_type_name: 'CTRL_ENUM',
            data_count: 1,
            status: 1,
            status_name: 'ECA_NORMAL',
            severity: 'SUCCESS',
            ioid: n - 1,
            data: [n % 3],
            metadata: {
              status: 0,
              statusName: 'NO_ALARM',
              severity: 0,
              severityName: 'NO_ALARM',
              enumStrings: ['Off', 'On', 'Fault'],
            },
          } satisfies CaCommandJSON,
          size: 440,
        };
      case 7:
        return {
          ...base(t, f, false, false),
          pv: 'sim:long',
          circuit: 1,
          command: {
            name: 'WriteNotifyRequest',
            id: 19,
            data_type: 5,
            data_type_name: 'LONG',
            data_count: 1,
            sid: 4,
            ioid: n,
            data: [n],
          } satisfies CaCommandJSON,
          size: 24,
          raw: headerHex(19, `${(n >>> 0).toString(16).padStart(8, '0')}00000000`, 5, 1, 4, n),
        };
      case 8: {
        const failed = n % 40 === 8;
        return {
          ...base(t, f, false, true),
          pv: 'sim:long',
          circuit: 1,
          latency: 0.0015,
          request: { frame: f - 1, timestamp: t, command: 'WriteNotifyRequest' },
          command: {
            name: 'WriteNotifyResponse',
            id: 19,
            data_type: 5,
            data_type_name: 'LONG',
            data_count: 1,
            status: failed ? 160 : 1,
            status_name: failed ? 'ECA_PUTFAIL' : 'ECA_NORMAL',
            severity: failed ? 'WARNING' : 'SUCCESS',
            ...(failed ? { failed: true as const } : {}),
            ioid: n - 1,
          } satisfies CaCommandJSON,
          size: 16,
          raw: headerHex(19, '', 5, 1, failed ? 160 : 1, n - 1),
        };
      }
      default:
        return {
          ...base(t, f, true, true),
          dst: '127.0.0.1',
          pv: null,
          command: {
            name: 'Beacon',
            id: 13,
            version: 13,
            server_port: SERVER_PORT,
            beacon_id: n,
            address: SERVER,
            address_raw: 0x7f000001,
          } satisfies CaCommandJSON,
          size: 16,
          raw: headerHex(13, '', 13, SERVER_PORT, n, 0x7f000001),
        };
    }
  }
}

/** A snapshot consistent with the traffic above. */
export function fakeSnapshot(
  now: number,
  started: number,
  messages: number,
  rate: number,
  websocketDropped: number,
  clients: number,
  extraRows = 0,
  acked: ReadonlyMap<string, number> = new Map(),
  alertRows = 0,
): SnapshotMessage {
  const searches = Math.floor(messages / 10);
  const missing = Math.floor(messages / 20);
  const lat = (p: number) => ({
    count: Math.floor(messages / 10),
    mean: p,
    min: p / 2,
    p50: p,
    p90: p * 1.5,
    p99: p * 2,
    max: p * 3,
  });
  let cid = 0;
  const channel = (
    pv: string,
    type: string,
    value: unknown,
    extra: Partial<SnapshotMessage['channels'][number]> = {},
  ) => ({
    pv,
    client: `${CLIENT}:${CLIENT_PORT}`,
    server: `${SERVER}:${SERVER_PORT}`,
    circuit: 1,
    cid: ++cid,
    sid: cid,
    state: 'connected',
    closedAt: null,
    nativeType: type,
    count: 1,
    access: 'rw',
    subscriptions: 1,
    updates: Math.floor(messages / 10),
    updateRate: rate / 10,
    lastValue: value,
    display: null,
    searchLatency: 0.0005,
    timeToFind: 0.0005,
    connectLatency: 0.0012,
    firstSeen: started,
    lastSeen: now,
    ...extra,
  });
  const timeToFind = { count: 2, mean: 0.0505, min: 0.0005, p50: 0.0505, p90: 0.0905, p99: 0.0995, max: 0.1005 };
  const snap: SnapshotMessage = {
    type: 'snapshot',
    time: now,
    stats: {
      packets: messages,
      bytes: messages * 80,
      messages,
      messagesPerSecond: rate,
      perCommand: {
        SearchRequest: searches,
        SearchResponse: searches - missing,
        EventAddResponse: Math.floor(messages * 0.3),
      },
      malformed: 0,
      decoderDropped: 0,
      skippedFlows: { flows: 0, bytes: 0 },
      capture: { received: messages, dropped: 0, ifDropped: 0 },
      websocket: { clients, dropped: websocketDropped },
    },
    channels: [
      channel('sim:double', 'DOUBLE', [3.14159], { display: { precision: 3, units: 'mm' } }),
      channel('sim:counter', 'LONG', [42]),
      channel(
        'sim:enum',
        'ENUM',
        { data: [1], metadata: { enumStrings: ['Off', 'On', 'Fault'] } },
        { subscriptions: 0, updates: 0, updateRate: null },
      ),
      channel('sim:long', 'LONG', [7], {
        subscriptions: 0,
        updateRate: null,
        display: { units: 'counts' },
      }),
      channel(
        'sim:waveform',
        'DOUBLE',
        Array.from({ length: 1000 }, (_, i) => i / 10),
        { count: 1000 },
      ),
      channel('sim:old', 'DOUBLE', [1], {
        state: 'closed',
        closedAt: started,
        subscriptions: 0,
        updateRate: null,
        timeToFind: 0.1005,
        lastSeen: started,
      }),
    ],
    // More channels than listed: the view says what it shows of how many.
    channelTotals: { open: 5 + Math.floor(messages / 1000), closed: 1, closedDropped: 0 },
    servers: [
      {
        address: `${SERVER}:${SERVER_PORT}`,
        circuits: 1,
        channels: 5,
        beacons: 12,
        beaconPeriod: BEACON_PERIOD_S,
        lastBeacon: now - 3,
        lastBeaconId: 12,
        latency: { search: lat(0.0005), create: lat(0.0011), read: lat(0.0013), write: lat(0.0015) },
      },
    ],
    // Two processes on one host: one row each, told apart by their search ports.
    clients: [
      {
        process: `udp ${CLIENT}:${CLIENT_PORT}`,
        host: CLIENT,
        hostname: 'ca-shark-test',
        user: 'tester',
        searchPort: CLIENT_PORT,
        circuitEndpoints: [`${CLIENT}:${CLIENT_PORT}`],
        circuits: 1,
        channels: 5,
        searches,
        searchRate: rate / 10,
        timeToFind,
      },
      {
        process: `udp ${CLIENT}:${SECOND_SEARCH_PORT}`,
        host: CLIENT,
        hostname: null,
        user: null,
        searchPort: SECOND_SEARCH_PORT,
        circuitEndpoints: [],
        circuits: 0,
        channels: 0,
        searches: missing,
        searchRate: rate / 20,
        timeToFind: null,
      },
    ],
    searches: {
      top: [
        {
          pv: 'sim:double',
          count: searches - missing,
          clients: 1,
          answered: true,
          servers: [`${SERVER}:${SERVER_PORT}`],
          timeToFind,
          firstSeen: started,
          lastSeen: now,
        },
        {
          pv: 'sim:missing',
          count: missing,
          clients: 1,
          answered: false,
          servers: [],
          timeToFind: null,
          firstSeen: started,
          lastSeen: now,
        },
      ],
      unanswered: [
        { pv: 'sim:missing', count: missing, firstSeen: started, lastSeen: now, clients: [`${CLIENT}:${CLIENT_PORT}`] },
      ],
    },
    errors: [
      { time: now - 1, command: 'WriteNotifyResponse', pv: 'sim:long', src: SERVER, dst: CLIENT, detail: 'PUTFAIL' },
    ],
    alerts: fakeAlerts(now, started, missing, acked, alertRows),
    alertTotals: fakeAlertTotals(fakeAlerts(now, started, missing, acked, alertRows)),
    analysis: fakeAnalysis(now, started, missing),
  };
  for (let i = 0; i < extraRows; i++) {
    // A beamline's worth of channels, clients, searched names and errors, to load the views.
    const pv = `sim:bulk:${String(i).padStart(5, '0')}`;
    snap.channels.push(channel(pv, 'DOUBLE', [i / 7], { circuit: 2 + (i % 50), updateRate: i % 13 }));
    if (i % 10 === 0) {
      const host = `10.1.${(i >> 8) & 255}.${i & 255}`;
      snap.clients.push({
        process: `udp ${host}:${40000 + (i % 1000)}`,
        host,
        hostname: `opi-${i}`,
        user: 'operator',
        searchPort: 40000 + (i % 1000),
        circuitEndpoints: [`${host}:${41000 + (i % 1000)}`],
        circuits: 1,
        channels: 10,
        searches: i,
        searchRate: i / 100,
        timeToFind: null,
      });
      snap.searches.top.push({
        pv,
        count: i,
        clients: 1 + (i % 5),
        answered: true,
        servers: [`${SERVER}:${SERVER_PORT}`],
        timeToFind: null,
        firstSeen: started,
        lastSeen: now,
      });
    }
    if (i % 20 === 0) {
      snap.errors.push({
        time: now - (i % 60),
        command: 'ReadNotifyResponse',
        pv,
        src: SERVER,
        dst: CLIENT,
        detail: 'NORDACCESS',
      });
    }
  }
  snap.channelTotals.open += extraRows;
  return snap;
}

/** A second IOC that also serves `sim:dup` (the duplicate-PV case), and a second route to the first. */
const OTHER_SERVER = `127.0.0.2:${SERVER_PORT}`;
/** A second client that writes with plain WRITE. */
const OTHER_CLIENT = '127.0.0.3:40500';

/** The live analyses of the traffic above, in the daemon's `snapshot.analysis` form (docs/websocket.md). */
export function fakeAnalysis(now: number, started: number, missing: number): SnapshotAnalysis {
  const server = `${SERVER}:${SERVER_PORT}`;
  const client = `${CLIENT}:${CLIENT_PORT}`;
  return {
    never_found: [
      { pv: 'sim:missing', count: missing, first_seen: started, last_seen: now, clients: [client], hosts: [CLIENT] },
    ],
    duplicates: [
      {
        pv: 'sim:dup',
        servers: [server, OTHER_SERVER],
        verdict: 'duplicate',
        answers: [
          { server, via: [`${SERVER}:5064`], first_seen: started, count: 3 },
          { server: OTHER_SERVER, via: ['127.0.0.2:5064'], first_seen: started + 0.001, count: 3 },
        ],
      },
      {
        pv: 'sim:double',
        servers: [server],
        verdict: 'multi-path',
        answers: [{ server, via: [`${SERVER}:5064`, '127.0.0.9:5064'], first_seen: started, count: 8 }],
      },
    ],
    beacon_anomalies: [
      { server, time: started + 1, cause: 'restart', detail: 'beacon id went back from 41 to 0', beacon_id: 0 },
    ],
    writes: [
      {
        time: now - 3,
        frame: 8,
        client,
        host: 'ca-shark-test',
        user: 'tester',
        server,
        pv: 'sim:long',
        command: 'WriteNotifyRequest',
        data_type: 5,
        data_count: 1,
        value: [7],
        status: 1,
        status_name: 'ECA_NORMAL',
      },
      {
        time: now - 2,
        frame: 48,
        client,
        host: 'ca-shark-test',
        user: 'tester',
        server,
        pv: 'sim:long',
        command: 'WriteNotifyRequest',
        data_type: 5,
        data_count: 1,
        value: [47],
        status: 160,
        status_name: 'ECA_PUTFAIL',
      },
      {
        time: now - 1,
        frame: 60,
        client: OTHER_CLIENT,
        host: 'opi-2',
        user: 'operator',
        server,
        pv: 'sim:double',
        command: 'WriteRequest',
        data_type: 6,
        data_count: 1,
        value: [2.5],
        status: null,
        status_name: null,
      },
    ],
    redundant_subscriptions: [
      { pv: 'sim:double', circuit: 1, client, server, count: 3, subscriptionids: [1, 5, 9], first_seen: started },
    ],
  };
}

/** The daemon's alerts for the analyses above, oldest first. */
export function fakeAlerts(
  now: number,
  started: number,
  missing: number,
  acked: ReadonlyMap<string, number> = new Map(),
  extra = 0,
): SnapshotMessage['alerts'] {
  const server = `${SERVER}:${SERVER_PORT}`;
  const group = (
    kind: SnapshotMessage['alerts'][number]['kind'],
    subject: string,
    severity: 'info' | 'warn' | 'error',
    firstSeen: number,
    lastSeen: number,
    count: number,
    message: string,
  ): SnapshotMessage['alerts'][number] => {
    const key = `${kind} ${subject}`;
    const at = acked.get(key);
    return {
      key,
      kind,
      subject,
      severity,
      message,
      firstSeen,
      lastSeen,
      count,
      acknowledged: at === undefined ? null : { at, count },
    };
  };
  // As the daemon sorts them: most serious first, then open ones, then the latest.
  const rows = [
    group(
      'duplicate-pv',
      'sim:dup',
      'error',
      started + 0.001,
      started + 0.001,
      1,
      `sim:dup is answered by 2 servers: ${server}, ${OTHER_SERVER}`,
    ),
    group(
      'search-storm',
      'sim:missing',
      'warn',
      started,
      now,
      missing,
      `sim:missing searched 1.5/s over the last 60 s (limit 1/s)`,
    ),
    // The span must not collapse when the page asks within seconds of the start (a fast machine).
    group(
      'beacon-restart',
      server,
      'warn',
      started + 1,
      Math.max(now - 2, started + 2),
      98,
      `${server}: beacon id went back from 41 to 0`,
    ),
    group(
      'multi-path',
      'sim:double',
      'info',
      started,
      started,
      1,
      `sim:double is answered by ${server} over several paths`,
    ),
  ];
  for (let i = 0; i < extra; i++)
    rows.push(
      group(
        'multi-path',
        `sim:many:${i}`,
        'info',
        started,
        started + i / 1000,
        1,
        `sim:many:${i} is answered by ${server} over several paths`,
      ),
    );
  const rank = { error: 0, warn: 1, info: 2 };
  return rows.sort(
    (a, b) =>
      rank[a.severity] - rank[b.severity] ||
      Number(a.acknowledged !== null) - Number(b.acknowledged !== null) ||
      b.lastSeen - a.lastSeen,
  );
}

/** The alert totals of a snapshot for the groups `alerts`. */
export function fakeAlertTotals(alerts: SnapshotMessage['alerts']): SnapshotMessage['alertTotals'] {
  const totals: SnapshotMessage['alertTotals'] = {
    groups: { error: 0, warn: 0, info: 0 },
    open: { error: 0, warn: 0, info: 0 },
    forgotten: 0,
  };
  for (const a of alerts) {
    totals.groups[a.severity] += 1;
    if (a.acknowledged === null) totals.open[a.severity] += 1;
  }
  return totals;
}

/** The `search_storms` section of `/api/report` for the traffic above. */
export function fakeStorms(now: number, started: number, searches: number, missing: number): SearchStormRow[] {
  const span = Math.max(1, now - started);
  const row = (pv: string, count: number, answered: boolean, flagged: boolean): SearchStormRow => ({
    pv,
    count,
    rate: count / span,
    first_seen: started,
    last_seen: now,
    answered,
    answers: answered ? count : 0,
    unanswered_ratio: answered ? 0 : 1,
    retries: Math.min(count, 100),
    oldest_unanswered_age: answered ? null : span,
    clients: [`${CLIENT}:${CLIENT_PORT}`],
    flagged,
    reasons: flagged ? [`searched ${(count / span).toFixed(2)}/s (threshold 1/s)`] : [],
  });
  return [
    row('sim:missing', missing, false, missing >= 10 && missing / span >= 1),
    row('sim:double', searches - missing, true, false),
  ];
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = normalize(join(root, path === '/' ? 'index.html' : path));
  if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
}

interface Conn {
  ws: WebSocket;
  predicate: RecordPredicate;
  paused: boolean;
  /** Fraction of a record of sending budget carried to the next frame. */
  budget: number;
  /** Smoothed per-second rates of the records matched and sent. */
  rate: { matched: number; sent: number };
}

/** Bytes unsent to a page above which its next snapshot is skipped. */
const SNAPSHOT_BACKLOG = 1024 * 1024;

/** Time constant of the smoothed rates in `records` frames (the daemon smooths over ~1-2 s). */
const RATE_TAU_S = 1;

/**
 * Indexes of `count` items of `[0, matched)` spread evenly, ascending, the last one always included: the
 * sample a page gets when it cannot take everything.
 */
export function sampleIndexes(matched: number, count: number): number[] {
  if (count >= matched) return Array.from({ length: matched }, (_, i) => i);
  const out = new Array<number>(count);
  for (let j = 0; j < count; j++) out[count - 1 - j] = matched - 1 - Math.floor((j * matched) / count);
  return out;
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  return q === token || req.headers.authorization === `Bearer ${token}`;
}

/** Starts the fake daemon on 127.0.0.1 and an ephemeral port. */
export async function startFakeDaemon(opts: FakeDaemonOptions): Promise<FakeDaemon> {
  const root = resolve(opts.distDir);
  const rate = opts.rate ?? 200;
  const tickMs = opts.tickMs ?? 100;
  const maxBuffered = opts.maxBuffered ?? 8 * 1024 * 1024;
  const format = opts.format ?? 'compact';
  const maxPerSecond = opts.maxPerSecond ?? 20_000;
  const held = opts.held ?? 100_000;
  let tableRows = opts.tableRows ?? 0;
  const token = opts.token;
  const stages = opts.stagesMs;
  /** How long before its frame is sent the newest record of a tick was captured (s). */
  const stagesS = stages === undefined ? 0 : (stages.capture + stages.decoder + stages.main + stages.hub) / 1000;
  const started = Date.now() / 1000;
  const gen = new TrafficGenerator();
  let messages = 0;
  let sent = 0;
  let dropped = 0;
  let unsent = 0;
  const subscriptions: SubscribeFilter[] = [];
  const reportRequests: string[][] = [];
  const recordRequests: number[] = [];
  const ackRequests: string[] = [];
  /** Acknowledged alert keys and when: held like the daemon does, for every page. */
  const acked = new Map<string, number>();
  const conns = new Set<Conn>();

  // The traffic repeats a pool of records serialised once, so the fixture can offer tens of thousands of
  // messages per second from one core; each copy gets a fresh id, frame number and timestamp.
  const POOL_SIZE = 4000;
  const pool = Array.from({ length: POOL_SIZE }, () => {
    const r = gen.next(started);
    const { frame: _frame, timestamp: _timestamp, ...rest } = r;
    const { id: _id, frame: _f, t: _t, ...live } = liveRecordOf(r, 0);
    return { record: r, tail: JSON.stringify(rest).slice(1), liveTail: JSON.stringify(live).slice(1) };
  });
  /** Capture time of record `id` (= its frame number) at `times[id % held]`, while it is held. */
  const times = new Float64Array(held);
  let frameNo = 0;
  let holding = held;
  let stalled = false;

  /** The full record `id` while the ring holds it. */
  function heldRecord(id: number): RecordJSON | null {
    if (!Number.isInteger(id) || id < 1 || id > frameNo || id <= frameNo - holding) return null;
    return { ...pool[(id - 1) % POOL_SIZE].record, frame: id, timestamp: times[id % held] };
  }

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/api/') && !authorised(req, token)) {
      res.writeHead(401).end('missing or wrong token\n');
      return;
    }
    if (url.startsWith('/api/health')) {
      json(res, 200, {
        status: 'ok',
        uptime: Date.now() / 1000 - started,
        source: { kind: 'demo', iface: 'lo', linktype: 1 },
        eof: false,
      });
      return;
    }
    const recordMatch = /^\/api\/record\/(\d+)(?:\?|$)/.exec(url);
    if (recordMatch && format === 'compact') {
      const id = Number(recordMatch[1]);
      recordRequests.push(id);
      const r = heldRecord(id);
      if (r) json(res, 200, r);
      else json(res, 404, { error: `record ${id} is no longer held` });
      return;
    }
    if (url.startsWith('/api/alerts/ack') && req.method === 'POST') {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        const key = (JSON.parse(text) as { key?: unknown }).key;
        const known = new Set(fakeAlerts(0, 0, 0).map((a) => a.key));
        if (typeof key !== 'string' || !known.has(key)) {
          json(res, 404, { error: `no alert ${JSON.stringify(key)} is held` });
          return;
        }
        ackRequests.push(key);
        acked.set(key, Date.now() / 1000);
        json(res, 200, { acknowledged: key });
      });
      return;
    }
    if (url.startsWith('/api/report')) {
      const sections = new URL(url, 'http://x').searchParams.get('section')?.split(',') ?? [];
      reportRequests.push(sections);
      const now = Date.now() / 1000;
      const searches = Math.floor(messages / 10);
      const body =
        sections.length === 0 || sections.includes('search_storms')
          ? { search_storms: fakeStorms(now, started, searches, Math.floor(messages / 20)) }
          : {};
      json(res, 200, body);
      return;
    }
    serveStatic(root, req, res);
  });
  const wss = new WebSocketServer({
    server,
    path: '/ws',
    verifyClient: (info: { req: IncomingMessage }) => authorised(info.req, token),
  });
  wss.on('connection', (ws) => {
    const conn: Conn = { ws, predicate: () => true, paused: false, budget: 0, rate: { matched: 0, sent: 0 } };
    conns.add(conn);
    ws.send(
      JSON.stringify({
        type: 'hello',
        version: '0.0.0-fake',
        source: { kind: 'demo', iface: 'lo', linktype: 1, filter: 'udp port 5064 or udp port 5065 or tcp' },
      }),
    );
    ws.on('message', (data) => {
      let msg: { type?: string; filter?: SubscribeFilter };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'subscribe') {
        const filter = msg.filter ?? {};
        subscriptions.push(filter);
        conn.predicate = compileFilter(filter);
        ws.send(JSON.stringify({ type: 'subscribed', filter }));
      } else if (msg.type === 'pause') conn.paused = true;
      else if (msg.type === 'resume') conn.paused = false;
    });
    ws.on('close', () => conns.delete(conn));
  });

  /** The compact frame of the records `ids` (ascending) for `c`, out of `matched` that matched. */
  function compactFrame(c: Conn, t: number, matched: number, ids: number[]): string {
    const dt = tickMs / 1000;
    const k = 1 - Math.exp(-dt / RATE_TAU_S);
    c.rate.matched += (matched / dt - c.rate.matched) * k;
    c.rate.sent += (ids.length / dt - c.rate.sent) * k;
    const parts = ids.map(
      (id) => `{"id":${id},"frame":${id},"t":${times[id % held]},${pool[(id - 1) % POOL_SIZE].liveTail}`,
    );
    return (
      `{"type":"records","time":${t},"matched":${matched},"sent":${ids.length},` +
      `"rate":{"matched":${c.rate.matched},"sent":${c.rate.sent}},"sampling":${ids.length < matched},` +
      `${stageTimes(t)}"records":[${parts.join(',')}]}`
    );
  }

  /** The frame's stage times (RecordsFrameTimes) for a frame sent at `t` (Unix s), counted back from it. */
  function stageTimes(t: number): string {
    if (stages === undefined) return '';
    const publishedAt = t - stages.hub / 1000;
    const decodedAt = publishedAt - stages.main / 1000;
    const postedAt = decodedAt - stages.decoder / 1000;
    const json: Required<Pick<RecordsMessage, 'postedAt' | 'decodedAt' | 'publishedAt'>> = {
      postedAt,
      decodedAt,
      publishedAt,
    };
    return JSON.stringify(json).slice(1, -1) + ',';
  }

  let carry = 0;
  const tick = setInterval(() => {
    const t = Date.now() / 1000;
    carry += (rate * tickMs) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    const first = frameNo;
    frameNo += n;
    messages += n;
    if (stages === undefined)
      for (let i = 0; i < n; i++) times[(first + i + 1) % held] = t - ((n - i) * tickMs) / 1000 / Math.max(1, n);
    // With stage times the newest record was captured exactly their sum before the frame is sent.
    else for (let i = 0; i < n; i++) times[(first + i + 1) % held] = t - stagesS - ((n - 1 - i) * tickMs) / 1000 / n;
    for (const c of conns) {
      if (stalled || c.paused || c.ws.readyState !== c.ws.OPEN) continue;
      const ids: number[] = [];
      for (let i = 0; i < n; i++) if (c.predicate(pool[(first + i) % POOL_SIZE].record)) ids.push(first + i + 1);
      if (format === 'full') {
        if (ids.length === 0) continue;
        if (c.ws.bufferedAmount > maxBuffered) {
          dropped += ids.length;
          c.ws.send(JSON.stringify({ type: 'dropped', count: ids.length }));
          continue;
        }
        sent += ids.length;
        const parts = ids.map(
          (id) => `{"frame":${id},"timestamp":${times[id % held]},${pool[(id - 1) % POOL_SIZE].tail}`,
        );
        c.ws.send(`{"type":"records","records":[${parts.join(',')}]}`);
        continue;
      }
      // The daemon sends every matched record while the page keeps up and an even sample (newest
      // included) above its budget, with the counts that let the page say what it is not shown.
      c.budget = Math.min(c.budget + (maxPerSecond * tickMs) / 1000, 2 * ((maxPerSecond * tickMs) / 1000));
      const take = Math.min(ids.length, Math.floor(c.budget));
      c.budget -= take;
      const chosen = sampleIndexes(ids.length, take).map((j) => ids[j]);
      if (c.ws.bufferedAmount > maxBuffered) {
        dropped += chosen.length;
        unsent += ids.length - chosen.length;
        c.ws.send(JSON.stringify({ type: 'dropped', count: chosen.length }));
        continue;
      }
      sent += chosen.length;
      unsent += ids.length - chosen.length;
      c.ws.send(compactFrame(c, t, ids.length, chosen));
    }
  }, tickMs);
  const snap = setInterval(() => {
    const snapshot = fakeSnapshot(
      Date.now() / 1000,
      started,
      messages,
      rate,
      dropped,
      conns.size,
      tableRows,
      acked,
      opts.alertRows,
    );
    if (opts.stats !== undefined) Object.assign(snapshot.stats, opts.stats);
    const s = JSON.stringify(snapshot);
    // As the daemon: a page still draining keeps only the newest snapshot (here: gets none this time).
    for (const c of conns) if (c.ws.readyState === c.ws.OPEN && c.ws.bufferedAmount < SNAPSHOT_BACKLOG) c.ws.send(s);
  }, 1000);

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    subscriptions,
    reportRequests,
    recordRequests,
    ackRequests,
    sent: () => sent,
    dropped: () => dropped,
    unsent: () => unsent,
    kickClients: () => {
      for (const c of conns) c.ws.terminate();
    },
    stall: (on) => {
      stalled = on;
    },
    holdOnly: (n) => {
      holding = Math.min(held, n);
    },
    setTableRows: (n) => {
      tableRows = n;
    },
    close: async () => {
      clearInterval(tick);
      clearInterval(snap);
      for (const c of conns) c.ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
