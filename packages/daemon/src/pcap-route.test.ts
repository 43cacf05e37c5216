import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FilterSpec, compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { CaptureReader, LINKTYPE, PcapWriter, PcapngChunks, TcpConversation } from '@ca-shark/packet';
import { DbrType, build } from '@ca-shark/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PCAPNG_MEDIA_TYPE, pcapRequest } from './pcap-route.js';
import type { RunningDaemon } from './server.js';
import { startTestDaemon } from './test-support/daemon.js';

const FIXTURE = fileURLToPath(new URL('../../packet/fixtures/catest.pcap', import.meta.url));

async function decode(bytes: Uint8Array): Promise<CaRecord[]> {
  const out: CaRecord[] = [];
  for await (const r of shark(bytes)) out.push(r);
  return out;
}

/**
 * What a message is, wherever it was decoded: frame numbers differ between the capture and the export, and
 * so may the PV of a message whose channel creation the export left out (a filter by command only).
 */
const key = (r: CaRecord): string =>
  `${Math.round(r.timestamp * 1e6)} ${r.src}:${r.transport.sport} ${r.command.name} ${r.size}`;

/** Capture times (µs) of the packets of a capture, in order. */
function packetTimes(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const reader = new CaptureReader({ frame: (f) => out.push(Math.round(f.timestamp * 1e6)), problem: () => {} });
  reader.push(bytes);
  reader.end();
  return out;
}

let input: CaRecord[] = [];
beforeAll(async () => {
  input = await decode(readFileSync(FIXTURE));
});

let daemon: RunningDaemon | undefined;
afterEach(async () => {
  await daemon?.shutdown('test done');
  daemon = undefined;
});

async function replayed(extra: string[] = []): Promise<RunningDaemon> {
  daemon = await startTestDaemon(['-r', FIXTURE, '--speed', 'max', ...extra]);
  await daemon.engine.whenEnded();
  return daemon;
}

/**
 * One circuit with two channels, `keep:a` and `skip:b`. Every reply of `skip:b` is a 1000-element waveform
 * split over two server segments, and the reply of `keep:a` shares one of them: after the waveform's tail,
 * or before its head (cut inside the header, after it, or deep in the payload). Exporting `keep:a` takes
 * those shared segments, so holes fall inside waveforms unless the export takes them whole.
 */
function interleavedCapture(): Uint8Array {
  const w = new PcapWriter();
  const c = new TcpConversation(w, '10.0.0.1', 40001, '10.0.0.2', 5064);
  let step = 0;
  const tick = (): number => 1_700_000_000 + ++step / 1000;
  const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
  c.open(tick());
  c.send(tick(), true, concat(build.versionRequest(), build.hostNameRequest({ name: 'h' })));
  c.send(tick(), false, build.versionResponse());
  const a = { name: 'keep:a', cid: 1, sid: 101, type: DbrType.DOUBLE, count: 1 };
  const b = { name: 'skip:b', cid: 2, sid: 102, type: DbrType.DOUBLE, count: 1000 };
  for (const ch of [a, b]) c.send(tick(), true, build.createChanRequest({ name: ch.name, cid: ch.cid }));
  for (const ch of [a, b])
    c.send(
      tick(),
      false,
      concat(
        build.accessRightsResponse({ cid: ch.cid, access_rights: 3 }),
        build.createChanResponse({ data_type: ch.type, data_count: ch.count, cid: ch.cid, sid: ch.sid }),
      ),
    );
  // Where each waveform is split: inside its header, right after it, inside the payload.
  for (const [i, cut] of [8, 3000, 16, 2000, 40, 7000].entries()) {
    const [ioB, ioA] = [2 * i + 1, 2 * i + 2];
    const asks = [
      build.readNotifyRequest({ data_type: b.type, data_count: b.count, sid: b.sid, ioid: ioB }),
      build.readNotifyRequest({ data_type: a.type, sid: a.sid, ioid: ioA }),
    ];
    c.send(tick(), true, concat(...asks));
    const wave = build.readNotifyResponse({ data_type: b.type, data: new Array<number>(b.count).fill(i), ioid: ioB });
    const small = build.readNotifyResponse({ data_type: a.type, data: [i + 0.5], ioid: ioA });
    const [head, tail] = [wave.subarray(0, cut), wave.subarray(cut)];
    const segments = i % 2 === 0 ? [concat(small, head), tail] : [head, concat(tail, small)];
    for (const segment of segments) c.send(tick(), false, segment);
  }
  return w.bytes();
}

