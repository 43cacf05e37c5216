/** Command-line parsing for `ca-shark` (node:util parseArgs, strict). */
import { parseArgs } from 'node:util';
import type { ColorMode } from './color.js';

/** Parsed command line. */
export interface CliOptions {
  command: 'print' | 'stats' | 'report';
  files: string[];
  help: boolean;
  version: boolean;
  format: string | null;
  json: boolean;
  color: ColorMode;
  pv: string[];
  host: string[];
  commands: string[];
  errors: boolean;
  ports: number[];
  top: number;
  /** `report --section`: report keys to print (empty = all). */
  sections: string[];
  /** `--write OUT`: write the packets of the matching messages to OUT as pcapng (`-`: stdout). */
  write: string | null;
  /** `--decoder-names`: the default line names messages by the decoder's class, not caproto-shark's. */
  decoderNames: boolean;
}

/** A usage error: the message says what was wrong; the caller exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `ca-shark --help`. */
export const HELP = `Usage: ca-shark [options] [FILE ...]
       ca-shark stats [options] [FILE ...]
       ca-shark report [--section NAME[,NAME...]] [--json] [options] [FILE ...]

Decode EPICS Channel Access traffic from pcap/pcapng captures (files, or stdin when
there is no FILE or FILE is -) and print one line per CA message.

  sudo tcpdump -U -w - | ca-shark          watch live traffic
  ca-shark capture.pcapng --pv 'rpi:*'     messages about matching PVs
  ca-shark stats capture.pcapng            latency and traffic summary
  ca-shark report capture.pcapng           diagnoses: search storms, PVs never found,
                                           duplicate PVs, beacon anomalies, slow IOCs,
                                           monitor load, writes, errors, circuit log

Output:
  --format TEMPLATE   Python str.format-style line template (default:
                      '{timestamp} {src}:{transport.sport}->{dst}:{transport.dport} {command}').
                      Tokens: {timestamp} {src} {dst} {ethernet} {ip} {transport} {command}
                      {pv} {latency} {role} {role_certainty} {frame} {circuit} {server}
                      {client} {size} {request} {decoded}; attributes like {transport.sport},
                      {command.cid}, {ip.ttl}; specs like {latency:.6f}; {{ }} for braces.
  --decoder-names     name each message by its direction as ca-shark knows it from the
                      circuit (ClearChannelResponse, VersionResponse, ...), not by
                      caproto-shark's header-based class (ClearChannelRequestOrResponse, ...)
  --json              one JSON object per line (see docs/json.md)
  -w, --write OUT     write the packets that carried the matching messages to OUT as
                      pcapng (- for stdout), for Wireshark or a ticket; one input
  --color WHEN        auto (default: on a terminal, honouring NO_COLOR / FORCE_COLOR),
                      always or never

Filters (all given filters must match; repeated values are alternatives):
  --pv GLOB           PV name glob (* ? [abc] {a,b}); repeatable
  --host ADDR[/MASK]  source or destination address or subnet; repeatable
  --command NAME[,NAME...]
                      class names (SearchRequest), base names (ReadNotify) or families:
                      search read write monitor beacon error connect disconnect version
                      repeater echo; case-insensitive; repeatable
  --errors            only failures: error statuses, ErrorResponse, CreateChFailResponse,
                      NotFoundResponse, malformed messages

Decoding:
  --ports LIST        extra CA server ports (comma-separated; repeatable), for servers
                      on non-standard ports that the capture does not announce

stats:
  --top N             how many most-searched PVs to list (default 10)
  --json              the statistics as one JSON document

report (see docs/report.md):
  --section LIST      only these sections (comma-separated; repeatable): searches,
                      never_found, search_storms, duplicates, beacons, latency,
                      monitors, monitor_load, redundant_subscriptions, writes, errors,
                      circuits, channels, logs
  --json              the report as one JSON document

  -h, --help          show this help
  -V, --version       show the version

Damage (capture problems, malformed or cut CA messages, skipped TCP flows) is told on
stderr with its frame number.

Exit status: 0 ok, 1 nothing matched, 2 bad usage, unreadable input or unwritable
output, 3 decoded but the input was damaged (see docs/cli.md).
`;

/** Parse `argv` (without node and script). Throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        format: { type: 'string' },
        json: { type: 'boolean' },
        color: { type: 'string' },
        pv: { type: 'string', multiple: true },
        host: { type: 'string', multiple: true },
        command: { type: 'string', multiple: true },
        errors: { type: 'boolean' },
        ports: { type: 'string', multiple: true },
        top: { type: 'string' },
        section: { type: 'string', multiple: true },
        write: { type: 'string', short: 'w' },
        'decoder-names': { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  let positionals = parsed.positionals;
  let command: CliOptions['command'] = 'print';
  if (positionals[0] === 'stats' || positionals[0] === 'report') {
    command = positionals[0];
    positionals = positionals.slice(1);
  }
  const sections = (v.section ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (sections.length > 0 && command !== 'report') throw new UsageError('--section goes with the report command');
  const color = v.color ?? 'auto';
  if (color !== 'auto' && color !== 'always' && color !== 'never') {
    throw new UsageError(`--color must be auto, always or never, not ${JSON.stringify(color)}`);
  }
  if (v.json === true && v.format !== undefined) throw new UsageError('--json and --format cannot be combined');
  if (v['decoder-names'] === true && (v.json === true || v.format !== undefined)) {
    throw new UsageError(
      '--decoder-names changes the default line: --json has them (command.name), --format has {decoded}',
    );
  }
  if (v.write !== undefined) {
    if (command !== 'print') throw new UsageError(`--write does not go with the ${command} command`);
    if (v.json === true || v.format !== undefined)
      throw new UsageError('--write writes packets: drop --json and --format');
    if (positionals.length > 1) throw new UsageError('--write reads one capture (a FILE or stdin)');
    if (v.write === '') throw new UsageError('--write needs a file name (or - for stdout)');
  }
  const ports: number[] = [];
  for (const item of (v.ports ?? []).flatMap((p) => p.split(','))) {
    const text = item.trim();
    if (text === '') continue;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 65535)
      throw new UsageError(`--ports: ${JSON.stringify(text)} is not a port number 1..65535`);
    ports.push(n);
  }
  let top = 10;
  if (v.top !== undefined) {
    top = Number(v.top);
    if (!/^\d+$/.test(v.top)) throw new UsageError(`--top: ${JSON.stringify(v.top)} is not a count`);
  }
  return {
    command,
    files: positionals,
    help: v.help === true,
    version: v.version === true,
    format: v.format ?? null,
    json: v.json === true,
    color,
    pv: v.pv ?? [],
    host: v.host ?? [],
    commands: v.command ?? [],
    errors: v.errors === true,
    ports,
    top,
    sections,
    write: v.write ?? null,
    decoderNames: v['decoder-names'] === true,
  };
}
