import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FilterSpec, compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { CaptureReader, LINKTYPE, PcapngChunks } from '@ca-shark/packet';
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