describe('GET /api/pcap', { timeout: 60_000 }, () => {
  it('streams the packets of exactly the matching messages, per filter and time range', async () => {
    const d = await replayed();
    // `decodes`: the export holds whole conversations, so ca-shark decodes it as the capture. A filter by
    // command alone leaves out the handshakes and channel creations, and the packets of other messages
    // between the kept ones: ca-shark then guesses directions and resynchronises after each hole.
    const cases: { query: string; filter: FilterSpec; since?: number; until?: number; decodes?: boolean }[] = [
      { query: '', filter: {}, decodes: true },
      { query: 'pv=test:wf', filter: { pv: ['test:wf'] }, decodes: true },
      { query: 'pv=test:cnt&pv=test:wf.NORD', filter: { pv: ['test:cnt', 'test:wf.NORD'] }, decodes: true },
      { query: 'command=search', filter: { command: ['search'] }, decodes: true },
      {
        query: 'host=127.0.0.0/8&command=ReadNotify,EventAdd',
        filter: { host: ['127.0.0.0/8'], command: ['ReadNotify,EventAdd'] },
      },
      { query: 'errors=1', filter: { errors: true } },
    ];
    const times = input.map((r) => r.timestamp);
    const middle = times[Math.floor(times.length / 2)];
    cases.push({ query: `pv=test:*&since=${middle}`, filter: { pv: ['test:*'] }, since: middle });
    cases.push({ query: `until=${middle}`, filter: {}, until: middle, decodes: true });
    for (const c of cases) {
      const res = await d.app.inject(`/api/pcap?${c.query}`);
      expect(res.statusCode, c.query).toBe(200);
      expect(res.headers['content-type']).toBe(PCAPNG_MEDIA_TYPE);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="ca-shark-\d{8}T\d{6}Z\.pcapng"$/);
      const test = compileFilter(c.filter);
      const inRange = (r: CaRecord): boolean =>
        test(r) &&
        (c.since === undefined || r.timestamp >= c.since) &&
        (c.until === undefined || r.timestamp <= c.until);
      const wanted = input.filter(inRange).map(key);
      // Exactly the packets of the matching messages (each message of this capture is in one packet).
      const times = new Set(input.filter(inRange).map((r) => Math.round(r.timestamp * 1e6)));
      expect(packetTimes(res.rawPayload), c.query).toEqual([...times].sort((a, b) => a - b));
      if (c.decodes !== true) continue;
      expect(wanted.length, c.query).toBeGreaterThan(0);
      // The export holds every matching message, and no packet that carries none of them.
      const back = await decode(res.rawPayload);
      // Filtered again without the PV criterion's help where the export cannot name PVs (see key).
      const again = c.filter.pv === undefined ? compileFilter({ ...c.filter, pv: [] }) : test;
      const backInRange = (r: CaRecord): boolean =>
        again(r) &&
        (c.since === undefined || r.timestamp >= c.since) &&
        (c.until === undefined || r.timestamp <= c.until);
      expect(back.filter(backInRange).map(key), c.query).toEqual(wanted);
      const packets = new Set(back.map((r) => r.frame));
      const carrying = new Set(back.filter(backInRange).map((r) => r.frame));
      expect(
        [...packets].filter((f) => !carrying.has(f)),
        c.query,
      ).toEqual([]);
    }
  });

  it('takes whole the messages left out that share a packet with a kept one, so a reader stays in step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-spanning-'));
    try {
      const path = join(dir, 'interleaved.pcap');
      writeFileSync(path, interleavedCapture());
      const original = (await decode(readFileSync(path))).filter((r) => r.pv === 'keep:a');
      // The channel's creation and its six reads, each a request and a reply.
      expect(original).toHaveLength(3 + 6 * 2);
      daemon = await startTestDaemon(['-r', path, '--speed', 'max']);
      await daemon.engine.whenEnded();
      const res = await daemon.app.inject('/api/pcap?pv=keep:a');
      expect(res.statusCode).toBe(200);
      const back = await decode(res.rawPayload);
      // Before: the export held the shared segments only, each with part of a waveform, and the reader
      // hunted for a header in the middle of one (Malformed records, replies lost).
      expect(back.filter((r) => r.command.name === 'Malformed')).toEqual([]);
      expect(back.filter((r) => r.pv === 'keep:a').map(key)).toEqual(original.map(key));
      // The six waveforms, which share a packet with a kept reply, came whole (no PV: their channel's
      // creation was left out).
      const waveforms = back.filter((r) => r.command.name === 'ReadNotifyResponse' && r.pv !== 'keep:a');
      expect(waveforms.map((r) => r.size)).toEqual(new Array<number>(6).fill(16 + 8000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 400 for a bad filter or range, and keeps the security rules of data routes', async () => {
    const d = await replayed(['--token', 'sesame']);
    const bad = await d.app.inject('/api/pcap?pv=%5B&token=sesame');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: expect.stringMatching(/unclosed/) });
    expect((await d.app.inject('/api/pcap?since=5&until=1&token=sesame')).statusCode).toBe(400);
    expect((await d.app.inject('/api/pcap?command=nonsense&token=sesame')).statusCode).toBe(400);
    expect((await d.app.inject('/api/pcap')).statusCode).toBe(401);
    const foreign = await d.app.inject({
      url: '/api/pcap?token=sesame',
      headers: { origin: 'https://evil.example', host: '127.0.0.1' },
    });
    expect(foreign.statusCode).toBe(403);
    expect((await d.app.inject('/api/pcap?token=sesame')).statusCode).toBe(200);
  });

  it('keeps each capture interface of a replayed pcapng its own, alike or not', async () => {
    // catest.pcap rewritten as two Ethernet interfaces of one description: UDP on interface 1, TCP on 0.
    const IP_PROTOCOL = 14 + 9;
    const UDP = 17;
    const file = new PcapngChunks('ca-shark test');
    const tcpIface = file.writer.addInterface({ linktype: LINKTYPE.ETHERNET, snaplen: 65535 });
    const udpIface = file.writer.addInterface({ linktype: LINKTYPE.ETHERNET, snaplen: 65535 });
    const ifaceAt = new Map<number, number>();
    const reader = new CaptureReader({
      frame: (f) => {
        const id = f.data[IP_PROTOCOL] === UDP ? udpIface : tcpIface;
        ifaceAt.set(Math.round(f.timestamp * 1e6), id);
        file.packet(id, f.timestamp, f.data, f.origlen);
      },
      problem: () => {},
    });
    reader.push(readFileSync(FIXTURE));
    reader.end();
    expect(new Set(ifaceAt.values()).size).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-ifaces-'));
    try {
      const path = join(dir, 'two-interfaces.pcapng');
      writeFileSync(path, file.take());
      daemon = await startTestDaemon(['-r', path, '--speed', 'max']);
      await daemon.engine.whenEnded();
      const res = await daemon.app.inject('/api/pcap');
      expect(res.statusCode).toBe(200);
      const interfaces: number[] = [];
      const frames: [number, number][] = [];
      const back = new CaptureReader({
        interface: (i) => interfaces.push(i.linktype),
        frame: (f) => frames.push([Math.round(f.timestamp * 1e6), f.interfaceId]),
        problem: () => {},
      });
      back.push(res.rawPayload);
      back.end();
      expect(interfaces).toEqual([LINKTYPE.ETHERNET, LINKTYPE.ETHERNET]);
      expect(frames.length).toBeGreaterThan(50);
      // The export numbers interfaces in order of first use: the same split, whichever comes first.
      const mapping = new Map<number, number>();
      for (const [t, id] of frames) {
        const original = ifaceAt.get(t) as number;
        if (!mapping.has(original)) mapping.set(original, id);
        expect(mapping.get(original), `frame at ${t}`).toBe(id);
      }
      expect(new Set(mapping.values()).size).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a replayed file's packets back from the file, and answers 409 once the file changed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-changed-'));
    try {
      const path = join(dir, 'replayed.pcap');
      writeFileSync(path, readFileSync(FIXTURE));
      daemon = await startTestDaemon(['-r', path, '--speed', 'max']);
      await daemon.engine.whenEnded();
      // The ring keeps places in the file: it asked for no block of memory.
      expect(daemon.engine.ringBlocksGiven).toBe(0);
      const res = await daemon.app.inject('/api/pcap?pv=test:wf');
      expect(res.statusCode).toBe(200);
      expect((await decode(res.rawPayload)).filter((r) => r.pv === 'test:wf').map(key)).toEqual(
        input.filter((r) => r.pv === 'test:wf').map(key),
      );
      truncateSync(path, 4096);
      const changed = await daemon.app.inject('/api/pcap?pv=test:wf');
      expect(changed.statusCode).toBe(409);
      expect(changed.json().error).toBe(
        `${path} changed since it was replayed (its size went from ${readFileSync(FIXTURE).length} to 4096 bytes): its packets can no longer be exported`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves a stdin daemon's packets from its spool on disk, byte for byte as -r serves them, and from memory without one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-spool-dir-'));
    const queries = ['', 'pv=test:wf', 'command=ReadNotify,EventAdd'];
    try {
      for (const name of ['catest.pcap', 'ca_monitor.pcapng']) {
        const path = fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));
        daemon = await startTestDaemon(['-r', path, '--speed', 'max']);
        await daemon.engine.whenEnded();
        const wanted: Buffer[] = [];
        for (const q of queries) wanted.push((await daemon.app.inject(`/api/pcap?${q}`)).rawPayload);
        await daemon.shutdown('next');
        for (const spool of [dir, join(dir, 'missing'), 'none']) {
          const stdin = Readable.from([readFileSync(path)]);
          daemon = await startTestDaemon(['--stdin', '--spool-dir', spool], { input: stdin });
          // The spool has no name: nothing in its directory, even while the daemon runs.
          expect(readdirSync(dir)).toEqual([]);
          await daemon.engine.whenEnded();
          const spooled = spool === dir;
          expect(daemon.source.spool !== undefined, `${name} ${spool}`).toBe(spooled);
          // A spool that could not be made is said in the stats (the page flags it), one that was not asked is not.
          const status = daemon.engine.stats().spool;
          if (spool === 'none') expect(status).toBeUndefined();
          else if (!spooled)
            expect(status).toMatchObject({
              dir: spool,
              bytesWritten: 0,
              unmade: true,
              stopped: expect.stringMatching(/ENOENT/),
            });
          else expect(status).toMatchObject({ dir, stopped: null });
          if (status !== undefined && spooled) expect(status.unmade).toBeUndefined();
          // Memory: the capture thread hands the ring blocks; a spool: none.
          expect(daemon.engine.ringBlocksGiven > 0, `${name} ${spool}`).toBe(!spooled);
          for (const [i, q] of queries.entries()) {
            const res = await daemon.app.inject(`/api/pcap?${q}`);
            expect(res.statusCode).toBe(200);
            expect(Buffer.compare(res.rawPayload, wanted[i]), `${name} ${spool} ${q}`).toBe(0);
          }
          const fd = daemon.source.spool?.fd;
          // A file with no name, on Linux: the descriptor's link says it was deleted.
          const link = (): string => (fd === undefined ? '' : readlinkSync(`/proc/self/fd/${fd}`, 'utf8'));
          if (fd !== undefined && process.platform === 'linux') expect(link()).toMatch(/ca-sharkd-spool.*\(deleted\)$/);
          await daemon.shutdown('next');
          daemon = undefined;
          // Closed once the worker is gone: its disk is freed (the number may name another file since).
          if (fd !== undefined && process.platform === 'linux') {
            let now = '';
            try {
              now = link();
            } catch {
              // Not open any more.
            }
            expect(now).not.toMatch(/ca-sharkd-spool/);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is off with --packet-ring 0', async () => {
    const d = await replayed(['--packet-ring', '0']);
    const res = await d.app.inject('/api/pcap');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatch(/--packet-ring 0/);
  });

  it('reads repeated and comma criteria like the WebSocket filter', () => {
    expect(pcapRequest({ pv: ['b', 'a', 'a'], command: 'Search,read', errors: '1', since: 1 })).toEqual({
      filter: { pv: ['a', 'b'], command: ['read', 'search'], errors: true },
      since: 1,
    });
    expect(pcapRequest({})).toEqual({});
  });
});
