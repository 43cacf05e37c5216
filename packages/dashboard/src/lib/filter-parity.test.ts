/**
 * The daemon and the page must agree on every filter (issue 14: they used to disagree on `{a,b}` globs
 * and on the beacon, disconnect, connect and error families). One table of records goes through the
 * daemon's subscription path (parseSubscription → canonicalSubscription → Hub → the decoding worker's
 * BatchSampler on the decoded record → Hub delivery of the live records that cross from the worker) and through
 * the page's (filter-bar text → splitTerms → LiveClient, on the records' JSON form).
 */
import {
  BatchSampler,
  canonicalSubscription,
  Hub,
  parseSubscription,
  toWire,
  type HubSocket,
  type SubscriptionFilter,
  type WireRecord,
} from '@ca-shark/daemon';
import { recordToJSON } from '@ca-shark/analysis';
import { describe, expect, it } from 'vitest';
import type { RecordJSON, SubscribeFilter } from './contract.js';
import { splitTerms } from './filter.js';
import { LiveClient } from './live-client.js';
import { FakeSocket, ManualTimers } from './test-support/fakes.js';

type DecodedRecord = Parameters<typeof toWire>[0];

/** A decoded record as the decoder hands it to the daemon (the fields filters and JSON read). */
function decoded(
  frame: number,
  name: string,
  pv: string | null,
  fields: Record<string, unknown> = {},
  src = '10.0.0.5',
  dst = '10.0.0.9',
): DecodedRecord {
  const transport = { protocol: 'udp', sport: 5064, dport: 5064 };
  return {
    frame,
    timestamp: 1000 + frame,
    src,
    dst,
    transport,
    pv,
    command: { name, ...fields },
  } as unknown as DecodedRecord;
}

const RECORDS: DecodedRecord[] = [
  decoded(1, 'SearchRequest', 'sim:ai1'),
  decoded(2, 'SearchResponse', 'sim:bi1', {}, '10.0.0.9', '10.0.0.5'),
  decoded(3, 'NotFoundResponse', 'sim:xx1'),
  decoded(4, 'RsrvIsUpResponse', null, {}, '10.0.1.7', '10.0.1.255'),
  decoded(5, 'Beacon', null, {}, '10.0.1.7', '10.0.1.255'),
  decoded(6, 'RepeaterRegisterRequest', null, {}, '127.0.0.1', '127.0.0.1'),
  decoded(7, 'VersionRequest', null),
  decoded(8, 'HostNameRequest', null),
  decoded(9, 'CreateChanRequest', 'sim:ai1'),
  decoded(10, 'CreateChanResponse', 'sim:ai1'),
  decoded(11, 'CreateChFailResponse', 'sim:ci1'),
  decoded(12, 'ClearChannelRequest', 'sim:ai1'),
  decoded(13, 'ClearChannelResponse', 'sim:ai1'),
  decoded(14, 'ServerDisconnResponse', 'sim:bi1'),
  decoded(15, 'ReadNotifyResponse', 'sim:bi1', { status: 1 }),
  decoded(16, 'ReadNotifyResponse', 'sim:bi1', { status: 160 }),
  decoded(17, 'EventAddResponse', 'sim:ai10', { status: 1 }),
  decoded(18, 'WriteNotifyResponse', 'sim:{ai,bi}1', { status: 1 }),
  decoded(19, 'ErrorResponse', 'sim:ai1', { status_code: 114 }),
  decoded(20, 'Malformed', null, {}, '192.168.1.2', '10.0.0.9'),
  decoded(21, 'EchoRequest', null),
];

/** What a user types in the filter bar (the page's form of a filter). */
interface BarText {
  pv?: string;
  host?: string;
  command?: string;
  errors?: boolean;
}

function barToFilter(bar: BarText): SubscribeFilter {
  return {
    pv: splitTerms(bar.pv ?? ''),
    host: splitTerms(bar.host ?? ''),
    command: splitTerms(bar.command ?? ''),
    errors: bar.errors === true,
  };
}

class HubTestSocket implements HubSocket {
  bufferedAmount = 0;
  readyState = 1;
  frames: string[] = [];
  send(data: string | Buffer): void {
    // Records frames arrive as UTF-8 bytes sent as text frames, the others as strings.
    this.frames.push(typeof data === 'string' ? data : data.toString('utf8'));
  }
  close(): void {
    this.readyState = 3;
  }
}

