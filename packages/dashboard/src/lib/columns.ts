/**
 * Columns of the big snapshot tables (Channels, Clients, top searches, errors): what each cell shows and
 * what it sorts by. The page renders with them; the data worker sorts and filters with them, so a table
 * of 10,000 rows is ordered off the main thread and the page draws only the rows on screen.
 */
import type { ChannelRow, ClientRow, ErrorRow, SnapshotMessage, SubscribeFilter, TopSearch } from './contract.js';
import { formatClock, formatCount, formatLastValue, formatLatency, formatRate } from './dbr.js';
import { compileRowFilter } from './filter.js';
import type { Column } from './table.js';

const STATE_CLASS: Record<string, string> = {
  connected: 'ok',
  creating: 'warn',
  clearing: 'muted',
  failed: 'error',
  disconnected: 'error',
  closed: 'muted',
};

/** Channels: one row per client circuit and CID. */
export const channelColumns: Column<ChannelRow>[] = [
  { key: 'sensor', width: 90, label: 'Sensor', centralOnly: true, text: (c) => c.sensor ?? '' },
  { key: 'pv', width: 220, label: 'PV', mono: true, chart: 'pv', text: (c) => c.pv },
  { key: 'client', width: 140, label: 'Client', mono: true, text: (c) => c.client ?? '' },
  { key: 'server', width: 140, label: 'Server', mono: true, chart: 'ioc', text: (c) => c.server ?? '' },
  {
    key: 'state',
    width: 90,
    label: 'State',
    text: (c) => (c.closedAt === null ? c.state : `${c.state} ${formatClock(c.closedAt)}`),
    sortValue: (c) => c.closedAt ?? Number.POSITIVE_INFINITY,
    cellClass: (c) => STATE_CLASS[c.state] ?? '',
    cellTitle: (c) => `circuit ${c.circuit ?? '?'}, CID ${c.cid ?? '?'}, SID ${c.sid ?? '?'}`,
  },
  {
    key: 'type',
    width: 80,
    label: 'Type',
    mono: true,
    text: (c) => (c.nativeType ? `${c.nativeType}${c.count !== null && c.count !== 1 ? `[${c.count}]` : ''}` : ''),
  },
  { key: 'access', width: 60, label: 'Access', mono: true, text: (c) => c.access ?? '' },
  {
    key: 'subs',
    width: 50,
    label: 'Subs',
    numeric: true,
    sortValue: (c) => c.subscriptions,
    text: (c) => String(c.subscriptions ?? ''),
  },
  {
    key: 'rate',
    width: 80,
    label: 'Updates/s',
    numeric: true,
    sortValue: (c) => c.updateRate,
    text: (c) => (c.updateRate === null ? '' : formatRate(c.updateRate)),
    title: 'Monitor updates per second',
  },
  {
    key: 'value',
    width: 190,
    label: 'Last value',
    mono: true,
    text: (c) => formatLastValue(c.lastValue, 6, c.count, c.display, c.nativeType),
  },
  {
    key: 'search',
    width: 70,
    label: 'Search',
    numeric: true,
    sortValue: (c) => c.searchLatency,
    text: (c) => formatLatency(c.searchLatency),
    title: "The server's reply time to the search that found this channel",
  },
  {
    key: 'find',
    width: 95,
    label: 'Time to find',
    numeric: true,
    sortValue: (c) => c.timeToFind,
    text: (c) => formatLatency(c.timeToFind),
    title: "This client's wait for the name: first search → reply, retries included",
  },
  {
    key: 'connect',
    width: 75,
    label: 'Connect',
    numeric: true,
    sortValue: (c) => c.connectLatency,
    text: (c) => formatLatency(c.connectLatency),
    title: 'Create channel → reply latency',
  },
];

