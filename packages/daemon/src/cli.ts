import { parseArgs } from 'node:util';
import { type AlertsConfig, type AlertsConfigFile, readAlertsConfig, resolveAlertsConfig } from './alerts/config.js';
import { DaemonError } from './errors.js';
import { parseHistory } from './history-options.js';
import type { HistoryBounds } from './history-ring.js';
import { parseSpeed, type ReplaySpeed } from './sources/file.js';
import { DEFAULT_DECODER_NICE, MAX_NICE } from './thread-nice.js';
import { type NatsConfig, natsConfig, NATS_OPTIONS, NATS_USAGE } from './nats/cli.js';

/** Everything the command line can set. */
export interface DaemonConfig {
  mode: 'live' | 'stdin' | 'file' | 'demo' | 'central' | 'list-interfaces' | 'help' | 'version';
  iface?: string;
  /** User-given BPF filter (overrides the default CA filter). */
  filter?: string;
  snaplen?: number;
  /** Live capture: the decoder's backlog bound, ms (`--max-lag`; Infinity: none); absent: the engine's default. */
  maxDecoderLagMs?: number;
  /**
   * Live capture: the bound the backlog is held to once frames were shed, ms (`--hold-lag`; Infinity: no
   * hold); absent: the engine's default.
   */
  holdDecoderLagMs?: number;
  /**
   * Nice value of the decoding worker thread (`--decoder-nice`, 0..19; default DEFAULT_DECODER_NICE); the
   * HTTP/WebSocket thread keeps the daemon's. Absent (configs built by hand): the worker runs as the daemon.
   */
  decoderNice?: number;
  bufferSize?: number;
  file?: string;
  speed: ReplaySpeed;
  exitOnEof: boolean;
  host: string;
  port: number;
  token?: string;
  allowedOrigins: string[];
  /** Names accepted in the HTTP Host header besides localhost, loopback literals and the listen address. */
  allowHosts: string[];
  user?: string;
  serverPort: number;
  repeaterPort: number;
  dashboardDir?: string;
  logLevel: string;
  /** Bounds of the held records (`--history`); absent: DEFAULT_HISTORY. */
  history?: HistoryBounds;
  /** Bytes of the raw packet ring behind /api/pcap (0: none; default 256 MiB). */
  packetRing?: number;
  /**
   * The directory stdin's spool file (sources/spool.ts) and the held records' (history-spool.ts) are made
   * in (default `os.tmpdir()`), or null (`--spool-dir none`) to keep both in memory.
   */
  spoolDir?: string | null;
  /** Alert thresholds, severities and webhook: defaults, then --alerts-config, then the flags. */
  alerts: AlertsConfig;
  /** Sensor (--publish) or central (--subscribe) settings; absent on a single host. */
  nats?: NatsConfig;
  /** --no-dashboard: a sensor that serves no HTTP at all. */
  noDashboard: boolean;
}

