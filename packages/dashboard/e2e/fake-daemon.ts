/**
 * TEST FIXTURE, not product code: a stand-in for `ca-sharkd` that speaks the dashboard's WebSocket and
 * HTTP contract (hello, batched records, snapshots, dropped notices, subscriptions) with synthetic CA
 * traffic, and serves the built page. It lets the browser tests and the render bench run without
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
  SearchStormRow,
  SnapshotAnalysis,
  SnapshotMessage,
  SubscribeFilter,
} from '../src/lib/contract.js';
import { compileFilter, type RecordPredicate } from '../src/lib/filter.js';

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
  /** Closes every WebSocket (the page should reconnect). */
  kickClients(): void;
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

function base(t: number, frame: number, udp: boolean, fromServer: boolean): Omit<RecordJSON, 'command' | 'pv'> {
  const src = fromServer ? SERVER : CLIENT;
  const dst = fromServer ? CLIENT : udp ? '127.255.255.255' : SERVER;
  const sport = fromServer ? (udp ? 5064 : SERVER_PORT) : CLIENT_PORT;
  const dport = fromServer ? CLIENT_PORT : udp ? 5064 : SERVER_PORT;
  return {
    frame,
    timestamp: t,
    src,
    dst,
    transport: { protocol: udp ? 'udp' : 'tcp', sport, dport },
    role: fromServer ? 'response' : 'request',
    role_certainty: 'certain',
    server: `${SERVER}:${SERVER_PORT}`,
    client: `${CLIENT}:${CLIENT_PORT}`,
  };
}

/** A record whose command is the decoder's own shape (a drifted field name does not compile). */
type FakeRecord = Omit<RecordJSON, 'command'> & { command: CaCommandJSON };

/** Deterministic synthetic traffic: a mix of searches, a search storm for a missing PV, monitors, reads, writes. */
export class TrafficGenerator {
  private frame = 0;
  private counter = 0;

  /** The record number `n` of the cycle, stamped at time `t` (Unix seconds). */
  next(t: number): FakeRecord {
    const n = this.frame++;
    const f = n + 1;
    switch (n % 10) {
      case 0: {
        const pv = n % 20 === 0 ? 'sim:missing' : 'sim:double';
        return {
          ...base(t, f, true, false),
          pv,
          command: { name: 'SearchRequest', id: 6, pv, cid: n % 1000, reply: 5, version: 13 },
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
          },
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
          },
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
          },
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
          },
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
          },
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
          },
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
          },
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
    searchLatency: 0.0005,
    timeToFind: 0.0005,
    connectLatency: 0.0012,
    firstSeen: started,
    lastSeen: now,
    ...extra,
  });
  const timeToFind = { count: 2, mean: 0.0505, min: 0.0005, p50: 0.0505, p90: 0.0905, p99: 0.0995, max: 0.1005 };
  return {
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
      channel('sim:double', 'DOUBLE', [3.14]),
      channel('sim:counter', 'LONG', [42]),
      channel(
        'sim:enum',
        'ENUM',
        { data: [1], metadata: { enumStrings: ['Off', 'On', 'Fault'] } },
        { subscriptions: 0, updates: 0, updateRate: null },
      ),
      channel('sim:long', 'LONG', [7], { subscriptions: 0, updateRate: null }),
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
    alerts: fakeAlerts(now, started, missing),
    analysis: fakeAnalysis(now, started, missing),
  };
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
export function fakeAlerts(now: number, started: number, missing: number): SnapshotMessage['alerts'] {
  const server = `${SERVER}:${SERVER_PORT}`;
  return [
    {
      time: started,
      kind: 'multi-path',
      severity: 'info',
      message: `sim:double is answered by ${server} (multi-path)`,
    },
    {
      time: started + 0.001,
      kind: 'duplicate-pv',
      severity: 'error',
      message: `sim:dup is answered by ${server}, ${OTHER_SERVER} (duplicate)`,
    },
    {
      time: started + 1,
      kind: 'beacon-restart',
      severity: 'warn',
      message: `${server}: beacon id went back from 41 to 0`,
    },
    {
      time: now,
      kind: 'search-storm',
      severity: 'warn',
      message: `sim:missing: ${missing} searches, never answered; rate ≥ 1/s`,
    },
  ];
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
}

/** Starts the fake daemon on 127.0.0.1 and an ephemeral port. */
export async function startFakeDaemon(opts: FakeDaemonOptions): Promise<FakeDaemon> {
  const root = resolve(opts.distDir);
  const rate = opts.rate ?? 200;
  const tickMs = opts.tickMs ?? 100;
  const maxBuffered = opts.maxBuffered ?? 8 * 1024 * 1024;
  const started = Date.now() / 1000;
  const gen = new TrafficGenerator();
  let messages = 0;
  let sent = 0;
  let dropped = 0;
  const subscriptions: SubscribeFilter[] = [];
  const reportRequests: string[][] = [];
  const conns = new Set<Conn>();

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/api/health')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'ok',
          uptime: Date.now() / 1000 - started,
          source: { kind: 'demo', iface: 'lo', linktype: 1 },
          eof: false,
        }),
      );
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
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    serveStatic(root, req, res);
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    const conn: Conn = { ws, predicate: () => true, paused: false };
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
      } else if (msg.type === 'pause') conn.paused = true;
      else if (msg.type === 'resume') conn.paused = false;
    });
    ws.on('close', () => conns.delete(conn));
  });

  // The traffic repeats a pool of records serialised once, so the fixture can offer tens of thousands of
  // messages per second from one core; each copy gets a fresh frame number and timestamp.
  const POOL_SIZE = 4000;
  const pool = Array.from({ length: POOL_SIZE }, () => {
    const r = gen.next(started);
    const { frame: _frame, timestamp: _timestamp, ...rest } = r;
    return { record: r, tail: JSON.stringify(rest).slice(1) };
  });
  let frameNo = 0;
  let carry = 0;
  const tick = setInterval(() => {
    const t = Date.now() / 1000;
    carry += (rate * tickMs) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    const first = frameNo;
    frameNo += n;
    messages += n;
    for (const c of conns) {
      if (c.paused || c.ws.readyState !== c.ws.OPEN) continue;
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        const p = pool[(first + i) % POOL_SIZE];
        if (!c.predicate(p.record)) continue;
        const ts = t - ((n - i) * tickMs) / 1000 / Math.max(1, n);
        parts.push(`{"frame":${first + i + 1},"timestamp":${ts},${p.tail}`);
      }
      if (parts.length === 0) continue;
      if (c.ws.bufferedAmount > maxBuffered) {
        dropped += parts.length;
        c.ws.send(JSON.stringify({ type: 'dropped', count: parts.length }));
        continue;
      }
      sent += parts.length;
      c.ws.send(`{"type":"records","records":[${parts.join(',')}]}`);
    }
  }, tickMs);
  const snap = setInterval(() => {
    const s = JSON.stringify(fakeSnapshot(Date.now() / 1000, started, messages, rate, dropped, conns.size));
    for (const c of conns) if (c.ws.readyState === c.ws.OPEN) c.ws.send(s);
  }, 1000);

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    subscriptions,
    reportRequests,
    sent: () => sent,
    dropped: () => dropped,
    kickClients: () => {
      for (const c of conns) c.ws.terminate();
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
