/**
 * The captures the realistic bench decodes: recorded from the simulator on `lo` with `tcpdump -s 0` by
 * scripts/make-capture.sh, cached in a temporary directory under a name keyed by their parameters and
 * the script's contents (so a changed mix is recorded again), never in the repository.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { trackGroup } from './measure.js';
import { freePort } from './ports.js';

/** A capture to record: a mix of make-capture.sh and a size. */
export interface CaptureSpec {
  /** `realistic` (waveforms, TIME/CTRL, storm, restart) or `jumbo` (large waveforms only). */
  mix: 'realistic' | 'jumbo';
  sizeMb: number;
  /**
   * Record on free ports instead of 5064/5065, so other CA traffic on `lo` (tests, simulators) cannot end
   * up in the capture.
   */
  privatePorts?: boolean;
}

/** The CA ports a capture was recorded on (5064/5065 unless they were busy). */
export interface CapturePorts {
  serverPort: number;
  repeaterPort: number;
}

/** A capture ready to decode. */
export interface Capture {
  label: string;
  /** The recorded mix, or undefined for a capture given by path. */
  mix?: CaptureSpec['mix'];
  file: string;
  bytes: number;
  ports: CapturePorts;
}

/** Recordings of one capture before one with kernel drops is kept. */
const RECORD_ATTEMPTS = 2;

const STANDARD_PORTS: CapturePorts = { serverPort: 5064, repeaterPort: 5065 };

/** File name of a cached capture: mix, size and a digest of the parameters and the recording script. */
export function cacheName(spec: CaptureSpec, scriptText: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(spec))
    .update('\0')
    .update(scriptText)
    .digest('hex')
    .slice(0, 12);
  return `${spec.mix}-${spec.sizeMb}mb${spec.privatePorts ? '-private' : ''}-${digest}.pcap`;
}

/** Why this process cannot record a capture, or undefined when it can. */
export function recordingBlocker(): string | undefined {
  if (spawnSync('bash', ['-c', 'command -v tcpdump'], { stdio: 'ignore' }).status !== 0) {
    return 'tcpdump is not installed (apt-get install tcpdump)';
  }
  if (process.getuid?.() !== 0) return 'recording on lo needs root (or tcpdump with CAP_NET_RAW): run as root';
  return undefined;
}

/**
 * Returns the cached capture for `spec`, recording it first (bounded by `timeoutMs`) when there is none.
 * Recording writes to a temporary name and renames it into place, so an interrupted run leaves no
 * half capture behind.
 */
export async function ensureCapture(
  spec: CaptureSpec,
  options: { root: string; cacheDir: string; timeoutMs: number; log: (line: string) => void },
): Promise<Capture> {
  const script = join(options.root, 'scripts', 'make-capture.sh');
  const file = join(options.cacheDir, cacheName(spec, readFileSync(script, 'utf8')));
  const meta = `${file}.json`;
  const label = `${spec.mix} ${spec.sizeMb} MB${spec.privatePorts ? ' (private ports)' : ''}`;
  if (existsSync(file) && existsSync(meta)) {
    options.log(`using cached ${label} capture ${file}`);
    return {
      label,
      mix: spec.mix,
      file,
      bytes: statSync(file).size,
      ports: JSON.parse(readFileSync(meta, 'utf8')) as CapturePorts,
    };
  }
  const blocker = recordingBlocker();
  if (blocker !== undefined) throw new Error(`cannot record the ${label} capture: ${blocker}`);
  mkdirSync(options.cacheDir, { recursive: true });
  const partial = `${file}.partial`;
  options.log(`recording the ${label} capture with scripts/make-capture.sh (about 2.5 MB/s) ...`);
  let output = '';
  // A capture where tcpdump dropped packets has gaps (Malformed records): record once more, then keep it.
  for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt++) {
    rmSync(partial, { force: true });
    const portArgs = spec.privatePorts
      ? ['--port', String(await freePort()), '--beacon-port', String(await freePort())]
      : [];
    output = await runScript(script, [String(spec.sizeMb), partial, `--${spec.mix}`, ...portArgs], options.timeoutMs);
    if (!existsSync(partial) || statSync(partial).size < spec.sizeMb * 1048576) {
      rmSync(partial, { force: true });
      throw new Error(`make-capture.sh did not record ${label}: ${output.trim().split('\n').slice(-3).join(' / ')}`);
    }
    const dropped = droppedFromScriptOutput(output);
    if (dropped === 0) break;
    options.log(
      `tcpdump dropped ${dropped} packets while recording ${label}${attempt < RECORD_ATTEMPTS ? ': recording again' : ': keeping it anyway'}`,
    );
  }
  const ports = portsFromScriptOutput(output);
  renameSync(partial, file);
  writeFileSync(meta, `${JSON.stringify(ports)}\n`);
  // Captures of the same mix and size recorded by an older script are stale: do not let them pile up.
  const stem = cacheName(spec, '').replace(/[0-9a-f]{12}\.pcap$/, '');
  for (const name of readdirSync(options.cacheDir)) {
    if (sameStem(name, stem) && !file.endsWith(name) && !meta.endsWith(name))
      rmSync(join(options.cacheDir, name), { force: true });
  }
  return { label, mix: spec.mix, file, bytes: statSync(file).size, ports };
}

