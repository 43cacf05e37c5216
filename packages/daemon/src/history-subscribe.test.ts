import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { type Frame, TestClient, startTestDaemon } from './test-support/daemon.js';

let daemon: RunningDaemon | undefined;
const clients: TestClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await daemon?.shutdown('test done');
  daemon = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000;

/** CA searches, one datagram per name, 1 ms apart in capture time. */
class SearchFeed {
  private readonly writer = new PcapWriter();
  t = T0;
  private cid = 0;
  /** Capture time of each name sent. */
  readonly times = new Map<string, number>();
  constructor(private readonly input?: PassThrough) {}
  send(names: readonly string[]): void {
    for (const name of names) {
      this.t += 1e-3;
      this.times.set(name, this.t);
      this.writer.udp(this.t, '10.0.0.5', 45555, '10.0.0.255', 5064, build.searchRequest({ name, cid: this.cid++ }));
    }
    if (this.input !== undefined) for (const part of this.writer.drain()) this.input.write(part);
  }
  bytes(): Uint8Array {
    return concatBytes(this.writer.drain());
  }
}

type Row = { id: number; pv: string; t: number };
const rowsOf = (frames: Frame[]): Row[] =>
  frames.filter((f) => f.type === 'records').flatMap((f) => f.records as Row[]);

/** What this process's descriptors are open on (Linux). */
function openFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed meanwhile (the directory's own descriptor).
    }
  }
  return out;
}

/**
 * Waits until the worker decoded `n` messages (its stats say so), for up to 40 s: a bound for a loaded
 * machine (10 s was before), within the tests' 60 s.
 */
async function everything(d: RunningDaemon, n: number): Promise<void> {
  for (let i = 0; i < 1600 && d.engine.stats().messages < n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(d.engine.stats().messages).toBeGreaterThanOrEqual(n);
}

describe('subscribe with since', { timeout: 60_000 }, () => {
  it('sends the held matching records first, flagged, then live ones, with no gap or duplicate at the seam', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    const feed = new SearchFeed(input);
    let n = 0;
    const batch = (): void => {
      feed.send([`A:${n}`, `B:${n}`]);
      n += 1;
    };
    for (let i = 0; i < 300; i++) batch();
    await everything(d, 600);
    // Traffic keeps flowing while the client subscribes: the seam falls somewhere in it.
    const pump = setInterval(batch, 2);
    try {
      const c = await TestClient.open(d.url);
      clients.push(c);
      c.send({ type: 'subscribe', filter: { pv: ['A:*'] }, since: 0 });
      await c.until('history and 100 live records', () => {
        const h = c.frames.findIndex((f) => f.type === 'history');
        return h >= 0 && rowsOf(c.frames.slice(h)).length >= 100;
      });
    } finally {
      clearInterval(pump);
    }
    const c = clients[clients.length - 1];
    // What the subscription sent: the frames after its acknowledgement. Until then the client received every
    // record, as every client does before it subscribes (hub.ts): on a loaded machine a tick could fall
    // between the connection and the subscribe message, and its live frame of A and B records came first.
    const subscribed = c.frames.findIndex((f) => f.type === 'subscribed');
    expect(subscribed).toBeGreaterThanOrEqual(0);
    const frames = c.frames.slice(subscribed + 1);
    const order = frames
      .map((f) => (f.type === 'records' ? (f.history === true ? 'H' : 'L') : f.type === 'history' ? 'h' : ''))
      .join('');
    // History frames, the summary, then live frames only.
    expect(order).toMatch(/^H+hL+$/);
    const summary = frames.find((f) => f.type === 'history') as Frame;
    const historyRows = rowsOf(frames.filter((f) => f.history === true));
    expect(summary).toMatchObject({ since: 0, sampling: false });
    expect(summary.matched).toBe(historyRows.length);
    expect(historyRows.length).toBeGreaterThanOrEqual(300);
    // Every A record, in order, exactly once, across the seam.
    const pvs = rowsOf(frames).map((r) => r.pv);
    expect(pvs).toEqual(pvs.map((_, i) => `A:${i}`));
    const ids = rowsOf(frames).map((r) => r.id);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
  });

  it('sends only records since the time asked, and a sample of at most the client budget', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    const feed = new SearchFeed(input);
    feed.send(Array.from({ length: 1000 }, (_, i) => `P:${i}`));
    await everything(d, 1000);
    const recent = await TestClient.open(d.url);
    clients.push(recent);
    const since = feed.times.get('P:900') as number;
    recent.send({ type: 'subscribe', filter: {}, since });
    await recent.until('history', () => recent.frames.some((f) => f.type === 'history'));
    expect(rowsOf(recent.frames).map((r) => r.pv)).toEqual(Array.from({ length: 100 }, (_, i) => `P:${900 + i}`));

    const sampled = await TestClient.open(d.url);
    clients.push(sampled);
    // 10 records a second for 5 s: a history of 50 at most.
    sampled.send({ type: 'rate', recordsPerSecond: 10 });
    sampled.send({ type: 'subscribe', filter: { pv: ['P:*'] }, since: 0 });
    await sampled.until('history', () => sampled.frames.some((f) => f.type === 'history'));
    const rows = rowsOf(sampled.frames);
    expect(rows).toHaveLength(50);
    expect(rows[0].pv).toBe('P:0');
    expect(rows[49].pv).toBe('P:999');
    const frames = sampled.frames.filter((f) => f.history === true);
    expect(frames.reduce((s, f) => s + (f.matched as number), 0)).toBe(1000);
    expect(sampled.frames.find((f) => f.type === 'history')).toMatchObject({ matched: 1000, sent: 50, sampling: true });
  });

  it('refuses a bad since and keeps the connection', async () => {
    daemon = await startTestDaemon(['--stdin'], { input: new PassThrough() });
    const c = await TestClient.open(daemon.url);
    clients.push(c);
    c.send({ type: 'subscribe', filter: {}, since: 'yesterday' });
    const error = await c.until('error', () => c.frames.find((f) => f.type === 'error'));
    expect(error.message).toMatch(/since must be a number/);
  });
});

