#!/usr/bin/env node
/**
 * `ca-sim`: run a simulated IOC or a client workload on loopback.
 *   ca-sim ioc  [--prefix sim:] [--pvs N] [--rate HZ] [--port P] ...
 *   ca-sim load [--channels N] [--monitors N] [--duration S] [--storm N] [--addr-list ...] ...
 *   ca-sim repeater [--port P]
 */
import { parseArgs } from 'node:util';
import { parseWaveformGroup, waveformPvs } from './pvs.js';
import type { WaveformGroup } from './pvs.js';
import { startRepeater } from './repeater.js';
import { startIoc } from './server.js';
import { parseFamilies, runLoad } from './workload.js';

const HELP = `ca-sim: EPICS Channel Access traffic simulator (loopback by default)

Usage:
  ca-sim ioc  [options]   serve simulated PVs until Ctrl-C
  ca-sim load [options]   run client workloads against an IOC, print a JSON report
  ca-sim repeater [--port P]
                          a CA repeater (like caRepeater) on 127.0.0.1, default port 5065
  ca-sim -h | --help

ioc options:
  --prefix P        PV name prefix (default sim:); always serves Pdouble Plong Pstring Penum
                    Pwaveform Pcounter (and Pfloat Pshort Pchar Pchararray Plongarray
                    Pstringarray Pbigwave Preadonly Psine)
  --pvs N           extra generated PVs Ppv0..Ppv{N-1}, every native type (default 0)
  --rate HZ         update rate of the periodic PVs (default 10; 0 = static)
  --waveform SPEC   add updating DOUBLE waveforms Pwave{COUNT}_0..: SPEC is COUNT[@HZ][xN],
                    e.g. 30000@10 or 100@20x10 (HZ default 10, N default 1); repeatable
  --port P          UDP search port (default 5064, or EPICS_CAS_SERVER_PORT / EPICS_CA_SERVER_PORT)
  --tcp-port P      TCP port (default: the UDP port, a free one if it is busy)
  --host ADDR       address to serve on (default 127.0.0.1; 0.0.0.0 = every interface)
  --beacon-port P   beacon destination port (default 5065, or EPICS_CA_REPEATER_PORT)
  --beacon-address A beacon destination address (default 127.0.0.1; a .255 address broadcasts)
  --beacon-period S steady beacon period in seconds (default 15)
  --seed N          seed of the generated values (default 1)
  -v, --verbose     log circuits opening and closing (JSON lines on stderr)

load options:
  --channels N      channels per client (default 10)
  --monitors N      subscriptions per client (default 5)
  --clients N       concurrent clients (default 1)
  --ops N           reads+writes per second per client (default 20)
  --duration S      run time in seconds (default 10)
  --storm N         also search N missing PVs (Pmissing:0..) with back-off (default 0)
  --addr-list LIST  search destinations "host[:port] ..." (default EPICS_CA_ADDR_LIST or 127.0.0.1)
  --port P          default server port of the destinations (default 5064 or EPICS_CA_SERVER_PORT)
  --prefix P        PV name prefix (default sim:)
  --pvs N           the IOC's generated PV count, to use Ppv0.. as well (default 0)
  --names LIST      use exactly these PV names (comma or space separated) instead of the
                    standard ones; the first --monitors of them are subscribed
  --families LIST   DBR families of subscriptions and reads: plain,sts,time,gr,ctrl (default all)
  --write-share F   share of operations that are writes, 0..1 (default 0.3)
  --seed N          seed of every choice (default 1)
  --repeater-port P register every client with the CA repeater on this port (as libca does)
`;

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} needs a non-negative number, got "${value}"`);
  return n;
}

class UsageError extends Error {}

/** Runs an option parser, turning its RangeError into a usage error (exit code 2). */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

function envPort(...names: string[]): number | undefined {
  for (const n of names) {
    const v = process.env[n];
    if (v !== undefined && v !== '' && Number.isInteger(Number(v))) return Number(v);
  }
  return undefined;
}

async function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(sig);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

async function ioc(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      prefix: { type: 'string' },
      pvs: { type: 'string' },
      rate: { type: 'string' },
      waveform: { type: 'string', multiple: true },
      port: { type: 'string' },
      'tcp-port': { type: 'string' },
      host: { type: 'string' },
      'beacon-port': { type: 'string' },
      'beacon-address': { type: 'string' },
      'beacon-period': { type: 'string' },
      seed: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const prefix = values.prefix ?? 'sim:';
  const groups: WaveformGroup[] = [];
  for (const text of values.waveform ?? []) groups.push(usage(() => parseWaveformGroup(text)));
  const handle = await startIoc({
    prefix,
    extraPvs: waveformPvs(prefix, groups),
    pvs: intOption(values.pvs, 'pvs', 0),
    rate: intOption(values.rate, 'rate', 10),
    port: intOption(values.port, 'port', envPort('EPICS_CAS_SERVER_PORT', 'EPICS_CA_SERVER_PORT') ?? 5064),
    tcpPort: values['tcp-port'] === undefined ? undefined : intOption(values['tcp-port'], 'tcp-port', 0),
    host: values.host ?? '127.0.0.1',
    beaconPort: intOption(
      values['beacon-port'],
      'beacon-port',
      envPort('EPICS_CAS_BEACON_PORT', 'EPICS_CA_REPEATER_PORT') ?? 5065,
    ),
    beaconAddress: values['beacon-address'] ?? '127.0.0.1',
    beaconPeriodMs: intOption(values['beacon-period'], 'beacon-period', 15) * 1000,
    seed: intOption(values.seed, 'seed', 1),
    log: (e) => {
      if (e.level === 'warn' || values.verbose) process.stderr.write(`${JSON.stringify(e)}\n`);
    },
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'ioc ready', host: handle.host, udpPort: handle.udpPort, tcpPort: handle.tcpPort, pvs: handle.db.size, prefix: handle.prefix })}\n`,
  );
  const sig = await waitForSignal();
  await handle.stop();
  process.stdout.write(`${JSON.stringify({ msg: 'ioc stopped', signal: sig, stats: handle.stats })}\n`);
}

