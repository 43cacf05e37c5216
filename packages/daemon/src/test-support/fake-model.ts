import { SectionError } from '@ca-shark/analysis';
import type { DaemonModel, TableName } from '../model.js';
import { cutReport } from '../report-cut.js';
import {
  type ChannelView,
  type ClientView,
  type SearchView,
  type ServerView,
  type StatsView,
  emptySnapshot,
} from '../views.js';

/** The full record the fake model holds under id 1. */
export const FAKE_RECORD =
  '{"id":1,"frame":3,"timestamp":1.5,"src":"127.0.0.1","dst":"127.0.0.1","command":{"name":"ReadNotifyResponse",' +
  '"data":[1.5]},"pv":"sim:double","size":24,"raw":"000f0008"}';

/** A model with fixed content, for tests of the HTTP and WebSocket layers. */
export function fakeModel(): DaemonModel {
  const stats = (): StatsView => ({
    packets: 10,
    bytes: 1000,
    messages: 7,
    messagesPerSecond: 1.5,
    perCommand: { SearchRequest: 4, SearchResponse: 3 },
    malformed: 0,
    decoderDropped: 0,
    skippedFlows: { flows: 0, bytes: 0 },
    capture: { received: 11, dropped: 1, ifDropped: 0 },
    websocket: { clients: 0, dropped: 0 },
  });
  const source = () => ({ kind: 'file' as const, file: 'x.pcap', speed: 'max' as const });
  const tables: {
    channels: ChannelView[];
    servers: ServerView[];
    clients: ClientView[];
    searches: SearchView[];
  } = {
    channels: [
      {
        pv: 'sim:double',
        client: '127.0.0.1:40000',
        server: '127.0.0.1:5064',
        circuit: 1,
        cid: 1,
        sid: 2,
        state: 'connected',
        closedAt: null,
        nativeType: 'DOUBLE',
        count: 1,
        access: 'rw',
        subscriptions: 1,
        updates: 3,
        updateRate: 10,
        lastValue: [1.5],
        display: { precision: 2, units: 'mm' },
        searchLatency: 0.001,
        timeToFind: 0.001,
        connectLatency: 0.002,
        firstSeen: 1,
        lastSeen: 2,
      },
    ],
    servers: [
      {
        address: '127.0.0.1:5064',
        circuits: 1,
        channels: 1,
        beacons: 2,
        beaconPeriod: 15,
        lastBeacon: 3,
        lastBeaconId: 7,
        latency: { read: { count: 1, mean: 0.001, min: 0.001, p50: 0.001, p90: 0.001, p99: 0.001, max: 0.001 } },
      },
    ],
    clients: [
      {
        process: 'udp 127.0.0.1:40001',
        host: '127.0.0.1',
        hostname: 'h',
        user: 'u',
        searchPort: 40001,
        circuitEndpoints: ['127.0.0.1:40000'],
        circuits: 1,
        channels: 1,
        searches: 4,
        searchRate: 2,
        timeToFind: null,
      },
    ],
    searches: [
      {
        pv: 'sim:double',
        count: 4,
        clients: 1,
        answered: true,
        servers: ['127.0.0.1:5064'],
        timeToFind: { count: 1, mean: 0.001, min: 0.001, p50: 0.001, p90: 0.001, p99: 0.001, max: 0.001 },
        firstSeen: 1,
        lastSeen: 2,
      },
    ],
  };
  const time = 1;
  return {
    source,
    health: () => ({ status: 'ok', uptime: 2, source: source(), eof: true }),
    stats,
    tableText: (name: TableName) => ({ text: JSON.stringify(tables[name]), time }),
    snapshotText: () => JSON.stringify(emptySnapshot(time, stats())),
    // Holds only record 1, as the decoding worker's ring would give it.
    record: (id) => (id === 1 ? FAKE_RECORD : undefined),
    reportText: (sections, options) => {
      if (sections?.includes('bogus') === true) throw new SectionError("unknown report section 'bogus'");
      const never_found = Array.from({ length: 150 }, (_, i) => ({ pv: `x:missing${i}` }));
      const report = { summary: { first_seen: 1, last_seen: 2, records: 7 }, never_found };
      return { text: JSON.stringify(cutReport(report as never, options.limit, time)), time };
    },
  };
}
