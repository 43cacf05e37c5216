/**
 * Live capture on the loopback interface. Needs root (or CAP_NET_RAW); CI runs as root. Traffic goes only to
 * 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BadFilterError,
  CaptureError,
  type Frame,
  type LiveCapture,
  NoSuchInterfaceError,
  listInterfaces,
  openLive,
} from './index.js';
import { readPcapFile } from './test-support/pcap-file.js';
import { haveTcpdump, startTcpdump } from './test-support/tcpdump.js';

const IS_ROOT = process.getuid?.() === 0;
const HAVE_TCPDUMP = haveTcpdump();
if (!IS_ROOT) {
  console.warn('capture: live-capture tests skipped: they need root (run `sudo npx vitest run --project capture`)');
} else if (!HAVE_TCPDUMP) {
  console.warn('capture: tcpdump comparison skipped: tcpdump is not installed (apt-get install tcpdump)');
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const ETH_HEADER_LEN = 14;
const ETH_TYPE_OFFSET = 12;
const ETHERTYPE_IPV4 = 0x0800;
const IPV4_IHL_MASK = 0x0f;
const IPV4_PROTOCOL_OFFSET = 9;
const IPPROTO_UDP = 17;
const UDP_DST_PORT_OFFSET = 2;
const UDP_HEADER_LEN = 8;
const PACKETS = 20;
/** 65,535 minus the IPv4 and UDP headers. */
const MAX_UDP_PAYLOAD = 65_507;
const PAYLOAD_PREFIX = 'ca-shark capture test #';

interface Udp {
  dstPort: number;
  payload: string;
}

/** Picks the UDP datagram out of an Ethernet frame (what `lo` gives), or undefined. */
function udpOfEthernet(bytes: Uint8Array): Udp | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(ETH_TYPE_OFFSET) !== ETHERTYPE_IPV4) return undefined;
  const ihl = (bytes[ETH_HEADER_LEN] & IPV4_IHL_MASK) * 4;
  if (bytes[ETH_HEADER_LEN + IPV4_PROTOCOL_OFFSET] !== IPPROTO_UDP) return undefined;
  const udp = ETH_HEADER_LEN + ihl;
  return {
    dstPort: view.getUint16(udp + UDP_DST_PORT_OFFSET),
    payload: Buffer.from(bytes.subarray(udp + UDP_HEADER_LEN)).toString('latin1'),
  };
}

/** A UDP socket bound on 127.0.0.1 so datagrams to it are delivered rather than answered with ICMP. */
async function bindReceiver(): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', () => {});
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return sock;
}

async function sendAll(sock: dgram.Socket, port: number, payloads: readonly string[]): Promise<void> {
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) =>
      sock.send(Buffer.from(p, 'latin1'), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }
}

/** Resolves when `count` frames have been collected, or rejects after `ms` (a hang guard, not a timing check). */
function collect(capture: LiveCapture, count: number, ms = HANG_GUARD_MS): Promise<Frame[]> {
  const frames: Frame[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`captured ${frames.length} of ${count} frames`));
    }, ms);
    const off = capture.onFrame((f) => {
      frames.push(f);
      if (frames.length === count) {
        clearTimeout(timer);
        off();
        resolve(frames);
      }
    });
  });
}

const payloads = Array.from({ length: PACKETS }, (_, i) => `${PAYLOAD_PREFIX}${i} ${'x'.repeat(i * 7)}`);

// Generous hang guards: the suite starts tcpdump and child processes on a possibly busy 2-core CI machine.
const HANG_GUARD_MS = 15_000;