/** `--help` text. */
export const USAGE = `Usage: ca-sharkd [SOURCE] [OPTIONS]

Decodes EPICS Channel Access traffic live and serves it to the ca-shark dashboard
(http://127.0.0.1:8080 by default), a WebSocket stream (/ws) and an HTTP API (/api/...).

Sources (exactly one):
  -i, --interface IFACE   capture live on IFACE ('any' for all interfaces; needs root or
                          cap_net_raw,cap_net_admin)
  -D, --list-interfaces   list the interfaces you can capture on, then exit
      --stdin             read pcap/pcapng from stdin as it arrives
                          (sudo tcpdump -U -i eth0 -w - | ca-sharkd --stdin)
  -r, --read FILE         replay a pcap/pcapng file
      --demo              start a simulated IOC and clients on loopback and capture them
                          (on lo, or on the interface given with -i)
      --subscribe URL     central: no capture; take the records of sensors from NATS JetStream
                          at URL (nats://HOST:4222) and serve them merged (docs/deployment.md)

Capture:
  -f, --filter BPF        capture filter (default: CA traffic, i.e. TCP, UDP to/from the CA
                          server and repeater ports, IP fragments; the daemon's own HTTP port
                          is always left out)
      --snaplen BYTES     bytes kept per packet (default 262144, libpcap's: whole 64 KiB segments
                          on lo); a longer packet is cut, and the CA messages it carried become
                          a Malformed record (truncated, or a gap in its TCP stream)
      --max-lag MS|none   live capture: once decoding is MS behind, frames the decoder would
                          reach more than MS after capture (at the rate it decodes) are dropped
                          and counted as decoder drops, so the dashboard stays fresh (default
                          1000; after 1.5 x MS every frame is, until it catches up); none: frames queue
                          (up to 64 MiB) and are decoded late, every message counted if the
                          machine catches up
      --hold-lag MS|none  live capture: once frames were dropped, hold the decoder's backlog to
                          MS until it kept up for 3 s (default 0.4 x --max-lag: fresher Live,
                          more dropped in the decoder's pauses); none: no hold
      --decoder-nice N    run the decoding thread at nice N, 0..19 (default ${DEFAULT_DECODER_NICE}: the daemon's;
                          also $CA_SHARKD_DECODER_NICE; Linux only): when the cores are busy, the
                          HTTP, WebSocket and capture thread (and other processes of the daemon's
                          scheduling group) get one first, and a decoder short of CPU sheds
                          frames (counted); 10 keeps the API answering under a flood
      --buffer-size SIZE  kernel capture buffer, e.g. 64M (default 32M); raise it if libpcap drops
      --ports S[,R]       CA server and repeater ports (default 5064,5065; EPICS_CA_SERVER_PORT,
                          EPICS_CA_REPEATER_PORT are honoured)
      --speed N|max       replay speed for -r: 1 = capture time (default), 10 = ten times faster,
                          max = as fast as decoding goes
      --exit-on-eof       exit when stdin or the replayed file ends (default: keep serving)
      --history RECORDS,DURATION
                          records held for pages that open or filter later, either bound or both:
                          500000, 500k or 2M records; 90s, 10m, 2h or 1d of capture time; 0 holds
                          none (default 1M,10m; about 110 bytes a record, in a file of
                          --spool-dir, 15 in memory; see docs/daemon.md)

Serving:
      --listen HOST:PORT  address of the HTTP/WebSocket server (default 127.0.0.1:8080); anything
                          but loopback exposes captured traffic: use --token
      --token TOKEN       require 'Authorization: Bearer TOKEN' (or ?token=TOKEN) on /api, /ws and
                          /metrics (default: $CA_SHARKD_TOKEN)
      --allow-origin URL  also accept WebSocket connections from pages at URL (repeatable),
                          e.g. http://localhost:5173 for the dashboard's dev server
      --allow-host NAME   also serve requests whose Host header is NAME (repeatable), e.g. the
                          name of this machine or of a reverse proxy; by default only localhost,
                          loopback addresses and the --listen address are served (DNS rebinding)
      --packet-ring BYTES keep the packets of the latest CA messages for GET /api/pcap, up to
                          BYTES of packets (default 256M; 0 keeps none); live capture and --demo
                          hold that much memory once full, -r FILE and --stdin only an index
                          (about 50 bytes a packet and 80 a message: the file, or the spool
                          on disk below, holds the bytes)
      --spool-dir DIR     --stdin writes what it reads to a file of at most --packet-ring bytes
                          in DIR, and the held records of --history go to a file there, about
                          110 bytes a record (default: $TMPDIR or /tmp; on a tmpfs it takes
                          memory), removed at once so nothing is left behind; \`none\` keeps
                          both in memory
      --user NAME         drop root privileges to user NAME once the capture is open
      --dashboard DIR     serve the dashboard from DIR (default: packages/dashboard/dist)
      --log-level LEVEL   trace, debug, info (default), warn, error

Alerts (docs/daemon.md#alerts):
      --alerts-config FILE  thresholds, severities and webhook settings (JSON)
      --alert-webhook URL   POST new alerts there as JSON (retried, at most 6 POSTs a minute)
      --alert-search-rate N a PV searched again at N/s or more over a minute is a search storm
                            (default 1)
      --alert-client-rate N the same for one client process over all its PVs (default 20)
${NATS_USAGE}
  -h, --help              show this help
  -V, --version           show the version
`;

