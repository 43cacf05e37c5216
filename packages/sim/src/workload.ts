/**
 * Workloads: several clients that connect channels, read, write, subscribe and unsubscribe at a steady
 * pace, plus a search storm for names nobody serves. Every choice comes from a seeded generator.
 */
import { DbrType, EventMask } from '@ca-shark/protocol';
import { CaError, connectClient } from './client.js';
import type { CaClient, ClientChannel, ClientOptions, ClientSubscription } from './client.js';
import { Prng } from './prng.js';
import { ENUM_STATES } from './pvs.js';
import { sleep } from './util.js';

/** Shortest pause between two rounds of operations. */
const MIN_TICK_MS = 10;
/** Most operations one client keeps waiting for at once. */
const MAX_IN_FLIGHT = 256;

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Search destinations ('host' or 'host:port'), default ['127.0.0.1']. */
  addrList?: readonly string[];
  /** Default server port of the destinations (default 5064). */
  serverPort?: number;
  /** Prefix of the IOC's PVs (default 'sim:'). */
  prefix?: string;
  /**
   * PV names to use. Default: the simulator's standard PVs (without the large waveform) and, when
   * `generatedPvs` is set, `${prefix}pv0..`.
   */
  pvNames?: readonly string[];
  /** Number of generated PVs the IOC serves (`ca-sim ioc --pvs N`), used to build default names. */
  generatedPvs?: number;
  /** Channels per client (default 10); names are reused round-robin when there are fewer PVs. */
  channels?: number;
  /** Subscriptions per client (default 5, at most `channels`). */
  monitors?: number;
  /** Number of concurrent clients (default 1). */
  clients?: number;
  /** Reads and writes per second per client (default 20). */
  opsPerSecond?: number;
  /** Share of operations that are writes, 0..1 (default 0.3). */
  writeShare?: number;
  /** Every this many ms one monitor is cancelled and re-created (default 2000; 0 = never). */
  resubscribeEveryMs?: number;
  /** Names searched by the storm client (`${prefix}missing:N`); 0 = no storm (default). */
  storm?: number;
  /** Run time in ms (default 10000); `Infinity` runs until `signal` aborts (e.g. a demo mode). */
  durationMs?: number;
  /** Seed of every random choice (default 1). */
  seed?: number;
  /**
   * DBR families that subscriptions and reads pick from (default all five). `['time', 'ctrl']` is what
   * archivers, alarm handlers and display managers ask for.
   */
  families?: readonly DbrFamily[];
  /** Stops the load early. */
  signal?: AbortSignal;
  /** Extra client options (timeouts, search back-off). */
  client?: Omit<ClientOptions, 'addrList' | 'serverPort'>;
}

/** What a load run did. */
export interface LoadReport {
  clients: number;
  channelsConnected: number;
  channelsUnconnected: number;
  reads: number;
  writes: number;
  failures: number;
  updates: number;
  subscribes: number;
  unsubscribes: number;
  searchRequests: number;
  stormSearches: number;
  /** Reads by the DBR family they asked for. */
  readsByFamily: Partial<Record<DbrFamily, number>>;
  durationMs: number;
}

/** The standard names a load uses by default (see `standardPvs`). */
export function defaultLoadPvNames(prefix: string, generatedPvs = 0): string[] {
  const names = [
    'double',
    'long',
    'string',
    'enum',
    'waveform',
    'counter',
    'float',
    'short',
    'char',
    'chararray',
    'longarray',
    'stringarray',
    'readonly',
    'sine',
  ].map((n) => `${prefix}${n}`);
  for (let i = 0; i < generatedPvs; i++) names.push(`${prefix}pv${i}`);
  return names;
}

/** A DBR metadata family: the value alone, or with status, time stamp, display or control metadata. */
export type DbrFamily = 'plain' | 'sts' | 'time' | 'gr' | 'ctrl';

