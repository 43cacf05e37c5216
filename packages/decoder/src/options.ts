/** Bounds on the conversation state, so memory stays flat on endless captures. */
export interface StateLimits {
  /** Circuits kept (open + recently closed). Oldest closed, then oldest open, are dropped beyond it. */
  maxCircuits: number;
  /** Channels kept over all circuits. */
  maxChannels: number;
  /** Pending READ/WRITE notifies and subscriptions per circuit. */
  maxPendingPerCircuit: number;
  /** Search entries (client socket + CID) kept. */
  maxSearches: number;
  /** Learned server endpoints kept. */
  maxServers: number;
  /** Client UDP sockets kept. */
  maxClients: number;
  /** TCP flows tracked at once (CA, undecided and non-CA). */
  maxFlows: number;
  /** Capture seconds a closed circuit (and its channels) stays visible in the state. */
  closedCircuitTtl: number;
  /** Capture seconds a cleared or failed channel stays visible. */
  clearedChannelTtl: number;
  /** Capture seconds after which an unanswered search entry may be dropped. */
  searchTtl: number;
  /** Bytes per direction buffered while a TCP flow is not yet recognised as CA. */
  earlyBytes: number;
}

/** Options of {@link createDecoder} and {@link shark}. */
export interface DecoderOptions {
  /** CA server port (UDP searches and default TCP), as `EPICS_CA_SERVER_PORT`. Default 5064. */
  serverPort?: number;
  /** CA repeater port (beacons, registration), as `EPICS_CA_REPEATER_PORT`. Default 5065. */
  repeaterPort?: number;
  /** More ports on which any host is taken to run a CA server (UDP and TCP). */
  extraServerPorts?: number[];
  /**
   * Largest CA payload buffered; a bigger message is emitted cut (`truncated`) with its real size and the
   * rest of it skipped, never a hang. Default 16 MiB.
   */
  maxMessageSize?: number;
  /**
   * Copy each message's bytes into `record.raw` (for hex dumps). Default false. `'lend'`: no copy; while
   * `onRecord` runs, `lentBytes(record)` gives a view of the message's bytes in the decoder's input, and a
   * consumer that keeps some records copies the bytes of those (`record.raw = lentBytes(record)?.slice()`).
   * The daemon keeps few of the records it decodes: a copy of every message was a tenth of its
   * allocations on waveform traffic. For `createDecoder`'s `onRecord`: shark() hands records out after it.
   */
  keepBytes?: boolean | 'lend';
  /**
   * Decode DBR payloads into the commands' `data` and `metadata` (and `enum_labels`, `data_problem`).
   * Default true. False leaves them out (the command types have them optional) for consumers that only
   * count and route messages, as `ca-shark stats` does: about a tenth less CPU on realistic traffic.
   * ENUM state strings are then not learned from GR/CTRL replies either. `'writes'` decodes only the values
   * clients write (WRITE and WRITE_NOTIFY requests), all that `ca-shark report`'s write audit reads.
   */
  decodeValues?: boolean | 'writes';
  /** State bounds; unspecified ones take the defaults in {@link DEFAULT_LIMITS}. */
  limits?: Partial<StateLimits>;
}

/** Default state bounds. */
export const DEFAULT_LIMITS: Readonly<StateLimits> = Object.freeze({
  maxCircuits: 10_000,
  maxChannels: 200_000,
  maxPendingPerCircuit: 100_000,
  maxSearches: 100_000,
  maxServers: 10_000,
  maxClients: 10_000,
  maxFlows: 50_000,
  closedCircuitTtl: 60,
  clearedChannelTtl: 60,
  searchTtl: 600,
  earlyBytes: 64 * 1024,
});

/**
 * A {@link StateLimits.searchTtl} for consumers that read no `SearchInfo` (`DecoderState.searches`) and need
 * the search entries only to pair replies with their requests, as the CLI does: 60 capture seconds. A CA
 * server answers a search datagram at once, so the request a reply pairs with (the latest of its CID) is at
 * most seconds old; a client whose search goes unanswered retries it at least every
 * `EPICS_CA_MAX_SEARCH_PERIOD` (300 s by default), and a retry after its entry expired starts a new entry
 * that pairs the replies the same way. What is lost is only what the entries add up over time (requests
 * per CID, first request, time to find), which the daemon shows and so keeps {@link DEFAULT_LIMITS}' 600 s.
 * With it the state holds the last minute of searching instead of the last ten: on a realistic 1 GB capture
 * 2,100 entries instead of 18,700 (6 MB of live heap less), the same as from a 100 MB one.
 */
export const PAIRING_SEARCH_TTL = 60;

/** CA defaults from EPICS (`CA_PORT_BASE` 5056 + 8, + 9). */
export const DEFAULT_SERVER_PORT = 5064;
export const DEFAULT_REPEATER_PORT = 5065;
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

/** Options with every default filled in. */
export interface ResolvedOptions {
  serverPort: number;
  repeaterPort: number;
  serverPorts: Set<number>;
  maxMessageSize: number;
  keepBytes: boolean | 'lend';
  decodeValues: boolean | 'writes';
  limits: StateLimits;
  /** Where large numeric arrays are decoded (see `DecodeDbrOptions.arrayMemory`); set by shark()'s `lendArrays`. */
  arrayMemory: ((byteLength: number) => Uint8Array) | undefined;
}

/** Fills in defaults and validates ports. */
export function resolveOptions(options: DecoderOptions = {}): ResolvedOptions {
  const serverPort = options.serverPort ?? DEFAULT_SERVER_PORT;
  const repeaterPort = options.repeaterPort ?? DEFAULT_REPEATER_PORT;
  for (const p of [serverPort, repeaterPort, ...(options.extraServerPorts ?? [])]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`invalid port ${p}`);
  }
  return {
    serverPort,
    repeaterPort,
    serverPorts: new Set([serverPort, ...(options.extraServerPorts ?? [])]),
    maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    keepBytes: options.keepBytes ?? false,
    decodeValues: options.decodeValues ?? true,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    arrayMemory: undefined,
  };
}