/** Parses "64M", "512k", "1g" or a plain byte count. */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+)([kKmMgG]?)[bB]?$/.exec(text.trim());
  if (match === null)
    throw new DaemonError('usage', `bad ${option} ${JSON.stringify(text)}: use a byte count like 65536, 512K or 64M`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * scale;
}

function parsePort(text: string, what: string, min = 1): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > 65535)
    throw new DaemonError('usage', `bad ${what} ${JSON.stringify(text)}: expected a port ${min}..65535`);
  return n;
}

/** Parses "HOST:PORT", ":PORT", "PORT" or "[v6]:PORT". */
export function parseListen(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  // Port 0 asks the system for a free port (tests, several daemons on one host).
  if (v6 !== null) return { host: v6[1], port: parsePort(v6[2], '--listen port', 0) };
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: parsePort(text, '--listen port', 0) };
  const colon = text.lastIndexOf(':');
  if (colon < 0)
    throw new DaemonError('usage', `bad --listen ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  const host = text.slice(0, colon) || '127.0.0.1';
  return { host, port: parsePort(text.slice(colon + 1), '--listen port', 0) };
}

/** Checks `--allow-host` names: a host name or address, without scheme, port or path. */
function parseAllowHosts(names: readonly string[]): string[] {
  for (const name of names) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/.test(name)) {
      throw new DaemonError(
        'usage',
        `bad --allow-host ${JSON.stringify(name)}: give a host name or address, e.g. shark.example.org (no scheme or port)`,
      );
    }
  }
  return [...names];
}

const LOOPBACK_LISTEN = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The warning printed at start when the daemon listens beyond loopback (undefined on loopback): without a
 * token anyone who can reach the port reads the capture.
 */
export function exposureWarning(config: Pick<DaemonConfig, 'host' | 'port' | 'token'>): string | undefined {
  if (LOOPBACK_LISTEN.test(config.host)) return undefined;
  if (config.token === undefined) {
    return (
      `listening on ${config.host}:${config.port} without --token: captured traffic is sensitive and anyone who can ` +
      'reach this port can read it; add --token and put a TLS reverse proxy in front (docs/security.md)'
    );
  }
  return (
    'listening beyond loopback: captured traffic is sensitive and the token travels in clear text unless a TLS ' +
    'reverse proxy is in front (docs/security.md)'
  );
}

/** Parses argv (without node and script) and the environment into a {@link DaemonConfig}. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        interface: { type: 'string', short: 'i' },
        'list-interfaces': { type: 'boolean', short: 'D' },
        stdin: { type: 'boolean' },
        read: { type: 'string', short: 'r' },
        demo: { type: 'boolean' },
        filter: { type: 'string', short: 'f' },
        snaplen: { type: 'string' },
        'max-lag': { type: 'string' },
        'hold-lag': { type: 'string' },
        'decoder-nice': { type: 'string' },
        'buffer-size': { type: 'string' },
        ports: { type: 'string' },
        speed: { type: 'string' },
        'exit-on-eof': { type: 'boolean' },
        history: { type: 'string' },
        listen: { type: 'string' },
        token: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        user: { type: 'string' },
        'packet-ring': { type: 'string' },
        'spool-dir': { type: 'string' },
        dashboard: { type: 'string' },
        'log-level': { type: 'string' },
        'alerts-config': { type: 'string' },
        'alert-webhook': { type: 'string' },
        'alert-search-rate': { type: 'string' },
        'alert-client-rate': { type: 'string' },
        ...NATS_OPTIONS,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    // parseArgs' messages are already one line; point at --help.
    throw new DaemonError('usage', `${(err as Error).message.split('\n')[0]} (see ca-sharkd --help)`);
  }
  const v = parsed.values;
  const serverPortDefault =
    env.EPICS_CA_SERVER_PORT !== undefined ? parsePort(env.EPICS_CA_SERVER_PORT, 'EPICS_CA_SERVER_PORT') : 5064;
  const repeaterPortDefault =
    env.EPICS_CA_REPEATER_PORT !== undefined ? parsePort(env.EPICS_CA_REPEATER_PORT, 'EPICS_CA_REPEATER_PORT') : 5065;
  let serverPort = serverPortDefault;
  let repeaterPort = repeaterPortDefault;
  if (v.ports !== undefined) {
    const [s, r] = v.ports.split(',');
    serverPort = parsePort(s, '--ports server port');
    if (r !== undefined) repeaterPort = parsePort(r, '--ports repeater port');
  }
  const listen = parseListen(v.listen ?? '127.0.0.1:8080');
  const level = v['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new DaemonError('usage', `bad --log-level ${JSON.stringify(level)}: use trace, debug, info, warn or error`);
  }

  let mode: DaemonConfig['mode'];
  if (v.help === true) mode = 'help';
  else if (v.version === true) mode = 'version';
  else if (v['list-interfaces'] === true) mode = 'list-interfaces';
  else {
    const chosen = [
      v.subscribe !== undefined ? '--subscribe' : undefined,
      v.demo === true ? '--demo' : undefined,
      v.stdin === true ? '--stdin' : undefined,
      v.read !== undefined ? '-r' : undefined,
      v.interface !== undefined && v.demo !== true ? '-i' : undefined,
    ].filter((x): x is string => x !== undefined);
    if (chosen.length === 0) {
      throw new DaemonError(
        'usage',
        'no source: give -i IFACE, --stdin, -r FILE, --demo or --subscribe URL (see ca-sharkd --help)',
      );
    }
    if (chosen.length > 1) throw new DaemonError('usage', `choose one source, not ${chosen.join(' and ')}`);
    mode =
      v.subscribe !== undefined
        ? 'central'
        : v.demo === true
          ? 'demo'
          : v.stdin === true
            ? 'stdin'
            : v.read !== undefined
              ? 'file'
              : 'live';
  }
  if (v.speed !== undefined && mode !== 'file') throw new DaemonError('usage', '--speed only applies to -r FILE');
  for (const option of ['max-lag', 'hold-lag'] as const) {
    if (v[option] !== undefined && mode !== 'live' && mode !== 'demo') {
      throw new DaemonError(
        'usage',
        `--${option} only applies to live capture (-i, --demo): files and stdin never drop`,
      );
    }
  }
  if (v['spool-dir'] === '') throw new DaemonError('usage', '--spool-dir: give a directory, or none');
  if (v['exit-on-eof'] === true && mode !== 'stdin' && mode !== 'file') {
    throw new DaemonError('usage', '--exit-on-eof only applies to --stdin and -r FILE');
  }
  if (v.filter !== undefined && (mode === 'stdin' || mode === 'file')) {
    throw new DaemonError(
      'usage',
      '-f applies to live capture; filter a file with the dashboard or ca-shark --pv/--host/--command',
    );
  }
  const token = v.token ?? env.CA_SHARKD_TOKEN;
  const alerts = alertsFromFlags(v);
  const nats = natsConfig(v, mode, env);
  return {
    mode,
    ...(v.interface !== undefined ? { iface: v.interface } : {}),
    ...(v.filter !== undefined ? { filter: v.filter } : {}),
    ...(v.snaplen !== undefined ? { snaplen: parseSize(v.snaplen, '--snaplen') } : {}),
    ...(v['max-lag'] !== undefined ? { maxDecoderLagMs: parseMaxLag(v['max-lag'], '--max-lag') } : {}),
    ...(v['hold-lag'] !== undefined ? { holdDecoderLagMs: parseMaxLag(v['hold-lag'], '--hold-lag') } : {}),
    decoderNice: decoderNice(v['decoder-nice'], env.CA_SHARKD_DECODER_NICE),
    ...(v['buffer-size'] !== undefined ? { bufferSize: parseSize(v['buffer-size'], '--buffer-size') } : {}),
    ...(v.read !== undefined ? { file: v.read } : {}),
    speed: v.speed !== undefined ? parseSpeed(v.speed) : 1,
    exitOnEof: v['exit-on-eof'] === true,
    host: listen.host,
    port: listen.port,
    ...(token !== undefined && token !== '' ? { token } : {}),
    allowedOrigins: v['allow-origin'] ?? [],
    allowHosts: parseAllowHosts(v['allow-host'] ?? []),
    ...(v.user !== undefined ? { user: v.user } : {}),
    serverPort,
    repeaterPort,
    ...(v.dashboard !== undefined ? { dashboardDir: v.dashboard } : {}),
    logLevel: level,
    ...(v.history !== undefined ? { history: parseHistory(v.history) } : {}),
    ...(v['packet-ring'] !== undefined ? { packetRing: parseSize(v['packet-ring'], '--packet-ring') } : {}),
    ...(v['spool-dir'] !== undefined ? { spoolDir: v['spool-dir'] === 'none' ? null : v['spool-dir'] } : {}),
    alerts,
    ...(nats !== undefined ? { nats } : {}),
    noDashboard: v['no-dashboard'] === true,
  };
}

/**
 * `--max-lag`, `--hold-lag`: milliseconds (at least 100, below which a busy worker's own pauses would drop),
 * or `none`.
 */
function parseMaxLag(text: string, option: string): number {
  if (text === 'none') return Infinity;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < MIN_MAX_LAG_MS) {
    throw new DaemonError(
      'usage',
      `bad ${option} ${JSON.stringify(text)}: use milliseconds (${MIN_MAX_LAG_MS} or more) or none`,
    );
  }
  return n;
}

/** The decoding thread's nice: `--decoder-nice`, else $CA_SHARKD_DECODER_NICE (unless empty), else the default. */
function decoderNice(flag: string | undefined, env: string | undefined): number {
  if (flag !== undefined) return parseNice(flag, '--decoder-nice');
  if (env !== undefined && env !== '') return parseNice(env, 'CA_SHARKD_DECODER_NICE');
  return DEFAULT_DECODER_NICE;
}

/** `--decoder-nice`: an integer 0..{@link MAX_NICE} (a negative one would need privilege and starve the page). */
function parseNice(text: string, option: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > MAX_NICE) {
    throw new DaemonError('usage', `bad ${option} ${JSON.stringify(text)}: use a nice value 0..${MAX_NICE}`);
  }
  return n;
}

/** Smallest `--max-lag`: a garbage collection or a scheduling pause alone can hold decoding up this long. */
const MIN_MAX_LAG_MS = 100;

/** A positive number given to `option`. */
function parseRate(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new DaemonError('usage', `bad ${option} ${JSON.stringify(text)}: expected searches per second, e.g. 2`);
  return n;
}

/** The alerts configuration: defaults, then the --alerts-config file, then the alert flags. */
function alertsFromFlags(v: {
  'alerts-config'?: string;
  'alert-webhook'?: string;
  'alert-search-rate'?: string;
  'alert-client-rate'?: string;
}): AlertsConfig {
  const file = v['alerts-config'] !== undefined ? readAlertsConfig(v['alerts-config']) : undefined;
  const flags: AlertsConfigFile = {};
  const storm: AlertsConfigFile['searchStorm'] = {};
  if (v['alert-search-rate'] !== undefined) storm.pvRate = parseRate(v['alert-search-rate'], '--alert-search-rate');
  if (v['alert-client-rate'] !== undefined) storm.clientRate = parseRate(v['alert-client-rate'], '--alert-client-rate');
  if (Object.keys(storm).length > 0) flags.searchStorm = storm;
  const url = v['alert-webhook'];
  if (url !== undefined) {
    if (!/^https?:\/\/[^/]/.test(url))
      throw new DaemonError('usage', `bad --alert-webhook ${JSON.stringify(url)}: expected an http:// or https:// URL`);
    flags.webhook = { url };
  }
  return resolveAlertsConfig(file, flags);
}