/** Frames of the records the daemon sends to a client subscribed with `filter`. */
function daemonKeeps(filter: SubscribeFilter): number[] {
  const hub = new Hub<WireRecord, SubscriptionFilter>((r) => r);
  // The decoding worker's matcher, told the hub's subscriptions as the worker is (without the thread hop).
  const matcher = new BatchSampler();
  hub.attach(matcher);
  const socket = new HubTestSocket();
  hub.add(socket);
  // What the page sends is what the daemon parses: the JSON of the subscribe message.
  hub.subscribe(socket, canonicalSubscription(parseSubscription(JSON.parse(JSON.stringify(filter)))));
  // Told what the client reads, as the worker is: everything it matches (one client, no rate limit hit).
  matcher.setRates(hub.demand().everything > 0 ? Infinity : 0, new Map());
  // As the worker does: each decoded record matched at its index in the batch, then the picked ones handed over.
  RECORDS.forEach((r, i) => matcher.offer(r, i));
  const pick = matcher.take(1);
  hub.publish(
    Array.from(pick.picked, (i) => toWire(RECORDS[i], i + 1)),
    pick.matches,
    pick.matched,
  );
  hub.tick();
  return socket.frames.flatMap((f) => (JSON.parse(f) as { records: { frame: number }[] }).records.map((r) => r.frame));
}

/** Frames of the records the page keeps when it receives every record (as an older subscription would send). */
function pageKeeps(filter: SubscribeFilter): number[] {
  const socket = new FakeSocket();
  const client = new LiveClient({
    url: 'ws://x/ws',
    timers: new ManualTimers(),
    random: () => 0,
    createSocket: () => socket,
  });
  expect(client.setFilter(filter)).toBe(true);
  client.start();
  socket.open();
  socket.receive({ type: 'records', records: RECORDS.map((r) => JSON.parse(recordToJSON(r)) as RecordJSON) });
  return client.rows
    .sliceNewest(0, RECORDS.length)
    .map((r) => r.frame ?? -1)
    .reverse();
}

describe('the page filters as the daemon does', () => {
  it.each<[string, BarText, number[]]>([
    ['brace alternatives in a PV glob', { pv: 'sim:{ai,bi}1' }, [1, 2, 9, 10, 12, 13, 14, 15, 16, 19]],
    ['the beacon family', { command: 'beacon' }, [4, 5]],
    ['the disconnect family', { command: 'disconnect' }, [12, 13, 14]],
    ['the connect family', { command: 'connect' }, [7, 8, 9, 10, 11]],
    ['the error family', { command: 'error' }, [3, 11, 19, 20]],
    ['errors only', { errors: true }, [3, 11, 16, 19, 20]],
    ['a negated class', { pv: 'sim:[!a]i1' }, [2, 11, 14, 15, 16]],
    ['escaped braces and comma', { pv: 'sim:\\{ai\\,bi\\}1' }, [18]],
    ['a subnet', { host: '10.0.1.0/24' }, [4, 5]],
    ['base names and families, comma-separated', { command: 'readnotify,repeater echo' }, [6, 15, 16, 21]],
    ['all criteria together', { pv: 'sim:*1', host: '10.0.0.5', command: 'search connect', errors: true }, [3, 11]],
  ])('%s', (_what, bar, expected) => {
    const filter = barToFilter(bar);
    expect(daemonKeeps(filter)).toEqual(expected);
    expect(pageKeeps(filter)).toEqual(expected);
  });

  it('refuses the same filters with the same message', () => {
    for (const bad of [{ pv: ['sim:{ai'] }, { command: ['serch'] }, { host: ['10.0.0'] }, { pv: ['x'.repeat(300)] }]) {
      let daemonError = '';
      try {
        canonicalSubscription(parseSubscription(bad));
      } catch (err) {
        if (err instanceof Error && err.name === 'FilterError') daemonError = err.message;
      }
      const client = new LiveClient({
        url: 'ws://x/ws',
        timers: new ManualTimers(),
        createSocket: () => new FakeSocket(),
      });
      expect(client.setFilter(bad)).toBe(false);
      expect(daemonError).not.toBe('');
      expect(client.filterError).toBe(daemonError);
    }
  });
});