/** Clients: one row per process. */
export const clientColumns: Column<ClientRow>[] = [
  { key: 'sensor', width: 90, label: 'Sensor', centralOnly: true, text: (c) => c.sensor ?? '' },
  { key: 'host', width: 150, label: 'Host', mono: true, text: (c) => c.host },
  { key: 'hostname', width: 140, label: 'Host name', mono: true, text: (c) => c.hostname ?? '' },
  { key: 'user', width: 90, label: 'User', mono: true, text: (c) => c.user ?? '' },
  {
    key: 'port',
    width: 110,
    label: 'Search port',
    mono: true,
    numeric: true,
    sortValue: (c) => c.searchPort,
    text: (c) => (c.searchPort === null ? '' : `udp ${c.searchPort}`),
    title: 'The UDP port the process searches from (a process without captured searches is one circuit)',
  },
  {
    key: 'circuits',
    width: 80,
    label: 'Circuits',
    numeric: true,
    sortValue: (c) => c.circuits,
    text: (c) => formatCount(c.circuits),
    cellTitle: (c) => c.circuitEndpoints.join('\n'),
  },
  {
    key: 'channels',
    width: 80,
    label: 'Channels',
    numeric: true,
    sortValue: (c) => c.channels,
    text: (c) => formatCount(c.channels),
  },
  {
    key: 'searches',
    width: 90,
    label: 'Searches',
    numeric: true,
    sortValue: (c) => c.searches,
    text: (c) => formatCount(c.searches),
  },
  {
    key: 'rate',
    width: 100,
    label: 'Searches/s',
    numeric: true,
    sortValue: (c) => c.searchRate,
    text: (c) => formatRate(c.searchRate),
  },
  {
    key: 'find',
    width: 120,
    label: 'Time to find p50',
    numeric: true,
    sortValue: (c) => c.timeToFind?.p50 ?? null,
    text: (c) => formatLatency(c.timeToFind?.p50 ?? null),
    cellTitle: (c) =>
      c.timeToFind === null
        ? ''
        : `first search → reply over ${c.timeToFind.count} names: p50 ${formatLatency(c.timeToFind.p50)}, p90 ${formatLatency(c.timeToFind.p90)}, max ${formatLatency(c.timeToFind.max)}`,
    title: "This process's wait for names: first search → reply, retries included",
  },
];

/** Top searched PVs. */
export const topSearchColumns: Column<TopSearch>[] = [
  { key: 'pv', width: 240, label: 'PV', mono: true, chart: 'pv', text: (s) => s.pv },
  {
    key: 'count',
    width: 90,
    label: 'Searches',
    numeric: true,
    sortValue: (s) => s.count,
    text: (s) => formatCount(s.count),
  },
  {
    key: 'clients',
    width: 80,
    label: 'Clients',
    numeric: true,
    sortValue: (s) => s.clients,
    text: (s) => String(s.clients ?? ''),
  },
  {
    key: 'answered',
    width: 90,
    label: 'Answered',
    text: (s) => (s.answered ? 'yes' : 'no'),
    cellClass: (s) => (s.answered ? 'ok' : 'error'),
  },
  { key: 'servers', width: 240, label: 'Answered by', mono: true, text: (s) => (s.servers ?? []).join(', ') },
  {
    key: 'find',
    width: 130,
    label: 'Time to find p50',
    numeric: true,
    sortValue: (s) => s.timeToFind?.p50 ?? null,
    text: (s) => formatLatency(s.timeToFind?.p50 ?? null),
    cellTitle: (s) =>
      s.timeToFind === null
        ? ''
        : `clients' wait, first search → reply (${s.timeToFind.count} clients): p50 ${formatLatency(s.timeToFind.p50)}, max ${formatLatency(s.timeToFind.max)}`,
    title:
      "Clients' wait for the name: first search → first reply, retries included (the server's reply time is on Servers)",
  },
];

/** Failures grouped by PV, message and status. */
export interface ErrorGroupRow {
  pv: string;
  command: string;
  detail: string;
  count: number;
  last: number;
  servers: string;
}