describe('a replay that ended before the page opened', { timeout: 60_000 }, () => {
  it('holds its records for a late client and says when it finished and how many messages it had', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-history-'));
    dirs.push(dir);
    const feed = new SearchFeed();
    feed.send(Array.from({ length: 40 }, (_, i) => `R:${i}`));
    const file = join(dir, 'short.pcap');
    writeFileSync(file, feed.bytes());
    daemon = await startTestDaemon(['-r', file, '--speed', 'max']);
    const d = daemon;
    await d.engine.whenEnded();
    const answer = await fetch(`${d.url}/api/history`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ eof: true, messages: 40, newest: Math.floor(feed.t) });
    expect(typeof body.endedAt).toBe('number');
    expect((body.traffic as { messages: number[] }).messages.reduce((a, b) => a + b, 0)).toBe(40);

    const late = await TestClient.open(d.url);
    clients.push(late);
    late.send({ type: 'subscribe', filter: {}, since: 0 });
    await late.until('history', () => late.frames.some((f) => f.type === 'history'));
    expect(rowsOf(late.frames).map((r) => r.pv)).toEqual(Array.from({ length: 40 }, (_, i) => `R:${i}`));
  });

  it('answers from held records spooled to disk as from records in memory, and leaves nothing behind', async () => {
    // 40,000 records: two full chunks of 16,384 go to the spool (history-spool.ts), the rest stay in memory.
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir);
    const feed = new SearchFeed();
    const n = 40_000;
    feed.send(Array.from({ length: n }, (_, i) => `S:${i}`));
    const file = join(dir, 'long.pcap');
    writeFileSync(file, feed.bytes());
    // S:3999, S:39990-S:39999: one record in the first (spooled) chunk, ten in the one being filled.
    const wanted = ['S:3999', ...Array.from({ length: 10 }, (_, i) => `S:3999${i}`)];
    const answers: { rows: string[]; summary: Frame | undefined }[] = [];
    for (const where of [spoolDir, join(dir, 'missing'), 'none']) {
      daemon = await startTestDaemon(['-r', file, '--speed', 'max', '--spool-dir', where]);
      const d = daemon;
      await d.engine.whenEnded();
      await everything(d, n);
      // The spool has no name in its directory, even while the daemon runs; the worker holds it open.
      expect(readdirSync(spoolDir)).toEqual([]);
      if (where === spoolDir)
        expect(openFiles().some((f) => f.startsWith(join(spoolDir, '.ca-sharkd-history-')))).toBe(true);
      const c = await TestClient.open(d.url);
      clients.push(c);
      c.send({ type: 'subscribe', filter: { pv: ['S:3999*'] }, since: 0 });
      await c.until('history', () => c.frames.some((f) => f.type === 'history'));
      answers.push({ rows: rowsOf(c.frames).map((r) => r.pv), summary: c.frames.find((f) => f.type === 'history') });
      c.close();
      await daemon.shutdown('next');
      daemon = undefined;
      // The worker's descriptor went with it (an embedder starting daemons again keeps none).
      expect(openFiles().some((f) => f.startsWith(join(spoolDir, '.ca-sharkd-history-')))).toBe(false);
    }
    expect(answers[0].rows).toEqual(wanted);
    expect(answers[0].summary).toMatchObject({ matched: 11, sent: 11 });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('answers 400 for a bad range', async () => {
    daemon = await startTestDaemon(['--stdin'], { input: new PassThrough() });
    expect((await fetch(`${daemon.url}/api/history?since=-5`)).status).toBe(400);
    expect((await fetch(`${daemon.url}/api/history?since=abc`)).status).toBe(400);
    expect((await fetch(`${daemon.url}/api/history?step=0`)).status).toBe(400);
  });
});
