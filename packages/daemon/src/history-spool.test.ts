import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecordHistory } from './history.js';
import { HeldRecords } from './history-ring.js';
import {
  type ChunkSpool,
  type ChunkWrite,
  HistorySpool,
  MAX_PENDING_CHUNKS,
  SpoolWriter,
  type SpoolWriteRequest,
} from './history-spool.js';

const FIXTURE = fileURLToPath(new URL('../../decoder/fixtures/libca-sim.pcap', import.meta.url));
/** Records of a full chunk (history-ring.ts CHUNK_SHIFT). */
const CHUNK = 16_384;

const decoded: CaRecord[] = [];
beforeAll(async () => {
  for await (const r of shark(FIXTURE, { keepBytes: true })) decoded.push(r);
});

/** Record `i` of a long capture made of the fixture's records over and over, a millisecond apart. */
/**
 * Two histories of the same bounds, one in memory and one on `spool`, and `add(from, to)` that gives both the
 * records from..to-1 (ids from 1).
 */
function sideBySide(
  bounds: { maxRecords: number; maxSeconds: number },
  spool: ChunkSpool,
): { memory: HeldRecords; spooled: HeldRecords; add: (from: number, to: number) => void } {
  const memory = new HeldRecords(bounds);
  const spooled = new HeldRecords(bounds, spool);
  const add = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
  };
  return { memory, spooled, add };
}

function record(i: number): CaRecord {
  const r = decoded[i % decoded.length];
  return { ...r, frame: i + 1, timestamp: 1_700_000_000 + i / 1000 };
}

