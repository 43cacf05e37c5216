/**
 * What `/api/stats` says the daemon holds and let go (issue 11's status bar): the packet ring's reach and
 * what it let go of, the held history's bound, and stdin's spool, stopped or not. Exact counts.
 */
import { mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, heldStats } from './engine.js';
import { HeldRecords } from './history-ring.js';
import { MESSAGE_OVERHEAD_BYTES, PacketRing } from './packet-ring.js';
import type { RunningDaemon } from './server.js';
import { Spool } from './sources/spool.js';
import { StreamSource } from './sources/stdin.js';
import { onTmpfs } from './spool-file.js';
import type { SourceSink } from './sources/types.js';
import { startTestDaemon } from './test-support/daemon.js';
import { runEngine } from './test-support/engine.js';
import type { StatsView } from './views.js';

const fixturePath = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));
const CAPTURE = fixturePath('catest.pcap');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-held-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replays the capture through an in-process engine into `ring`, as the decoding worker does; its records. */
function runRing(ring: PacketRing): CaRecord[] {
  const records: CaRecord[] = [];
  const publish = (r: CaRecord): void => {
    ring.record(r);
    records.push(r);
  };
  runEngine(readFileSync(CAPTURE), { describe: () => ({ kind: 'file', file: CAPTURE }), publish, packets: ring });
  return records;
}

async function decoded(): Promise<CaRecord[]> {
  const out: CaRecord[] = [];
  for await (const r of shark(readFileSync(CAPTURE))) out.push(r);
  return out;
}

describe('stats.packetRing', () => {
  it('holds everything of a capture smaller than its bound, and has let nothing go', () => {
    const ring = new PacketRing();
    const records = runRing(ring);
    const view = heldStats(ring, undefined).packetRing;
    expect(view).toEqual({
      bytes: ring.stats.bytes,
      maxBytes: ring.stats.maxBytes,
      frames: ring.stats.frames,
      messages: records.length,
      oldestTime: records[0].timestamp,
      newestTime: records[records.length - 1].timestamp,
      evictedFrames: 0,
      droppedMessages: 0,
    });
  });

  it('says how far back a small ring reaches and how many frames and messages it let go', () => {
    const ring = new PacketRing(20_000);
    const records = runRing(ring);
    const view = heldStats(ring, undefined).packetRing;
    if (view === undefined) throw new Error('no packetRing view');
    expect(view.maxBytes).toBe(20_000);
    expect(view.bytes).toBeLessThanOrEqual(20_000);
    expect(view.evictedFrames).toBeGreaterThan(0);
    // Every message is either held or let go: the counts are exact.
    expect(view.messages + view.droppedMessages).toBe(records.length);
    expect(view.droppedMessages).toBeGreaterThan(0);
    expect(view.messages).toBe(ring.index.size);
    // Its oldest time is that of the first packet of the oldest message held: the export's first packet.
    const oldest = ring.index.oldest;
    expect(view.oldestTime).toBe(ring.get(ring.index.firstFrame(oldest))?.timestamp);
    expect(view.oldestTime).toBeLessThanOrEqual(ring.index.time(oldest));
    expect(view.oldestTime).toBeGreaterThan(records[0].timestamp);
    expect(view.newestTime).toBe(records[records.length - 1].timestamp);
    // Counted against the bound: frames' bytes with their overheads, and each message's.
    expect(view.bytes).toBeGreaterThanOrEqual(view.messages * MESSAGE_OVERHEAD_BYTES);
  });

  it('reads the oldest time from the right slab once the ring has gone through many (8,192 frames each)', () => {
    // The capture over and over, each copy 1,000 s after the one before: frame n's time is known here.
    const ring = new PacketRing(300_000);
    const times: number[] = [0];
    const engine = new Engine({
      describe: () => ({ kind: 'file', file: CAPTURE }),
      counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
      publish: (r) => ring.record(r),
      hubStats: () => ({ clients: 0, dropped: 0 }),
      logger: pino({ level: 'silent' }),
      packets: ring,
    });
    const bytes = readFileSync(CAPTURE);
    const checks: number[] = [];
    for (let copy = 0; copy < 300; copy++) {
      const reader = new CaptureReader({
        frame: (f) => {
          times.push(f.timestamp + copy * 1000);
          engine.frame(f.linktype, f.timestamp + copy * 1000, f.data.slice(), f.origlen, f.interfaceId);
        },
        problem: () => undefined,
      });
      reader.push(bytes);
      reader.end();
      // The oldest held message's first frame, by number, and its time as it was captured.
      if (copy % 37 === 36) {
        const first = ring.index.firstFrame(ring.index.oldest);
        expect(heldStats(ring, undefined).packetRing?.oldestTime).toBe(times[first]);
        checks.push(first);
      }
    }
    engine.end();
    // Frames past several slabs, the oldest held far from the first slab's.
    expect(times.length).toBeGreaterThan(6 * 8192);
    expect(checks[checks.length - 1]).toBeGreaterThan(4 * 8192);
    expect(new Set(checks.map((f) => Math.floor(f / 8192))).size).toBeGreaterThan(3);
  });

  it('is absent without a ring, and says null times while it holds nothing', () => {
    expect(heldStats(undefined, undefined)).toEqual({});
    expect(heldStats(new PacketRing(), undefined).packetRing).toMatchObject({
      messages: 0,
      oldestTime: null,
      newestTime: null,
      droppedMessages: 0,
    });
  });
});