/** Whether `name` is a cached capture (or its metadata) of the mix and size that `stem` names. */
export function sameStem(name: string, stem: string): boolean {
  return name.startsWith(stem) && /^[0-9a-f]{12}\.pcap(\.json)?$/.test(name.slice(stem.length));
}

/** The ports make-capture.sh reports ("CA on UDP/TCP port P, beacons to B"). */
export function portsFromScriptOutput(output: string): CapturePorts {
  const m = /CA on UDP\/TCP port (\d+), beacons to (\d+)/.exec(output);
  return m === null ? STANDARD_PORTS : { serverPort: Number(m[1]), repeaterPort: Number(m[2]) };
}

/** Packets tcpdump dropped while make-capture.sh recorded (its warning line), 0 when it did not say. */
export function droppedFromScriptOutput(output: string): number {
  const m = /tcpdump dropped (\d+) packets/.exec(output);
  return m === null ? 0 : Number(m[1]);
}

/** The mix a cached capture's file name ({@link cacheName}) says it holds, or undefined for other names. */
export function mixOfName(name: string): CaptureSpec['mix'] | undefined {
  const m = /^(realistic|jumbo)-\d+mb-[0-9a-f]{12}\.pcap$/.exec(name);
  return m === null ? undefined : (m[1] as CaptureSpec['mix']);
}

/**
 * A capture given by path (CA_SHARK_BENCH_CAPTURE), assumed on the standard ports. A cached capture's
 * name keeps its mix, so two sizes of one mix given by path still get the steady-state table.
 */
export function givenCapture(file: string): Capture {
  const name = basename(file);
  const mix = mixOfName(name);
  return {
    label: name,
    ...(mix === undefined ? {} : { mix }),
    file,
    bytes: statSync(file).size,
    ports: STANDARD_PORTS,
  };
}

async function runScript(script: string, args: string[], timeoutMs: number): Promise<string> {
  // `timeout` ends the script (whose EXIT trap stops tcpdump, the IOC and the loads) if it hangs.
  const child = spawn('timeout', ['--kill-after=10', String(Math.ceil(timeoutMs / 1000)), script, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = trackGroup(child.pid);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  release();
  return out;
}

/** Classic pcap magic numbers (microsecond and nanosecond), as read little-endian. */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const PCAP_FILE_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;
/** Offsets in a pcap record header. */
const RECORD_INCL_LEN = 8;
const RECORD_ORIG_LEN = 12;
const RECORD_TS_SEC = 0;
const RECORD_TS_FRACTION = 4;
/** Frames longer than this do not fit the old 65,535-byte default snaplen. */
export const OLD_SNAPLEN = 65535;

/** Frame counts of a classic pcap file, from its record headers only. */
export interface FrameCensus {
  frames: number;
  /** Frames longer than {@link OLD_SNAPLEN} on the wire (jumbo loopback segments). */
  jumbo: number;
  maxFrameBytes: number;
  /** Bytes of the frames as kept in the file (what tcpreplay sends). */
  frameBytes: number;
  /** Timestamps of the first and last frame, Unix seconds (0 for an empty file). */
  firstS: number;
  lastS: number;
}

/** Counts the frames of a classic pcap file; undefined for pcapng or anything else. */
export function frameCensus(file: string): FrameCensus | undefined {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(PCAP_FILE_HEADER_BYTES);
    if (readSync(fd, head, 0, head.length, 0) < head.length) return undefined;
    const magic = head.readUInt32LE(0);
    let little: boolean;
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) little = true;
    else if (magic === PCAP_MAGIC_US_SWAPPED || magic === PCAP_MAGIC_NS_SWAPPED) little = false;
    else return undefined;
    const fractionPerSecond = magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED ? 1e9 : 1e6;
    const census: FrameCensus = { frames: 0, jumbo: 0, maxFrameBytes: 0, frameBytes: 0, firstS: 0, lastS: 0 };
    const record = Buffer.alloc(PCAP_RECORD_HEADER_BYTES);
    let offset = PCAP_FILE_HEADER_BYTES;
    while (readSync(fd, record, 0, record.length, offset) === record.length) {
      const incl = little ? record.readUInt32LE(RECORD_INCL_LEN) : record.readUInt32BE(RECORD_INCL_LEN);
      const orig = little ? record.readUInt32LE(RECORD_ORIG_LEN) : record.readUInt32BE(RECORD_ORIG_LEN);
      const u32 = (at: number): number => (little ? record.readUInt32LE(at) : record.readUInt32BE(at));
      const ts = u32(RECORD_TS_SEC) + u32(RECORD_TS_FRACTION) / fractionPerSecond;
      if (census.frames === 0) census.firstS = ts;
      census.lastS = ts;
      census.frames += 1;
      census.frameBytes += incl;
      if (orig > OLD_SNAPLEN) census.jumbo += 1;
      if (orig > census.maxFrameBytes) census.maxFrameBytes = orig;
      offset += PCAP_RECORD_HEADER_BYTES + incl;
    }
    return census;
  } finally {
    closeSync(fd);
  }
}