/** A spool in memory that can be told to fail its writes from some call on, or one read. */
class MemorySpool implements ChunkSpool {
  readonly files = new Map<number, Uint8Array>();
  writes = 0;
  reads = 0;
  writable = true;
  constructor(
    private readonly failWriteAt = Infinity,
    private readonly failReadAt = Infinity,
  ) {}
  write(index: number, parts: readonly Uint8Array[]): boolean {
    if (!this.writable || ++this.writes >= this.failWriteAt) {
      this.writable = false;
      return false;
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    this.files.set(index, out);
    return true;
  }
  read(index: number, parts: readonly Uint8Array[]): boolean {
    const file = this.files.get(index);
    if (file === undefined) return false;
    // Only that read fails (a bad sector); the spool then takes no more chunks, as HistorySpool does.
    if (++this.reads === this.failReadAt) {
      this.writable = false;
      return false;
    }
    let at = 0;
    for (const p of parts) {
      p.set(file.subarray(at, at + p.byteLength));
      at += p.byteLength;
    }
    return true;
  }
  close(): void {}
}

/** Everything a held history gives out: every record's text, a filter's ids, a PV's chart visits. */
function outputs(held: HeldRecords, pv: string): { wire: string[]; matched: number[]; visits: unknown[] } {
  const wire: string[] = [];
  for (let p = 0; p < held.size; p++) wire.push(held.wire(p));
  const matched: number[] = [];
  const test = compileFilter({ command: ['EventAddResponse', 'ReadNotifyResponse'] });
  held.match(0, held.size, 0, test, (id) => matched.push(id));
  const visits: unknown[] = [];
  held.eachOfPv(pv, (...args) => visits.push(args));
  return { wire, matched, visits };
}

const dirs: string[] = [];
/**
 * Spool options of the tests not about slow writes: writes never count as slow. Writes asked of this thread's
 * own writer end between its tasks, and a test adding a chunk's records in one go on a loaded machine can
 * take longer than the 2 s bound.
 */
const UNTIMED = { slowWriteMs: Infinity };
/** One turn of the event loop: writes asked of this thread's spool writer start (and may end). */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Each test adds 50,000-160,000 records to two histories: seconds on a loaded machine.
describe('held records spooled to disk', { timeout: 60_000 }, () => {
  it('gives out byte for byte what records held in memory give, through the ring going round', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const spool = new HistorySpool(dir, (message) => warnings.push(message), UNTIMED);
    const bounds = { maxRecords: 2 * CHUNK + 1000, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spooled = new HeldRecords(bounds, spool);
    const n = 5 * CHUNK + 123;
    for (let i = 0; i < n; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    expect(spooled.chunksSpooled).toBeGreaterThanOrEqual(2);
    // The file has no name: nothing is left in the directory.
    expect(readdirSync(dir)).toEqual([]);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    const want = outputs(memory, pv);
    expect(want.matched.length).toBeGreaterThan(1000);
    expect(want.matched.length).toBeLessThan(memory.size);
    expect(want.visits.length).toBeGreaterThan(100);
    expect(outputs(spooled, pv)).toEqual(want);
    // Read in another order (newest first): each chunk read back again, the same.
    for (let p = spooled.size - 1; p >= 0; p -= 997) expect(spooled.wire(p)).toBe(memory.wire(p));
    expect(spooled.positionOf(3 * CHUNK)).toBe(memory.positionOf(3 * CHUNK));
    expect(warnings).toEqual([]);
    spool.close();
  });

  it('keeps chunks in memory once a write fails, and gives out the same', () => {
    const bounds = { maxRecords: 3 * CHUNK, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spool = new MemorySpool(3);
    const spooled = new HeldRecords(bounds, spool);
    for (let i = 0; i < 4 * CHUNK; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    expect(spool.writable).toBe(false);
    expect(spooled.chunksSpooled).toBe(1);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
  });

  it('reads a chunk that cannot be read back as gone, and a history request leaves out its records', () => {
    const bounds = { maxRecords: 4 * CHUNK, maxSeconds: Infinity };
    const spool = new MemorySpool(Infinity, 2);
    const history = new RecordHistory({ bounds, spool });
    const n = 3 * CHUNK + 10;
    for (let i = 0; i < n; i++) history.add(i + 1, record(i));
    const held = history.held;
    expect(held.chunksSpooled).toBe(3);
    // The first chunk reads back; the second does not, and stays gone.
    expect(held.readable(0)).toBe(true);
    expect(held.readable(CHUNK)).toBe(false);
    expect(held.readable(CHUNK + 5)).toBe(false);
    expect(() => held.wire(CHUNK)).toThrow(/gone/);
    const ids: number[] = [];
    held.match(
      0,
      held.size,
      0,
      () => true,
      (id) => ids.push(id),
    );
    expect(ids.length).toBe(n - CHUNK);
    expect(ids.includes(CHUNK + 1)).toBe(false);
    // Ids and times stay in memory: the bounds and searches by id still work.
    expect(held.idAt(CHUNK)).toBe(CHUNK + 1);
    expect(held.positionOf(CHUNK + 100)).toBe(CHUNK + 99);
    history.begin({ request: 1, filter: undefined, since: 0, limit: 1_000_000 } as never, n);
    let result;
    while ((result = history.step()) === undefined);
    expect(result.matched).toBe(n - CHUNK);
    expect(result.items.length).toBe(n - CHUNK);
    // Records added later go on in memory, and the gone chunk leaves with the bounds.
    for (let i = n; i < 6 * CHUNK; i++) history.add(i + 1, record(i));
    for (let p = 0; p < held.size; p += 1001) expect(held.readable(p)).toBe(true);
  });

  it('counts the records of a chunk that cannot be read back as let go, once, and the bounds as before', () => {
    const bounds = { maxRecords: 4 * CHUNK, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spool = new MemorySpool(Infinity, 2);
    const held = new HeldRecords(bounds, spool);
    // The first chunk partly let go by the count bound: 100 of its records are gone before the read fails.
    const n = 4 * CHUNK + 100;
    for (let i = 0; i < n; i++) {
      memory.add(i + 1, record(i));
      held.add(i + 1, record(i));
    }
    expect(held.dropped).toBe(100);
    expect(held.readable(0)).toBe(true);
    // The second chunk's read fails: its 16,384 records are let go now, as the stats say.
    expect(held.readable(CHUNK)).toBe(false);
    expect(held.dropped).toBe(100 + CHUNK);
    expect(held.readable(CHUNK - 100 + 5)).toBe(false);
    expect(held.dropped).toBe(100 + CHUNK);
    // They leave with the bounds as they would have: not counted a second time.
    for (let i = n; i < 7 * CHUNK; i++) {
      memory.add(i + 1, record(i));
      held.add(i + 1, record(i));
    }
    expect(held.size).toBe(memory.size);
    expect(held.dropped).toBe(memory.dropped);
  });

  it('stops once a write has gone on longer than the bound (a stalled disk), that chunk still read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    // The second chunk's write waits until the test lets it go, while the test's clock moves on.
    let clock = 0;
    let writes = 0;
    let release = (): void => {};
    const write: ChunkWrite = async (fd, parts, position) => {
      writes += 1;
      if (writes === 2) await new Promise<void>((resolve) => (release = resolve));
      return writevSync(fd, parts as Uint8Array[], position);
    };
    const spool = new HistorySpool(dir, (message, detail) => warnings.push(`${message} / ${detail}`), {
      now: () => clock,
      write,
    });
    const { memory, spooled, add } = sideBySide({ maxRecords: 5 * CHUNK, maxSeconds: Infinity }, spool);
    add(0, CHUNK + 1);
    await spool.idle();
    add(CHUNK + 1, 2 * CHUNK + 1);
    // The first chunk is written; the second's write goes on 2.5 s: the next chunk finds it so, and stays here.
    await tick();
    expect(writes).toBe(2);
    clock += 2500;
    add(2 * CHUNK + 1, 3 * CHUNK + 1);
    expect(spool.writable).toBe(false);
    expect(warnings).toEqual([
      "history spool stopped: later held records are kept in memory (--history) / a chunk's write has taken 2500 ms (more than 2000)",
    ]);
    expect(spool.status).toMatchObject({ chunksWritten: 1, pending: 1 });
    expect(spool.status.stopped).toMatch(/has taken 2500 ms/);
    // Later chunks stay in memory; the slow one is read from its buffers meanwhile, from the file once written.
    add(3 * CHUNK + 1, 4 * CHUNK);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    release();
    await spool.idle();
    expect(spool.status).toMatchObject({ chunksWritten: 2, pending: 0, behind: 0 });
    expect(spooled.chunksSpooled).toBe(2);
    add(4 * CHUNK, 5 * CHUNK);
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    expect(warnings).toHaveLength(1);
    spool.close();
  });

  it('times a write from when its writer began it: a writer thread that has not taken it up is no stalled disk', async () => {
    // Before, the bound ran from when the write was asked: the main thread busy for 2 s (its writes wait for
    // its event loop) stopped a healthy spool, and every later chunk stayed in memory.
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    let clock = 0;
    const asked: SpoolWriteRequest[] = [];
    const spool = new HistorySpool(dir, (message, detail) => warnings.push(`${message} / ${detail}`), {
      now: () => clock,
      send: (request) => asked.push(request),
    });
    const { memory, spooled, add } = sideBySide({ maxRecords: 6 * CHUNK, maxSeconds: Infinity }, spool);
    add(0, CHUNK + 1);
    expect(asked).toHaveLength(1);
    // The writer's thread takes nothing up for 5 s; chunks keep coming.
    clock += 5000;
    add(CHUNK + 1, 3 * CHUNK + 1);
    expect(asked).toHaveLength(3);
    expect(spool.writable).toBe(true);
    expect(warnings).toEqual([]);
    // Then it writes them, at once; the next chunk finds them written.
    const writer = new SpoolWriter(undefined, () => clock);
    for (const request of asked.splice(0)) writer.write(request);
    await writer.idle();
    add(3 * CHUNK + 1, 4 * CHUNK + 1);
    expect(spool.status).toMatchObject({ chunksWritten: 3, pending: 1, behind: 0, stopped: null });
    // A write it began and that then goes on past the bound still stops the spool.
    const stalled = new SpoolWriter(
      () => new Promise<number>(() => {}),
      () => clock,
    );
    for (const request of asked.splice(0)) stalled.write(request);
    await tick();
    clock += 2500;
    add(4 * CHUNK + 1, 5 * CHUNK + 1);
    expect(spool.writable).toBe(false);
    expect(warnings).toEqual([
      "history spool stopped: later held records are kept in memory (--history) / a chunk's write has taken 2500 ms (more than 2000)",
    ]);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    spool.close();
  });

  it('does not hold up adding while a write stalls: reads come from memory, the queue is bounded and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    // The first write waits until the test lets it go (a disk that stalls); the bound is not reached.
    let release = (): void => {};
    let writes = 0;
    const write: ChunkWrite = async (fd, parts, position) => {
      writes += 1;
      if (writes === 1) await new Promise<void>((resolve) => (release = resolve));
      return writevSync(fd, parts as Uint8Array[], position);
    };
    const spool = new HistorySpool(dir, (message, detail) => warnings.push(`${message} / ${detail}`), {
      slowWriteMs: 3_600_000,
      write,
    });
    const { memory, spooled, add } = sideBySide({ maxRecords: 8 * CHUNK, maxSeconds: Infinity }, spool);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    // Six chunks fill while the first write stalls: four wait (the bound), two more stay in memory, counted.
    add(0, 6 * CHUNK + 1);
    await tick();
    expect(writes).toBe(1);
    expect(spool.status).toMatchObject({ chunksWritten: 0, pending: MAX_PENDING_CHUNKS, behind: 2, stopped: null });
    expect(spool.writable).toBe(true);
    expect(spooled.chunksSpooled).toBe(MAX_PENDING_CHUNKS);
    // Chunks waiting for their write are read from their buffers.
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    // The disk comes back: the four are written in order and read from the file, the next chunks go too.
    release();
    await spool.idle();
    expect(spool.status).toMatchObject({ chunksWritten: MAX_PENDING_CHUNKS, pending: 0, behind: 2 });
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    // The ring (nine chunks) goes round: every chunk's place is written again, the two kept in memory leave.
    // A chunk at a time, the writes ending between (as between the decoding thread's batches).
    for (let k = 6; k < 16; k++) {
      add(k * CHUNK + 1, (k + 1) * CHUNK + 1);
      await spool.idle();
    }
    expect(spooled.dropped).toBe(memory.dropped);
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    expect(spool.status).toMatchObject({ pending: 0, behind: 2, stopped: null });
    expect(warnings).toEqual([]);
    spool.close();
  });

  it('writes a chunk whose write came back short to its end, and reuses the memory of its copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    // Each write takes at most 100,000 bytes, as a short write would.
    const write: ChunkWrite = async (fd, parts, position) => {
      const some: Uint8Array[] = [];
      let n = 0;
      for (const part of parts) {
        if (n >= 100_000) break;
        const take = part.subarray(0, Math.min(part.byteLength, 100_000 - n));
        some.push(take);
        n += take.byteLength;
      }
      return writevSync(fd, some, position);
    };
    const spool = new HistorySpool(dir, () => {}, { ...UNTIMED, write });
    const bounds = { maxRecords: 3 * CHUNK, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spooled = new HeldRecords(bounds, spool);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    for (let round = 0; round < 5; round++) {
      for (let i = round * CHUNK; i < (round + 1) * CHUNK + 1; i++) {
        memory.add(i + 1, record(i));
        spooled.add(i + 1, record(i));
      }
      await spool.idle();
    }
    expect(spool.status.chunksWritten).toBe(5);
    // The written chunks' copies went back to the spool's pool: one buffer served every chunk, one after another.
    expect((spool as unknown as { pool: SharedArrayBuffer[] }).pool.length).toBe(1);
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    spool.close();
  });

  it('answers a request that spans chunks as from memory while the ring of chunks goes round between slices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const spool = new HistorySpool(dir, () => {}, UNTIMED);
    const bounds = { maxRecords: 3 * CHUNK, maxSeconds: Infinity };
    const memory = new RecordHistory({ bounds });
    const spooled = new RecordHistory({ bounds, spool });
    let added = 0;
    const add = (n: number): void => {
      for (const end = added + n; added < end; added++) {
        memory.add(added + 1, record(added));
        spooled.add(added + 1, record(added));
      }
    };
    add(4 * CHUNK + 77);
    const results: unknown[][] = [[], []];
    const filter = { command: ['EventAddResponse', 'ReadNotifyResponse'] };
    [memory, spooled].forEach((h) => {
      h.begin({ request: 1, filter, since: 0, limit: 5000 } as never, added);
    });
    // A slice, then two chunks more arrive over two slices (the request's oldest chunks are let go, their
    // places in the file written again with new records), then a few records a slice.
    for (let slice = 0; slice < 40; slice++) {
      [memory, spooled].forEach((h, k) => {
        const r = h.step(CHUNK / 2);
        if (r !== undefined) results[k].push(r);
      });
      add(slice === 0 ? CHUNK + 5 : slice === 1 ? CHUNK : 1000);
      // The writes end between slices, as they do between the decoding thread's batches.
      await spool.idle();
    }
    expect(results[0].length).toBe(1);
    const got = results[0][0] as { matched: number; items: string[] };
    // Matched before the ring went round, most of them gone when the answer was made: those are not sent.
    expect(got.matched).toBeGreaterThan(got.items.length);
    expect(got.items.length).toBeGreaterThan(100);
    expect(results[1]).toEqual(results[0]);
    expect(spooled.held.chunksSpooled).toBeGreaterThan(0);
    spool.close();
  });

  it('answers requests past many spooled chunks as from memory: ids that skip, times out of order, both bounds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const spool = new HistorySpool(dir, () => {}, UNTIMED);
    // About nine chunks held by the time bound (records a millisecond apart), below the count bound.
    const bounds = { maxRecords: 12 * CHUNK, maxSeconds: 150 };
    const memory = new RecordHistory({ bounds });
    const spooled = new RecordHistory({ bounds, spool });
    let id = 0;
    const ids: number[] = [];
    for (let i = 0; i < 25 * CHUNK + 321; i++) {
      // Runs of ids that break now and then (a chunk's ids are then a column), and times a little out of order.
      id += i % 40_000 === 39_999 ? 3 : i % 70_001 === 70_000 ? 0.5 : 1;
      const r = { ...record(i), timestamp: 1_700_000_000 + i / 1000 + (i % 7 === 3 ? 0.004 : 0) };
      memory.add(id, r);
      spooled.add(id, r);
      ids.push(id);
      if (i % CHUNK === 0) await spool.idle();
    }
    const m = memory.held;
    const h = spooled.held;
    expect(h.chunksSpooled).toBeGreaterThanOrEqual(6);
    expect(h.size).toBe(m.size);
    expect(h.size).toBeLessThan(bounds.maxRecords);
    expect(h.dropped).toBe(m.dropped);
    expect(h.oldestId).toBe(m.oldestId);
    expect(h.newestId).toBe(m.newestId);
    expect(h.oldestTime).toBe(m.oldestTime);
    for (let p = 0; p < h.size; p += 509) {
      expect(h.idAt(p)).toBe(m.idAt(p));
      expect(h.timeAt(p)).toBe(m.timeAt(p));
      expect(h.positionOf(m.idAt(p))).toBe(p);
      expect(h.positionOf(m.idAt(p) - 0.25)).toBe(m.positionOf(m.idAt(p) - 0.25));
    }
    const since = (m.oldestTime as number) + 40;
    const requests = [
      { request: 1, filter: undefined, since: 0, limit: 3000 },
      { request: 2, filter: { command: ['EventAddResponse'] }, since, limit: 100_000 },
      { request: 3, filter: { pv: ['*a*'] }, since: 0, limit: 777 },
    ];
    for (const req of requests) {
      const results = [memory, spooled].map((history) => {
        history.begin(req as never, id);
        let result;
        while ((result = history.step(CHUNK / 3)) === undefined);
        return result;
      });
      expect(results[0].matched).toBeGreaterThan(0);
      expect(results[1]).toEqual(results[0]);
    }
    spool.close();
  });

  it('lets a chunk whose times cannot be read back go by the time bound with its newest record, counted once', () => {
    // Records a millisecond apart, 30 s held: the oldest record enters the third chunk (spooled) when the
    // 30,000th record after it comes, and that chunk's times read fails.
    const bounds = { maxRecords: 10 * CHUNK, maxSeconds: 30 };
    const memory = new HeldRecords(bounds);
    const spool = new MemorySpool(Infinity, 3);
    const held = new HeldRecords(bounds, spool);
    const add = (i: number): void => {
      memory.add(i + 1, record(i));
      held.add(i + 1, record(i));
    };
    let i = 0;
    for (; i < 2 * CHUNK + 30_001; i++) add(i);
    // Reads of the first three chunks' times as the oldest record entered each; the third failed: that chunk's
    // records (the oldest held now) count as let go.
    expect(spool.reads).toBe(3);
    expect(held.oldestId).toBe(2 * CHUNK + 1);
    expect(held.readable(0)).toBe(false);
    expect(held.dropped).toBe(memory.dropped + CHUNK);
    // Its records all read as the newest of them: they stay until that one is 30 s old, then leave together.
    for (; i < 3 * CHUNK + 29_000; i++) add(i);
    expect(held.oldestId).toBe(2 * CHUNK + 1);
    expect(held.oldestTime).toBe(record(3 * CHUNK - 1).timestamp);
    expect(held.size).toBeGreaterThan(memory.size);
    // Counted as let go once, when its read failed: the whole chunk, where memory has let some of it go.
    expect(held.dropped).toBe(3 * CHUNK);
    expect(memory.dropped).toBeLessThan(3 * CHUNK);
    for (; i < 3 * CHUNK + 31_000; i++) add(i);
    expect(held.oldestId).toBe(memory.oldestId);
    expect(held.size).toBe(memory.size);
    expect(held.dropped).toBe(memory.dropped);
    for (; i < 6 * CHUNK; i++) add(i);
    expect(held.size).toBe(memory.size);
    expect(held.dropped).toBe(memory.dropped);
  });

  it('lets spooled chunks go by the time bound as in memory, a jump in time included, and counts them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const spool = new HistorySpool(dir, () => {}, UNTIMED);
    // 40 s of records a millisecond apart: about two and a half chunks held by time, not by count.
    const bounds = { maxRecords: 10 * CHUNK, maxSeconds: 40 };
    const memory = new HeldRecords(bounds);
    const spooled = new HeldRecords(bounds, spool);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    const add = (i: number, r: CaRecord): void => {
      memory.add(i + 1, r);
      spooled.add(i + 1, r);
    };
    for (let i = 0; i < 6 * CHUNK; i++) add(i, record(i));
    expect(spooled.chunksSpooled).toBeGreaterThan(0);
    expect(spooled.dropped).toBe(memory.dropped);
    expect(spooled.chunksHeld).toBe(memory.chunksHeld);
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    // An hour later: every record held leaves at once, spooled chunks with them.
    for (let i = 6 * CHUNK; i < 7 * CHUNK + 10; i++) add(i, { ...record(i), timestamp: 1_700_003_600 + i / 1000 });
    expect(spooled.dropped).toBe(memory.dropped);
    expect(spooled.size).toBe(memory.size);
    expect(spooled.oldestTime).toBe(memory.oldestTime);
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    spool.close();
  });

  it('warns once when the file cannot be read back (EIO), loses that chunk only and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const spool = new HistorySpool(dir, (message) => warnings.push(message), UNTIMED);
    const bounds = { maxRecords: 4 * CHUNK, maxSeconds: Infinity };
    const held = new HeldRecords(bounds, spool);
    for (let i = 0; i < 3 * CHUNK + 1; i++) held.add(i + 1, record(i));
    expect(held.chunksSpooled).toBe(3);
    await spool.idle();
    // Reads fail for a while under the spool's descriptor (a write-only one: EBADF, as a failing disk's EIO).
    const file = spool as unknown as { fd: number };
    const own = file.fd;
    const writeOnly = openSync('/dev/null', 'w');
    file.fd = writeOnly;
    expect(held.readable(0)).toBe(false);
    file.fd = own;
    closeSync(writeOnly);
    expect(warnings).toEqual([
      'history spool unreadable: the held records read from it are gone, later ones are kept in memory',
    ]);
    expect(held.dropped).toBe(CHUNK);
    // The other chunks read back; new ones stay in memory.
    expect(held.readable(CHUNK)).toBe(true);
    expect(JSON.parse(held.wire(2 * CHUNK)).id).toBe(2 * CHUNK + 1);
    for (let i = 3 * CHUNK + 1; i < 5 * CHUNK; i++) held.add(i + 1, record(i));
    expect(spool.writable).toBe(false);
    expect(held.chunksSpooled).toBe(2);
    expect(warnings.length).toBe(1);
    spool.close();
  });