/** Offset of each family's first (STRING) type from the plain types: family offset + native type = DBR type. */
const FAMILY_OFFSETS: Readonly<Record<DbrFamily, number>> = {
  plain: DbrType.STRING,
  sts: DbrType.STS_STRING,
  time: DbrType.TIME_STRING,
  gr: DbrType.GR_STRING,
  ctrl: DbrType.CTRL_STRING,
};

/** Every family, in DBR order. */
export const DBR_FAMILIES: readonly DbrFamily[] = Object.keys(FAMILY_OFFSETS) as DbrFamily[];

/**
 * Parses a comma-separated family list (`time,ctrl`). Throws a RangeError naming an unknown family.
 */
export function parseFamilies(text: string): DbrFamily[] {
  const out: DbrFamily[] = [];
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    if (!(DBR_FAMILIES as readonly string[]).includes(name))
      throw new RangeError(`unknown DBR family "${part}" (one of ${DBR_FAMILIES.join(', ')})`);
    out.push(name as DbrFamily);
  }
  if (out.length === 0) throw new RangeError('no DBR family given');
  return out;
}

/** A value a write can send to a channel of the given native type and count. */
function valueFor(prng: Prng, ch: ClientChannel): number | string | (number | string)[] {
  const one = (): number | string => {
    switch (ch.nativeType) {
      case DbrType.STRING:
        return `load ${prng.int(0, 9999)}`;
      case DbrType.ENUM:
        return prng.int(0, ENUM_STATES.length - 2);
      case DbrType.CHAR:
        return prng.int(32, 126);
      case DbrType.SHORT:
      case DbrType.LONG:
        return prng.int(-50, 50);
      default:
        return Math.round(prng.float(-60, 60) * 1000) / 1000;
    }
  };
  if (ch.nativeCount <= 1) return one();
  return Array.from({ length: ch.nativeCount }, one);
}

/** Runs one client's workload until `deadline`. */
async function runOneClient(
  client: CaClient,
  names: readonly string[],
  options: Required<
    Pick<LoadOptions, 'channels' | 'monitors' | 'opsPerSecond' | 'writeShare' | 'resubscribeEveryMs'>
  > & {
    families: readonly DbrFamily[];
  },
  prng: Prng,
  deadline: number,
  signal: AbortSignal | undefined,
  report: LoadReport,
): Promise<void> {
  const channels: ClientChannel[] = [];
  for (let i = 0; i < options.channels; i++) channels.push(client.channel(names[i % names.length] as string));
  const monitors: (ClientSubscription | undefined)[] = [];
  const subscribe = (ch: ClientChannel): ClientSubscription => {
    report.subscribes += 1;
    const family = FAMILY_OFFSETS[prng.pick(options.families)];
    // The native type is only known once connected: subscribe with the TIME family until then.
    const type = ch.connected ? family + ch.nativeType : undefined;
    return ch.subscribe({ type, mask: EventMask.DBE_VALUE | EventMask.DBE_ALARM }, () => {
      report.updates += 1;
    });
  };
  for (let i = 0; i < Math.min(options.monitors, channels.length); i++)
    monitors.push(subscribe(channels[i] as ClientChannel));

  const operate = async (ch: ClientChannel): Promise<void> => {
    const write = prng.next() < options.writeShare && (ch.accessRights & 2) !== 0;
    try {
      if (write) {
        report.writes += 1;
        await ch.put(valueFor(prng, ch), { notify: prng.next() < 0.8 });
      } else {
        report.reads += 1;
        const family = prng.pick(options.families);
        report.readsByFamily[family] = (report.readsByFamily[family] ?? 0) + 1;
        await ch.get({ type: FAMILY_OFFSETS[family] + ch.nativeType });
      }
    } catch (err) {
      if (!(err instanceof CaError)) throw err;
      report.failures += 1;
    }
  };
  // Operations are paced by elapsed time (a token bucket checked every 10 ms) and run concurrently up to a
  // cap, so the rate holds whatever the round-trip time, and a slow IOC cannot pile up requests. They go
  // to the channels connected at the time: one that connects late (or never) does not hold the others.
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let issued = 0;
  let lastResubscribe = started;
  while (Date.now() < deadline && !signal?.aborted) {
    await sleep(Math.min(MIN_TICK_MS, Math.max(0, deadline - Date.now())));
    const due = Math.floor(((Date.now() - started) * options.opsPerSecond) / 1000) - issued;
    const connected = channels.filter((c) => c.connected);
    if (connected.length === 0) {
      issued += Math.max(0, due);
    } else {
      for (let i = 0; i < due && inFlight.size < MAX_IN_FLIGHT; i++) {
        const op = operate(prng.pick(connected)).finally(() => inFlight.delete(op));
        inFlight.add(op);
      }
      issued += Math.max(0, due);
    }
    if (
      options.resubscribeEveryMs > 0 &&
      monitors.length > 0 &&
      Date.now() - lastResubscribe >= options.resubscribeEveryMs
    ) {
      lastResubscribe = Date.now();
      const i = prng.int(0, monitors.length - 1);
      const old = monitors[i];
      if (old) {
        report.unsubscribes += 1;
        await old.cancel().catch(() => undefined);
        monitors[i] = subscribe(old.channel);
      }
    }
  }
  await Promise.all(inFlight);
  report.channelsConnected += channels.filter((c) => c.connected).length;
  report.channelsUnconnected += channels.filter((c) => !c.connected).length;
  report.searchRequests += client.stats.searchRequests;
}