describe.skipIf(!IS_ROOT)('live capture on lo (root only)', { timeout: 30_000 }, () => {
  let receiver: dgram.Socket;
  let sender: dgram.Socket;
  let port: number;
  let tmp: string;
  const open: LiveCapture[] = [];

  beforeAll(async () => {
    receiver = await bindReceiver();
    port = receiver.address().port;
    sender = dgram.createSocket('udp4');
    tmp = mkdtempSync(join(tmpdir(), 'ca-shark-capture-'));
  });
  afterAll(() => {
    receiver.close();
    sender.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  function track(c: LiveCapture): LiveCapture {
    open.push(c);
    return c;
  }

  it('onFrameView hands out views of the one capture buffer, valid during the callback only', async () => {
    const copies: Uint8Array[] = [];
    const views: Uint8Array[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    const capture = track(
      openLive({
        iface: 'lo',
        filter: `udp and dst port ${port}`,
        // What a batching sink does: copy during the callback. The view itself is kept only to show reuse.
        onFrameView: (f) => {
          expect(f.caplen).toBe(f.bytes.length);
          copies.push(f.bytes.slice());
          views.push(f.bytes);
          if (copies.length === PACKETS) done();
        },
      }),
    );
    const owned = collect(capture, PACKETS);
    await sendAll(sender, port, payloads);
    await Promise.race([all, owned.then(() => all)]);
    // Copied in time, every frame is intact, and the copying listeners still get their own copies.
    expect(copies.map((b) => udpOfEthernet(b)?.payload)).toEqual(payloads);
    expect((await owned).map((f) => udpOfEthernet(f.bytes)?.payload)).toEqual(payloads);
    // No copy was made for the view listener: all views share one buffer, and later packets overwrote the first.
    expect(new Set(views.map((v) => v.buffer)).size).toBe(1);
    // A plain Uint8Array: its slice() copies (a Buffer's would alias the capture buffer).
    expect(Buffer.isBuffer(views[0])).toBe(false);
    expect(Buffer.from(views[0]).equals(copies[0])).toBe(false);
  });

  it('delivers each datagram as an Ethernet frame with its own copy of the bytes', async () => {
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}` }));
    expect(capture.linktype).toBe(LINKTYPE_ETHERNET);
    const got = collect(capture, PACKETS);
    await sendAll(sender, port, payloads);
    const frames = await got;
    // Frames are kept until all have arrived: had they shared the addon's buffer, all would show the last packet.
    expect(frames.map((f) => udpOfEthernet(f.bytes)?.payload)).toEqual(payloads);
    for (const f of frames) {
      expect(f.linktype).toBe(LINKTYPE_ETHERNET);
      expect(udpOfEthernet(f.bytes)?.dstPort).toBe(port);
      expect(f.caplen).toBe(f.bytes.length);
      expect(f.origlen).toBe(f.bytes.length);
      expect(f.timestamp).toBeCloseTo(f.tsSec + f.tsNsec / 1e9, 6);
    }
    // Kernel timestamps of successive packets on one interface never go backwards.
    for (let i = 1; i < frames.length; i++) {
      const prev = frames[i - 1];
      const cur = frames[i];
      expect(cur.tsSec * 1e9 + cur.tsNsec).toBeGreaterThanOrEqual(prev.tsSec * 1e9 + prev.tsNsec);
    }
  });

  it.skipIf(!HAVE_TCPDUMP)('stamps each packet with the same kernel timestamp tcpdump records', async () => {
    const filter = `udp and dst port ${port}`;
    const file = join(tmp, 'lo.pcap');
    const tcpdump = await startTcpdump('lo', filter, file, HANG_GUARD_MS);
    let frames: Frame[];
    let stopped = false;
    try {
      const capture = track(openLive({ iface: 'lo', filter }));
      expect(capture.timestampPrecision).toBe('nano');
      const got = collect(capture, PACKETS);
      await sendAll(sender, port, payloads);
      frames = await got;
      // tcpdump writes each packet as it reads it (-U); wait until it has them all before stopping it.
      try {
        await waitFor(() => pcapRecordCount(file) >= PACKETS, 'tcpdump to write the packets');
      } catch (err) {
        stopped = true;
        const said = await tcpdump.stop();
        throw new Error(`${(err as Error).message}: it wrote ${pcapRecordCount(file)} of ${PACKETS}; ${said}`, {
          cause: err,
        });
      }
    } finally {
      if (!stopped) await tcpdump.stop();
    }
    const pcap = readPcapFile(readFileSync(file));
    expect(pcap.nano).toBe(true);
    expect(pcap.linktype).toBe(LINKTYPE_ETHERNET);
    const theirs = new Map(pcap.records.map((r) => [udpOfEthernet(r.data)?.payload, r]));
    expect(theirs.size).toBe(PACKETS);
    for (const f of frames) {
      const payload = udpOfEthernet(f.bytes)?.payload;
      const r = theirs.get(payload);
      expect(r, `tcpdump has no packet with payload ${payload}`).toBeDefined();
      if (!r) continue;
      expect(Buffer.from(f.bytes).equals(Buffer.from(r.data))).toBe(true);
      expect(f.origlen).toBe(r.origlen);
      // Both read the stamp the kernel put on the packet; a stamp taken in JavaScript would be far off.
      const diffNs = (f.tsSec - r.tsSec) * 1e9 + (f.tsNsec - r.tsNsec);
      expect(Math.abs(diffNs)).toBeLessThanOrEqual(1000);
    }
  });

  it('counts received packets, and keeps the final counts after close', async () => {
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}` }));
    const before = capture.stats();
    const got = collect(capture, PACKETS);
    await sendAll(sender, port, payloads);
    await got;
    const after = capture.stats();
    // On lo libpcap's received count includes the outgoing copy of each packet (see docs/capture.md).
    expect(after.received - before.received).toBeGreaterThanOrEqual(PACKETS);
    expect(after.dropped).toBe(0);
    capture.close();
    expect(capture.closed).toBe(true);
    expect(capture.stats()).toEqual(capture.stats());
    expect(capture.stats().received).toBeGreaterThanOrEqual(after.received);
  });

  it('reports drops when the kernel buffer overflows', async () => {
    // A 1 MiB ring and a 5 MiB burst written to the kernel in one go, before the capture gets a turn of the
    // event loop: the kernel must drop, and stats() must say so.
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}`, bufferSize: 1024 * 1024 }));
    let seen = 0;
    capture.onFrame(() => {
      seen++;
    });
    const burst = 5000;
    const datagram = Buffer.alloc(1024, 0x41);
    for (let i = 0; i < burst; i++) sender.send(datagram, port, '127.0.0.1');
    await new Promise<void>((resolve) => sender.send(datagram, port, '127.0.0.1', () => resolve()));
    const stats = capture.stats();
    expect(stats.dropped).toBeGreaterThan(0);
    await waitFor(() => seen > 0, 'the frames the ring kept');
    expect(seen).toBeLessThan(burst + 1);
  });

  it('delivers in immediate mode too', async () => {
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}`, immediate: true }));
    const got = collect(capture, 3);
    await sendAll(sender, port, payloads.slice(0, 3));
    const frames = await got;
    expect(frames.map((f) => udpOfEthernet(f.bytes)?.payload)).toEqual(payloads.slice(0, 3));
  });

  it('iterates frames asynchronously and ends the iteration on close', async () => {
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}` }));
    const iterated: string[] = [];
    const loop = (async () => {
      for await (const f of capture) {
        iterated.push(udpOfEthernet(f.bytes)?.payload ?? '?');
        if (iterated.length === PACKETS) capture.close();
      }
    })();
    await sendAll(sender, port, payloads);
    await loop;
    expect(iterated).toEqual(payloads);
  });

  it('captures on "any" with the Linux cooked link type', async () => {
    const capture = track(openLive({ iface: 'any', filter: `udp and dst port ${port}` }));
    expect(capture.linktype).toBe(LINKTYPE_LINUX_SLL);
    const got = collect(capture, 1);
    await sendAll(sender, port, payloads.slice(0, 1));
    const [frame] = await got;
    expect(frame.linktype).toBe(LINKTYPE_LINUX_SLL);
    expect(Buffer.from(frame.bytes).includes(Buffer.from(payloads[0], 'latin1'))).toBe(true);
  });

  it('cuts packets at the snaplen and reports the length on the wire', async () => {
    const snaplen = 60;
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}`, snaplen }));
    const got = collect(capture, 1);
    const long = `${PAYLOAD_PREFIX}${'y'.repeat(200)}`;
    await sendAll(sender, port, [long]);
    const [frame] = await got;
    // libpcap on Linux may keep a little less than the snaplen (tcpdump -s 60 keeps 58 bytes on lo too).
    expect(frame.caplen).toBeLessThanOrEqual(snaplen);
    expect(frame.caplen).toBeGreaterThan(ETH_HEADER_LEN + 20 + UDP_HEADER_LEN);
    expect(frame.bytes.length).toBe(frame.caplen);
    expect(frame.origlen).toBe(ETH_HEADER_LEN + 20 + UDP_HEADER_LEN + long.length);
  });

  it('keeps a whole 64 KiB loopback packet by default (snaplen 262144, not 65535)', async () => {
    const capture = track(openLive({ iface: 'lo', filter: `udp and dst port ${port}` }));
    expect(capture.snaplen).toBe(262_144);
    const got = collect(capture, 1);
    // The largest UDP payload: a 65,535-byte IPv4 packet, a 65,549-byte frame with lo's Ethernet header.
    const largest = `${PAYLOAD_PREFIX}${'z'.repeat(MAX_UDP_PAYLOAD - PAYLOAD_PREFIX.length)}`;
    await sendAll(sender, port, [largest]);
    const [frame] = await got;
    expect(frame.origlen).toBe(ETH_HEADER_LEN + 20 + UDP_HEADER_LEN + MAX_UDP_PAYLOAD);
    expect(frame.origlen).toBeGreaterThan(65_535);
    expect(frame.caplen).toBe(frame.origlen);
  });

  it.skipIf(!canMakeVeth())('reports a capture whose interface is deleted, instead of crashing', async () => {
    // A throwaway veth pair: deleting it under a running capture used to abort the process (assertion in cap).
    const name = `cashk${process.pid % 100000}`;
    ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
    try {
      ip('link', 'set', name, 'up');
      const capture = track(openLive({ iface: name, filter: '' }));
      const failed = new Promise<CaptureError>((resolve) => capture.onError(resolve));
      const iteration = (async () => {
        for await (const _ of capture.frames()) {
          // no traffic expected
        }
      })();
      ip('link', 'del', name);
      const err = await failed;
      expect(err.code).toBe('CAPTURE_READ_FAILED');
      expect(err.message).toContain(`"${name}"`);
      expect(capture.closed).toBe(true);
      expect(capture.error).toBe(err);
      await expect(iteration).rejects.toBe(err);
      expect(() => capture.stats()).not.toThrow();
    } finally {
      spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
    }
  });

  it('names a missing interface, and lists the ones that exist', () => {
    const err = catchError(() => openLive({ iface: 'ca-shark-nope0' }));
    expect(err).toBeInstanceOf(NoSuchInterfaceError);
    expect((err as CaptureError).code).toBe('CAPTURE_NO_SUCH_INTERFACE');
    expect((err as CaptureError).message).toContain('"ca-shark-nope0"');
    expect((err as CaptureError).message).toMatch(/available: .*\blo\b/);
  });

  it('rejects a bad BPF expression with libpcap`s reason', () => {
    const err = catchError(() => openLive({ iface: 'lo', filter: 'udp and port' }));
    expect(err).toBeInstanceOf(BadFilterError);
    expect((err as BadFilterError).code).toBe('CAPTURE_BAD_FILTER');
    expect((err as BadFilterError).filter).toBe('udp and port');
    expect((err as BadFilterError).pcapMessage).toMatch(/syntax error/);
    expect((err as BadFilterError).message).toContain((err as BadFilterError).pcapMessage);
  });

  it('compiles the default CA filter', () => {
    const capture = track(openLive({ iface: 'lo' }));
    expect(capture.filter).toMatch(/5064/);
  });

  it('survives garbage collection of closed captures (stock cap segfaults here)', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', childScript('gc-churn.ts'), String(port)], {
      encoding: 'utf8',
      timeout: HANG_GUARD_MS,
    });
    expect(out.signal, out.stderr).toBeNull();
    expect(out.status, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as { rounds?: number; frames?: number };
    expect(result.rounds).toBe(10);
    expect(result.frames).toBeGreaterThan(0);
  });

  it.skipIf(spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0)(
    'explains sudo and setcap when the process lacks privileges',
    () => {
      const out = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          '--import',
          'tsx',
          childScript('open-unprivileged.ts'),
          'lo',
        ],
        { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() }, timeout: 20_000 },
      );
      expect(out.status, out.stderr).toBe(0);
      const result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(result).toMatchObject({
        opened: false,
        name: 'CapturePermissionError',
        code: 'CAPTURE_PERMISSION_DENIED',
      });
      expect(result.message).toContain('sudo');
      expect(result.message).toContain('setcap cap_net_raw,cap_net_admin+eip');
    },
  );
});