  it('warns of a read that fails after the spool stopped taking chunks (a full disk, then EIO)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const spool = new HistorySpool(dir, (message) => warnings.push(message), UNTIMED);
    const held = new HeldRecords({ maxRecords: 4 * CHUNK, maxSeconds: Infinity }, spool);
    for (let i = 0; i < 2 * CHUNK + 1; i++) held.add(i + 1, record(i));
    await spool.idle();
    const file = spool as unknown as { fd: number };
    const own = file.fd;
    // Writes fail (ENOSPC): the spool stops, the two chunks written before stay in it.
    const full = openSync('/dev/full', 'r+');
    file.fd = full;
    for (let i = 2 * CHUNK + 1; i < 3 * CHUNK + 1; i++) held.add(i + 1, record(i));
    await spool.idle();
    // Then a read fails (EBADF under a write-only descriptor, as EIO): that chunk's records are lost, and said.
    const writeOnly = openSync('/dev/null', 'w');
    file.fd = writeOnly;
    expect(held.readable(0)).toBe(false);
    file.fd = own;
    closeSync(full);
    closeSync(writeOnly);
    expect(warnings).toEqual([
      'history spool stopped: later held records are kept in memory (--history)',
      'history spool unreadable: the held records read from it are gone, later ones are kept in memory',
    ]);
    expect(held.dropped).toBe(CHUNK);
    expect(held.readable(CHUNK)).toBe(true);
    spool.close();
  });

  it("makes no write once cancelled (its worker's descriptor gone), and says the writes failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    let writes = 0;
    const writer = new SpoolWriter(async (fd, parts, position) => {
      writes += 1;
      return writevSync(fd, parts as Uint8Array[], position);
    });
    const warnings: string[] = [];
    const spool = new HistorySpool(dir, (message, detail) => warnings.push(`${message} / ${detail}`), {
      ...UNTIMED,
      send: (request) => writer.write(request),
    });
    const held = new HeldRecords({ maxRecords: 4 * CHUNK, maxSeconds: Infinity }, spool);
    for (let i = 0; i < CHUNK + 1; i++) held.add(i + 1, record(i));
    await writer.idle();
    expect(writes).toBe(1);
    writer.cancel();
    for (let i = CHUNK + 1; i < 3 * CHUNK + 1; i++) held.add(i + 1, record(i));
    await writer.idle();
    expect(writes).toBe(1);
    expect(spool.status).toMatchObject({ chunksWritten: 1, pending: 0 });
    expect(warnings).toEqual([
      'history spool stopped: later held records are kept in memory (--history) / Error: a chunk could not be written',
    ]);
    // The two chunks not written are read from their copies.
    expect(JSON.parse(held.wire(2 * CHUNK)).id).toBe(2 * CHUNK + 1);
    spool.close();
  });

  it('keeps the chunks of a bound below a whole chunk in memory', () => {
    const spool = new MemorySpool();
    const held = new HeldRecords({ maxRecords: 1000, maxSeconds: Infinity }, spool);
    for (let i = 0; i < 5000; i++) held.add(i + 1, record(i));
    expect(spool.writes).toBe(0);
    expect(held.size).toBe(1000);
  });

  it('keeps records in memory with one warning when the directory cannot take the file', () => {
    const warnings: string[] = [];
    const spool = new HistorySpool('/nonexistent/ca-shark', (message) => warnings.push(message));
    const bounds = { maxRecords: 2 * CHUNK, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spooled = new HeldRecords(bounds, spool);
    for (let i = 0; i < 3 * CHUNK; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    expect(warnings).toEqual(['cannot spool held records to disk: they are kept in memory (--history)']);
    expect(spooled.chunksSpooled).toBe(0);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
  });

  it('stops with one warning when a write fails (a full disk), the chunks written before still read', async () => {
    // /dev/full: every write fails with ENOSPC. The spool's file is made there as on any directory, so
    // this stands in for a file system that fills: a spool whose writes fail after it was opened.
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-history-spool-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const spool = new HistorySpool(dir, (message) => warnings.push(message), UNTIMED);
    const bounds = { maxRecords: 4 * CHUNK, maxSeconds: Infinity };
    const memory = new HeldRecords(bounds);
    const spooled = new HeldRecords(bounds, spool);
    for (let i = 0; i < 2 * CHUNK + 1; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    expect(spooled.chunksSpooled).toBe(2);
    await spool.idle();
    // Writes go to /dev/full for a while (every write ENOSPC) under the spool's descriptor, as when its file
    // system fills; then the file is given back, so the chunks written before can be read.
    const file = spool as unknown as { fd: number };
    const own = file.fd;
    const full = openSync('/dev/full', 'r+');
    file.fd = full;
    for (let i = 2 * CHUNK + 1; i < 3 * CHUNK + 1; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    await spool.idle();
    file.fd = own;
    closeSync(full);
    expect(warnings).toEqual(['history spool stopped: later held records are kept in memory (--history)']);
    expect(spool.writable).toBe(false);
    for (let i = 3 * CHUNK + 1; i < 4 * CHUNK + 1; i++) {
      memory.add(i + 1, record(i));
      spooled.add(i + 1, record(i));
    }
    // The chunk whose write failed is kept in memory by the spool (read from there); the next one by the ring.
    expect(spooled.chunksSpooled).toBe(3);
    expect(spool.status).toMatchObject({ chunksWritten: 2, pending: 0 });
    expect(spool.status.stopped).toMatch(/ENOSPC/);
    const pv = decoded.find((r) => r.pv !== null)?.pv as string;
    expect(outputs(spooled, pv)).toEqual(outputs(memory, pv));
    spool.close();
  });
});