/** Groups error messages by PV, message and status/reason. */
export function groupErrors(errors: readonly ErrorRow[]): ErrorGroupRow[] {
  const groups = new Map<string, Omit<ErrorGroupRow, 'servers'> & { servers: Set<string> }>();
  for (const e of errors) {
    const key = `${e.pv ?? ''}\u0000${e.command}\u0000${e.detail}`;
    let g = groups.get(key);
    if (!g) {
      g = { pv: e.pv ?? '', command: e.command, detail: e.detail, count: 0, last: 0, servers: new Set() };
      groups.set(key, g);
    }
    g.count++;
    g.last = Math.max(g.last, e.time);
    g.servers.add(e.src);
  }
  return [...groups.values()].map((g) => ({ ...g, servers: [...g.servers].join(', ') }));
}

/** Errors by PV. */
export const errorGroupColumns: Column<ErrorGroupRow>[] = [
  { key: 'pv', width: 220, label: 'PV', mono: true, chart: 'pv', text: (g) => g.pv },
  { key: 'command', width: 150, label: 'Message', text: (g) => g.command, cellClass: () => 'error' },
  { key: 'detail', width: 220, label: 'Status / reason', mono: true, text: (g) => g.detail },
  {
    key: 'count',
    width: 70,
    label: 'Count',
    numeric: true,
    sortValue: (g) => g.count,
    text: (g) => formatCount(g.count),
  },
  { key: 'last', width: 100, label: 'Last', mono: true, sortValue: (g) => g.last, text: (g) => formatClock(g.last) },
  { key: 'servers', width: 220, label: 'From', mono: true, text: (g) => g.servers },
];

/** The latest error messages. */
export const errorColumns: Column<ErrorRow>[] = [
  { key: 'time', width: 100, label: 'Time', mono: true, sortValue: (e) => e.time, text: (e) => formatClock(e.time) },
  { key: 'sensor', width: 90, label: 'Sensor', centralOnly: true, text: (e) => e.sensor ?? '' },
  { key: 'command', width: 150, label: 'Message', text: (e) => e.command, cellClass: () => 'error' },
  { key: 'pv', width: 220, label: 'PV', mono: true, chart: 'pv', text: (e) => e.pv ?? '' },
  { key: 'detail', width: 220, label: 'Status / reason', mono: true, text: (e) => e.detail },
  { key: 'route', width: 300, label: 'From → To', mono: true, text: (e) => `${e.src} → ${e.dst}` },
];

/** The rows of each big table. */
export interface TableRows {
  channels: ChannelRow;
  clients: ClientRow;
  searches: TopSearch;
  errors: ErrorRow;
  errorGroups: ErrorGroupRow;
}

/** A big table the worker keeps sorted and filtered. */
export type TableId = keyof TableRows;

/** Each table's columns. */
export const TABLE_COLUMNS: { [K in TableId]: Column<TableRows[K]>[] } = {
  channels: channelColumns,
  clients: clientColumns,
  searches: topSearchColumns,
  errors: errorColumns,
  errorGroups: errorGroupColumns,
};

/**
 * The rows of table `id` in `snap` that the filter lets through (unsorted). PV and host parts apply
 * where a table has them; commands and errors do not apply to state tables.
 */
export function tableRows<K extends TableId>(id: K, snap: SnapshotMessage, f: SubscribeFilter): TableRows[K][] {
  const rows = ((): unknown[] => {
    switch (id) {
      case 'channels': {
        const match = compileRowFilter(f);
        return (snap.channels ?? []).filter((c) => match(c.pv, [c.client, c.server]));
      }
      case 'clients': {
        const match = compileRowFilter({ host: f.host });
        return (snap.clients ?? []).filter((c) => match(null, [c.host, ...c.circuitEndpoints]));
      }
      case 'searches': {
        const match = compileRowFilter({ pv: f.pv });
        return (snap.searches?.top ?? []).filter((x) => match(x.pv, []));
      }
      case 'errors':
      case 'errorGroups': {
        const match = compileRowFilter({ pv: f.pv, host: f.host });
        const errors = (snap.errors ?? []).filter((e) => match(e.pv, [e.src, e.dst]));
        return id === 'errors' ? errors : groupErrors(errors);
      }
      default:
        return [];
    }
  })();
  return rows as TableRows[K][];
}