describe('listInterfaces', () => {
  it('includes the loopback interface with its address', () => {
    const lo = listInterfaces().find((i) => i.name === 'lo');
    expect(lo).toBeDefined();
    expect(lo?.loopback).toBe(true);
    expect(lo?.up).toBe(true);
    expect(lo?.addresses.map((a) => a.addr)).toContain('127.0.0.1');
  });
});

/** Records in a pcap file tcpdump is still writing; 0 while not even the file header is out. */
function pcapRecordCount(file: string): number {
  if (!existsSync(file)) return 0;
  const bytes = readFileSync(file);
  return bytes.length < 24 ? 0 : readPcapFile(bytes).records.length;
}

/** Path of a script in test-support, to run in a child node with `--import tsx`. */
function childScript(name: string): string {
  return fileURLToPath(new URL(`./test-support/${name}`, import.meta.url));
}

function ip(...args: string[]): void {
  const out = spawnSync('ip', args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ip ${args.join(' ')}: ${out.stderr}`);
}

/** Whether this machine lets us create (and delete) a veth pair: root with CAP_NET_ADMIN and iproute2. */
function canMakeVeth(): boolean {
  if (!IS_ROOT) return false;
  const name = `cashkp${process.pid % 100000}`;
  const made = spawnSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`], { stdio: 'ignore' });
  if (made.status !== 0) {
    console.warn('capture: interface-removal test skipped: cannot create a veth pair here');
    return false;
  }
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  return true;
}

/** Polls `cond` every 10 ms; rejects after `ms` (a hang guard, not a timing assertion). */
async function waitFor(cond: () => boolean, what: string, ms = HANG_GUARD_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