describe('stats.history', () => {
  it('says the bound, the oldest record held and how many the count bound let go', async () => {
    const records = await decoded();
    const held = new HeldRecords({ maxRecords: 10, maxSeconds: Infinity });
    records.forEach((r, i) => held.add(i + 1, r));
    expect(heldStats(undefined, held).history).toEqual({
      records: 10,
      maxRecords: 10,
      maxSeconds: null,
      oldestTime: records[records.length - 10].timestamp,
      dropped: records.length - 10,
    });
  });

  it('counts the records the time bound let go too', async () => {
    const records = await decoded();
    const held = new HeldRecords({ maxRecords: 1_000_000, maxSeconds: 1 });
    records.forEach((r, i) => held.add(i + 1, r));
    const view = heldStats(undefined, held).history;
    expect(view?.maxSeconds).toBe(1);
    expect((view?.records ?? 0) + (view?.dropped ?? 0)).toBe(records.length);
    expect(view?.dropped).toBeGreaterThan(0);
    expect(view?.oldestTime).toBe(held.oldestTime);
  });

  it('is absent when the history holds nothing (--history 0)', () => {
    expect(heldStats(undefined, new HeldRecords({ maxRecords: 0 }))).toEqual({});
  });
});

describe('stats.spool', () => {
  /** A sink that takes every chunk and says when the input ended. */
  function sink(): { sink: SourceSink; ended: Promise<void> } {
    let done: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (done = resolve));
    return {
      ended,
      sink: {
        frame: () => undefined,
        problem: () => undefined,
        end: () => done(),
      } as unknown as SourceSink,
    };
  }

  it('says the directory, the bytes written and whether it is a tmpfs, and stopped null while it writes', async () => {
    const spool = Spool.open({ dir, bytes: 1 << 20 });
    expect(spool.status).toEqual({
      dir,
      bytes: 1 << 20,
      bytesWritten: 0,
      tmpfs: onTmpfs(dir),
      stopped: null,
    });
    await spool.append(new Uint8Array(1000));
    expect(spool.status.bytesWritten).toBe(1000);
    // Closed at shutdown: not a failure to show.
    spool.close();
    expect(spool.status.stopped).toBeNull();
  });

  it('says why it stopped once a write failed (a full disk), through the stdin source, and keeps saying it', async () => {
    let written = 0;
    const spool = Spool.open({
      dir,
      bytes: 1 << 20,
      write: async (fd, buffer, offset, length, position) => {
        if (written + length > 10 * 1024)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written += length;
        return writeSync(fd, buffer, offset, length, position);
      },
    });
    const chunks: Buffer[] = [];
    const bytes = readFileSync(CAPTURE);
    for (let at = 0; at < bytes.length; at += 4096) chunks.push(bytes.subarray(at, at + 4096));
    const source = new StreamSource(Readable.from(chunks), { kind: 'stdin' }, spool);
    expect(source.spoolStatus?.stopped).toBeNull();
    const s = sink();
    await source.start(s.sink);
    await s.ended;
    expect(source.spoolStatus).toMatchObject({
      dir,
      bytesWritten: written,
      stopped: 'ENOSPC: no space left on device, write',
    });
    await source.stop();
    source.release();
    expect(source.spoolStatus?.stopped).toBe('ENOSPC: no space left on device, write');
  });

  it('says when it gave up on a write that took too long', async () => {
    const spool = Spool.open({ dir, bytes: 1024, slowWriteMs: 10, write: () => new Promise<number>(() => undefined) });
    expect(await spool.append(new Uint8Array(100))).toBe(-1);
    expect(spool.status.stopped).toBe('a write took longer than 10 ms');
    expect(spool.status.bytesWritten).toBe(0);
  });
});

describe('/api/stats of a daemon (its response schema keeps every field)', { timeout: 60_000 }, () => {
  let daemon: RunningDaemon | undefined;
  afterEach(async () => {
    await daemon?.shutdown('test done');
    daemon = undefined;
  });

  it('reports the ring, the history and the spool of ca-sharkd --stdin, as the snapshot does', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin', '--packet-ring', '20000', '--history', '50,1h', '--spool-dir', dir], {
      input,
    });
    const bytes = readFileSync(CAPTURE);
    input.end(bytes);
    await daemon.engine.whenEnded();
    const res = await daemon.app.inject('/api/stats');
    expect(res.statusCode).toBe(200);
    const stats = res.json() as StatsView;
    expect(stats.packetRing).toMatchObject({ maxBytes: 20_000 });
    const ring = stats.packetRing as NonNullable<StatsView['packetRing']>;
    expect(ring.messages + ring.droppedMessages).toBe(stats.messages);
    expect(ring.evictedFrames).toBeGreaterThan(0);
    expect(typeof ring.oldestTime).toBe('number');
    expect(ring.newestTime).toBeGreaterThanOrEqual(ring.oldestTime as number);
    expect(stats.history).toEqual({
      records: 50,
      maxRecords: 50,
      maxSeconds: 3600,
      oldestTime: expect.any(Number) as unknown,
      dropped: stats.messages - 50,
    });
    expect(stats.spool).toEqual({
      dir,
      bytes: 20_000,
      bytesWritten: bytes.length,
      tmpfs: onTmpfs(dir),
      stopped: null,
    });
    // The snapshot's stats are the API's (one source of counters).
    expect(JSON.parse(daemon.engine.snapshotText()).stats).toMatchObject({
      packetRing: ring,
      history: stats.history,
      spool: stats.spool,
    });
  });
});