async function load(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      channels: { type: 'string' },
      monitors: { type: 'string' },
      clients: { type: 'string' },
      ops: { type: 'string' },
      duration: { type: 'string' },
      storm: { type: 'string' },
      'addr-list': { type: 'string' },
      port: { type: 'string' },
      prefix: { type: 'string' },
      pvs: { type: 'string' },
      seed: { type: 'string' },
      names: { type: 'string' },
      families: { type: 'string' },
      'write-share': { type: 'string' },
      'repeater-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const controller = new AbortController();
  void waitForSignal().then(() => controller.abort());
  const addrList = (values['addr-list'] ?? process.env.EPICS_CA_ADDR_LIST ?? '127.0.0.1').split(/\s+/).filter(Boolean);
  const report = await runLoad({
    addrList,
    serverPort: intOption(values.port, 'port', envPort('EPICS_CA_SERVER_PORT') ?? 5064),
    prefix: values.prefix ?? 'sim:',
    generatedPvs: intOption(values.pvs, 'pvs', 0),
    pvNames: values.names === undefined ? undefined : values.names.split(/[\s,]+/).filter(Boolean),
    families: values.families === undefined ? undefined : usage(() => parseFamilies(values.families as string)),
    writeShare: Math.min(1, intOption(values['write-share'], 'write-share', 0.3)),
    channels: intOption(values.channels, 'channels', 10),
    monitors: intOption(values.monitors, 'monitors', 5),
    clients: intOption(values.clients, 'clients', 1),
    opsPerSecond: intOption(values.ops, 'ops', 20),
    durationMs: intOption(values.duration, 'duration', 10) * 1000,
    storm: intOption(values.storm, 'storm', 0),
    seed: intOption(values.seed, 'seed', 1),
    client:
      values['repeater-port'] === undefined
        ? {}
        : { repeaterPort: intOption(values['repeater-port'], 'repeater-port', 5065) },
    signal: controller.signal,
  });
  process.stdout.write(`${JSON.stringify({ msg: 'load done', ...report })}\n`);
  // The signal listener above would keep nothing alive, but be explicit: the run is over.
  process.exit(0);
}

async function repeater(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const handle = await startRepeater({
    port: intOption(values.port, 'port', envPort('EPICS_CA_REPEATER_PORT') ?? 5065),
  });
  process.stdout.write(`${JSON.stringify({ msg: 'repeater ready', port: handle.port })}\n`);
  const sig = await waitForSignal();
  await handle.stop();
  process.stdout.write(
    `${JSON.stringify({ msg: 'repeater stopped', signal: sig, clients: handle.clients().length, forwarded: handle.forwarded })}\n`,
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'ioc':
        await ioc(rest);
        return 0;
      case 'load':
        await load(rest);
        return 0;
      case 'repeater':
        await repeater(rest);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ca-sim: ${(err as Error).message}\n(see ca-sim --help)\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`ca-sim: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