/**
 * Runs `clients` workload clients (and the storm client, if asked) against the IOC(s) reachable through
 * `addrList`, for `durationMs`, and reports what they did.
 */
export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const prefix = options.prefix ?? 'sim:';
  const names = options.pvNames ?? defaultLoadPvNames(prefix, options.generatedPvs ?? 0);
  if (names.length === 0) throw new RangeError('a load needs at least one PV name');
  const started = Date.now();
  const deadline = started + (options.durationMs ?? 10000);
  const prng = new Prng(options.seed ?? 1);
  const report: LoadReport = {
    clients: options.clients ?? 1,
    channelsConnected: 0,
    channelsUnconnected: 0,
    reads: 0,
    writes: 0,
    failures: 0,
    updates: 0,
    subscribes: 0,
    unsubscribes: 0,
    searchRequests: 0,
    stormSearches: 0,
    readsByFamily: {},
    durationMs: 0,
  };
  const clientOptions: ClientOptions = {
    ...options.client,
    addrList: options.addrList,
    serverPort: options.serverPort,
  };
  const perClient = {
    channels: options.channels ?? 10,
    monitors: options.monitors ?? 5,
    opsPerSecond: options.opsPerSecond ?? 20,
    writeShare: options.writeShare ?? 0.3,
    resubscribeEveryMs: options.resubscribeEveryMs ?? 2000,
    families: options.families ?? DBR_FAMILIES,
  };
  if (perClient.families.length === 0) throw new RangeError('a load needs at least one DBR family');
  const clients: CaClient[] = [];
  try {
    for (let i = 0; i < report.clients; i++)
      clients.push(await connectClient({ ...clientOptions, userName: `load${i}` }));
    let storm: CaClient | undefined;
    if ((options.storm ?? 0) > 0) {
      storm = await connectClient({ ...clientOptions, userName: 'storm' });
      clients.push(storm);
      for (let i = 0; i < (options.storm ?? 0); i++) storm.channel(`${prefix}missing:${i}`);
    }
    await Promise.all(
      clients
        .filter((c) => c !== storm)
        .map((c) => runOneClient(c, names, perClient, prng.fork(), deadline, options.signal, report)),
    );
    if (storm) {
      // The storm only searches: wait out the run, then count what its back-off sent.
      while (Date.now() < deadline && !options.signal?.aborted)
        await sleep(Math.min(200, Math.max(0, deadline - Date.now())));
      report.stormSearches = storm.stats.searchRequests;
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  report.durationMs = Date.now() - started;
  return report;
}
