import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { parseCommandLine } from './cli.js';
import { startDaemon } from './server.js';
import { TestClient, freeTcpPort, startTestDaemon } from './test-support/daemon.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));

let daemon: RunningDaemon | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await daemon?.shutdown('test done');
  daemon = undefined;
});

async function client(d: RunningDaemon): Promise<TestClient> {
  const c = await TestClient.open(d.url);
  clients.push(c);
  await c.until('hello', () => c.frames.find((f) => f.type === 'hello'));
  return c;
}

describe('stdin ingest', { timeout: 60_000 }, () => {
  it('decodes a capture written to stdin in small pieces, live, and keeps serving after EOF', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const c = await client(daemon);
    expect(c.frames[0]).toMatchObject({ type: 'hello', source: { kind: 'stdin' } });
    const bytes = readFileSync(fixture('ca_monitor2.pcapng'));
    // Half the capture first: records must flow before EOF.
    const half = Math.floor(bytes.length / 2);
    for (let off = 0; off < half; off += 100) input.write(bytes.subarray(off, Math.min(off + 100, half)));
    await c.until('records before EOF', () => c.records().length > 0);
    expect(daemon.engine.eof).toBe(false);
    input.end(bytes.subarray(half));
    await c.until('every record', () => c.records().length === 33);
    const updates = c.records().filter((r) => r.cmd === 'EventAddResponse');
    expect(updates).toHaveLength(14);
    expect(new Set(updates.map((r) => r.pv))).toEqual(new Set(['T1:cnt', 'T2:cnt']));
    // The stream carries the compact live form; ids are the daemon's record sequence.
    expect(Object.keys(updates[0]).sort()).toEqual(
      ['cmd', 'dst', 'error', 'frame', 'id', 'latency', 'proto', 'pv', 'size', 'src', 'status', 'summary', 't'].sort(),
    );
    expect(c.records().map((r) => r.id)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(updates[0]).toMatchObject({ proto: 'tcp', error: false, status: null, size: expect.any(Number) });
    expect(updates[0].src).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
    expect(typeof updates[0].summary).toBe('string');
    // The full record, raw bytes as hex for the dashboard's hex dump, is fetched by id.
    const full = (await daemon.app.inject(`/api/record/${updates[0].id as number}`)).json();
    expect(full).toMatchObject({ id: updates[0].id, frame: updates[0].frame, pv: updates[0].pv });
    expect(full.command.name).toBe('EventAddResponse');
    expect(full.raw).toMatch(/^[0-9a-f]+$/);
    expect(full.raw.length / 2).toBe(updates[0].size);
    expect((await daemon.app.inject('/api/record/1000')).statusCode).toBe(404);

    const d = daemon;
    await c.until('eof', () => d.engine.eof);
    const health = (await daemon.app.inject('/api/health')).json();
    expect(health).toMatchObject({ status: 'ok', eof: true, source: { kind: 'stdin', linktype: 113 } });
    const stats = (await daemon.app.inject('/api/stats')).json();
    expect(stats).toMatchObject({ packets: 29, messages: 33, malformed: 0 });
    expect(stats.perCommand.EventAddResponse).toBe(14);
    const snap = await c.until('snapshot after EOF', () =>
      c.frames.find((f) => f.type === 'snapshot' && (f.stats as { messages: number }).messages === 33),
    );
    const channels = snap.channels as { pv: string; state: string }[];
    expect(channels.map((ch) => ch.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    const searches = (await daemon.app.inject('/api/searches')).json() as { pv: string; answered: boolean }[];
    expect(searches.map((s) => s.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    expect(searches.every((s) => s.answered)).toBe(true);
    const report = (await daemon.app.inject('/api/report?section=monitors')).json();
    expect(report.summary.records).toBe(33);
    // monitor_load has rows per PV, per subscription and per circuit: the PVs named are the two monitored.
    const monitored = new Set(
      (report.monitor_load as { pv?: string | null }[]).map((m) => m.pv).filter((pv) => typeof pv === 'string'),
    );
    expect(monitored).toEqual(new Set(['T1:cnt', 'T2:cnt']));
    const metrics = (await daemon.app.inject('/metrics')).body;
    expect(metrics).toContain('ca_sharkd_messages_total{command="EventAddResponse"} 14');
  });

  it('applies a subscription to the stream: only matching PVs and commands arrive', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const c = await client(daemon);
    c.send({ type: 'subscribe', filter: { pv: ['T2:*'], command: ['monitor'] } });
    await c.until('subscribed', () => c.frames.find((f) => f.type === 'subscribed'));
    input.end(readFileSync(fixture('ca_monitor2.pcapng')));
    await c.until('eof', () => daemon?.engine.eof);
    await c.until('T2 updates', () => c.records().filter((r) => r.cmd === 'EventAddResponse').length >= 1);
    // One more tick so nothing is still queued.
    await new Promise((r) => setTimeout(r, 100));
    const records = c.records();
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) {
      expect(r.pv).toBe('T2:cnt');
      expect(['EventAddRequest', 'EventAddResponse']).toContain(r.cmd);
    }
  });
});

describe('file replay', { timeout: 60_000 }, () => {
  it('replays a file at max speed and serves the final state', async () => {
    daemon = await startTestDaemon(['-r', fixture('catest.pcap'), '--speed', 'max']);
    const d = daemon;
    const c = await client(d);
    await c.until('eof', () => d.engine.eof);
    const stats = (await d.app.inject('/api/stats')).json();
    expect(stats.packets).toBe(167);
    expect(stats.messages).toBeGreaterThanOrEqual(148);
    expect((await d.app.inject('/api/health')).json()).toMatchObject({
      eof: true,
      source: { kind: 'file', speed: 'max' },
    });
  });
});

describe('serving', { timeout: 60_000 }, () => {
  it('refuses a WebSocket from a foreign Origin on the real port, accepts its own', async () => {
    daemon = await startTestDaemon(['--stdin'], { input: new PassThrough() });
    const host = new URL(daemon.url).host;
    await expect(TestClient.open(daemon.url, { origin: 'https://evil.example' })).rejects.toThrow(/HTTP 403/);
    const own = await TestClient.open(daemon.url, { origin: `http://${host}` });
    clients.push(own);
    await own.until('hello', () => own.frames.find((f) => f.type === 'hello'));
  });

  it('warns when it listens beyond loopback', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const port = await freeTcpPort();
    const config = parseCommandLine(['--stdin', '--listen', `0.0.0.0:${port}`], {});
    daemon = await startDaemon(config, pino({ level: 'warn' }, sink), { input: new PassThrough() });
    const warning = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; host?: string })
      .find((l) => l.host === '0.0.0.0');
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/captured traffic is sensitive/);
  });
});
