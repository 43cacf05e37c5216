import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { shark } from './shark.js';
import type { CaDecoder } from './decoder.js';
import { createDecoder } from './decoder.js';
import { DEFAULT_LIMITS, PAIRING_SEARCH_TTL } from './options.js';
import type { CaRecord } from './record.js';
import { FILE_CHUNK } from './shark-reads.js';
import { goldenLine } from './test-support/golden.js';
import { CLIENT, SERVER, T0, decode, workedExample } from './test-support/scenario.js';
import { searchTraffic } from './test-support/search-traffic.js';

/** The worked example's bytes as a stream of small chunks that records how far it was read. */
function trackedChunks(
  bytes: Uint8Array,
  size: number,
): { chunks: AsyncGenerator<Uint8Array>; read: () => number; closed: () => boolean } {
  let read = 0;
  let closed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (let o = 0; o < bytes.length; o += size) {
        read++;
        yield bytes.subarray(o, o + size);
      }
    } finally {
      closed = true;
    }
  }
  return { chunks: chunks(), read: () => read, closed: () => closed };
}

async function all(input: Parameters<typeof shark>[0]): Promise<string[]> {
  const names: string[] = [];
  for await (const r of shark(input)) names.push(r.command.name);
  return names;
}

describe('shark() iteration', () => {
  it('reads no input before the first next() and stops reading when the loop breaks', async () => {
    const bytes = workedExample().bytes();
    const src = trackedChunks(bytes, 64);
    const it = shark(src.chunks);
    expect(src.read()).toBe(0);
    for await (const r of it) {
      void r;
      break;
    }
    expect(src.closed()).toBe(true);
    expect(src.read()).toBeLessThan(Math.ceil(bytes.length / 64));
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('serves overlapping next() calls in order, like an async generator', async () => {
    const bytes = workedExample().bytes();
    const expected = await all(bytes);
    const it = shark(trackedChunks(bytes, 37).chunks);
    const results = await Promise.all(Array.from({ length: expected.length + 2 }, () => it.next()));
    expect(results.slice(0, expected.length).map((r) => (r.value as CaRecord).command.name)).toEqual(expected);
    expect(results.slice(expected.length)).toEqual([
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it('nextReady() hands out the decoded records in order, and nothing while next() is pending', async () => {
    const bytes = workedExample().bytes();
    const expected = await all(bytes);
    const it = shark(trackedChunks(bytes, 200).chunks);
    expect(it.nextReady()).toBeUndefined();
    const names: string[] = [];
    let ready = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      names.push(r.value.command.name);
      for (let rec = it.nextReady(); rec !== undefined; rec = it.nextReady()) {
        names.push(rec.command.name);
        ready++;
      }
      const pending = it.next();
      expect(it.nextReady()).toBeUndefined();
      const p = await pending;
      if (p.done) break;
      names.push(p.value.command.name);
    }
    expect(names).toEqual(expected);
    expect(ready).toBeGreaterThan(0);
    expect(it.nextReady()).toBeUndefined();
    // From one buffer (one slice), every record after the first comes without a promise.
    const whole = shark(bytes);
    const first = await whole.next();
    const rest: string[] = [];
    for (let rec = whole.nextReady(); rec !== undefined; rec = whole.nextReady()) rest.push(rec.command.name);
    expect([(first.value as CaRecord).command.name, ...rest]).toEqual(expected);
    expect(await whole.next()).toEqual({ done: true, value: undefined });
  });

  it('throw() ends the iteration and closes the input', async () => {
    const src = trackedChunks(workedExample().bytes(), 64);
    const it = shark(src.chunks);
    await it.next();
    await expect(it.throw(new Error('stop'))).rejects.toThrow('stop');
    expect(src.closed()).toBe(true);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('ends after an input error', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield workedExample().bytes().subarray(0, 100);
      throw new Error('disk on fire');
    }
    const it = shark(broken());
    await expect(it.next()).rejects.toThrow('disk on fire');
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});

/**
 * A circuit to SERVER with channel `pv` (DOUBLE, `count` elements, SID 1) and a TIME_DOUBLE monitor on it
 * (subscription 9): the server's updates are the caller's to send.
 */
function waveformMonitor(b: PcapWriter, pv: string, count: number): TcpConversation {
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
  c.send(T0 + 0.1, true, build.versionRequest({ priority: 0, version: 13 }));
  c.send(T0 + 0.2, true, build.createChanRequest({ name: pv, cid: 1, version: 13 }));
  c.send(T0 + 0.3, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: count, cid: 1, sid: 1 }));
  c.send(
    T0 + 0.4,
    true,
    build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, data_count: 0, sid: 1, subscriptionid: 9, mask: 5 }),
  );
  return c;
}

/**
 * A capture of several MiB (more than shark()'s rotating file buffers hold) whose monitor updates all
 * differ: 1200-element waveforms (typed arrays), 100-element ones (plain arrays) and strings, in segments
 * of varying size so that messages and capture records straddle the file's read chunks.
 */
function bigVariedCapture(): Uint8Array {
  const b = new PcapWriter();
  const c = waveformMonitor(b, 'big:wave', 1200);
  for (let i = 0; i < 700; i++) {
    const n = i % 3 === 0 ? 100 : 1200;
    const data = Array.from({ length: n }, (_, k) => i * 1000 + k + 0.5);
    const parts = [build.eventAddResponse({ data_type: DbrType.TIME_DOUBLE, data, subscriptionid: 9 })];
    if (i % 5 === 0)
      parts.push(build.eventAddResponse({ data_type: DbrType.STRING, data: [`text ${i}`], subscriptionid: 9 }));
    c.send(T0 + 1 + i * 0.01, false, concatBytes(parts));
  }
  return b.bytes();
}

/**
 * A capture of `n` circuits to `server` whose client ports are 64 apart (one slot of the packet layer's
 * flow cache), their messages split across segments and the circuits' segments interleaved.
 */
function interleavedCircuits(server: string, n: number, salt: number): Uint8Array {
  const b = new PcapWriter();
  const conns = Array.from({ length: n }, (_, i) =>
    new TcpConversation(b, CLIENT, 45000 + 64 * i, server, 5064, [(salt * 7919 + i * 104729) >>> 0, 2 ** 31 + i]).open(
      T0 + i * 0.001,
    ),
  );
  const streams = conns.map((_, i) => {
    const name = `${server}:pv${i}:${'x'.repeat((i * salt) % 70)}`;
    return {
      client: concatBytes([
        build.createChanRequest({ name, cid: i, version: 13 }),
        build.readNotifyRequest({ data_type: DbrType.CTRL_DOUBLE, data_count: 1, sid: 100 + i, ioid: 1 }),
      ]),
      server: concatBytes([
        build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i, sid: 100 + i }),
        build.readNotifyResponse({
          data_type: DbrType.CTRL_DOUBLE,
          data: [i + salt / 8],
          ioid: 1,
          metadata: { units: `u${(i + salt) % 5}`, precision: 3 },
        }),
      ]),
    };
  });
  let t = T0 + 1;
  // Pieces of 13 bytes: messages split across segments; one piece of every circuit in turn.
  for (let at = 0; ; at += 13) {
    let sent = false;
    for (let i = 0; i < n; i++) {
      for (const fromClient of [true, false]) {
        const s = fromClient ? streams[i].client : streams[i].server;
        if (at >= s.length) continue;
        t += 0.0001;
        conns[i].send(t, fromClient, s.subarray(at, at + 13));
        sent = true;
      }
    }
    if (!sent) break;
  }
  return b.bytes();
}

describe('shark() on several captures at once', () => {
  it('gives each capture the records it gives alone when two iterations are consumed alternately', async () => {
    // The same connections (addresses and ports) with other sequence numbers, names and values.
    const a = interleavedCircuits(SERVER, 70, 3);
    const b = interleavedCircuits(SERVER, 70, 5);
    const alone = [(await decode(a)).map(digest), (await decode(b)).map(digest)];
    expect(alone[0]).toHaveLength(4 * 70);
    const got: string[][] = [[], []];
    const its = [shark(a)[Symbol.asyncIterator](), shark(b)[Symbol.asyncIterator]()];
    const done = [false, false];
    for (let turn = 0; !done[0] || !done[1]; turn++) {
      const k = turn % 2;
      if (done[k]) continue;
      // Uneven turns: 1, 2 or 3 records of one, then of the other.
      for (let n = 0; n < 1 + (turn % 3); n++) {
        const r = await its[k].next();
        if (r.done === true) {
          done[k] = true;
          break;
        }
        got[k].push(digest(r.value));
      }
    }
    expect(got).toEqual(alone);
  });
});

describe('shark() state bounds', () => {
  it('keeps a minute of search entries by default, with the records of the library default, unless told', async () => {
    // 400 capture seconds of searching, 10 searches a second, one in two answered.
    const bytes = searchTraffic(400);
    const library: CaRecord[] = [];
    const d = createDecoder({ onRecord: (r) => library.push(r) });
    d.pushCapture(bytes);
    d.end();
    const run = async (options: Parameters<typeof shark>[1]) => {
      let decoder: CaDecoder | undefined;
      const records: CaRecord[] = [];
      for await (const r of shark(bytes, { ...options, onDecoder: (x) => (decoder = x) })) records.push(r);
      return { records, state: (decoder as CaDecoder).state };
    };
    const byDefault = await run({});
    expect(byDefault.records.map(goldenLine)).toEqual(library.map(goldenLine));
    expect(byDefault.state.searches.size).toBeLessThanOrEqual(10 * (PAIRING_SEARCH_TTL + 2));
    // Other limits given leave the search TTL at shark()'s default; a searchTtl given is kept.
    const capped = await run({ limits: { maxSearches: 50_000 } });
    expect(capped.state.searches.size).toBe(byDefault.state.searches.size);
    const tenMinutes = await run({ limits: { searchTtl: DEFAULT_LIMITS.searchTtl } });
    expect(tenMinutes.state.searches.size).toBe(d.state.searches.size);
    expect(tenMinutes.state.searches.size).toBeGreaterThan(5 * byDefault.state.searches.size);
  });
});

describe('shark() without DBR values', () => {
  it('gives the same records without data and metadata with decodeValues: false', async () => {
    const bytes = workedExample().bytes();
    const full: CaRecord[] = [];
    for await (const r of shark(bytes)) full.push(r);
    const bare: CaRecord[] = [];
    for await (const r of shark(bytes, { decodeValues: false })) bare.push(r);
    const strip = (r: CaRecord): unknown => {
      const { data, metadata, enum_labels, data_problem, ...rest } = r.command as unknown as Record<string, unknown>;
      void [data, metadata, enum_labels, data_problem];
      return { ...r, command: rest };
    };
    expect(full.some((r) => 'data' in r.command)).toBe(true);
    expect(bare.some((r) => 'data' in r.command || 'metadata' in r.command)).toBe(false);
    expect(bare.map(strip)).toEqual(full.map(strip));
  });
});

describe("shark() with decodeValues: 'writes'", () => {
  it('decodes the values of written requests only, and gives every other record as without values', async () => {
    const bytes = workedExample().bytes();
    const full: CaRecord[] = [];
    for await (const r of shark(bytes)) full.push(r);
    const bare: CaRecord[] = [];
    for await (const r of shark(bytes, { decodeValues: false })) bare.push(r);
    const writes: CaRecord[] = [];
    for await (const r of shark(bytes, { decodeValues: 'writes' })) writes.push(r);
    const written = (r: CaRecord): boolean =>
      r.command.name === 'WriteRequest' || r.command.name === 'WriteNotifyRequest';
    expect(writes.filter(written).length).toBeGreaterThan(0);
    expect(full.some((r) => !written(r) && 'data' in r.command)).toBe(true);
    writes.forEach((r, i) => expect(r).toEqual(written(r) ? full[i] : bare[i]));
  });
});

describe('shark() with lendArrays', () => {
  it('hands out the same records, their large arrays in reused memory valid until the next record', async () => {
    const bytes = bigVariedCapture();
    const expected = (await decode(bytes.slice())).map(digest);
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let typed = 0;
    const records = shark(bytes, { lendArrays: true });
    // Both ways of taking records: next() and nextReady().
    for (let r = await records.next(); !r.done; r = await records.next()) {
      for (let record: CaRecord | undefined = r.value; record !== undefined; record = records.nextReady()) {
        seen.push(digest(record));
        const data = 'data' in record.command ? record.command.data : undefined;
        if (ArrayBuffer.isView(data)) {
          typed++;
          buffers.add(data.buffer);
        }
      }
    }
    expect(seen).toEqual(expected);
    expect(typed).toBeGreaterThan(400);
    expect(buffers.size).toBeLessThan(5);
    // Without the option every array has memory of its own.
    const own = new Set<ArrayBufferLike>();
    for await (const r of shark(bytes)) {
      const data = 'data' in r.command ? r.command.data : undefined;
      if (ArrayBuffer.isView(data)) own.add(data.buffer);
    }
    expect(own.size).toBe(typed);
  }, 60_000);
});

/**
 * A circuit whose monitor updates are DOUBLE waveforms of 1200 and 30,000 elements (the 30,000 with an
 * extended header) and scalars, its TCP stream cut into segments of 1000-5000 bytes: every waveform
 * straddles segments, so the deframer assembles it from several pushes.
 */
function straddlingWaveforms(): { capture: Uint8Array; waves: Uint8Array[] } {
  const b = new PcapWriter();
  const c = waveformMonitor(b, 'wave', 30_000);
  const waves: Uint8Array[] = [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const n = i % 4 === 3 ? 30_000 : 1200;
    const data = Array.from({ length: n }, (_, k) => i * 100_000 + k + 0.5);
    const wave = build.eventAddResponse({ data_type: DbrType.TIME_DOUBLE, data, subscriptionid: 9 });
    waves.push(wave);
    parts.push(wave, build.eventAddResponse({ data_type: DbrType.TIME_DOUBLE, data: [i], subscriptionid: 9 }));
  }
  const stream = concatBytes(parts);
  let t = T0 + 1;
  for (let at = 0, k = 0; at < stream.length; k++) {
    const n = 1000 + ((k * 1733) % 4000);
    c.send((t += 0.001), false, stream.subarray(at, at + n));
    at += n;
  }
  return { capture: b.bytes(), waves };
}

describe("shark()'s large arrays from messages that straddle segments", () => {
  const { capture, waves } = straddlingWaveforms();
  const isWave = (r: CaRecord) => r.command.name === 'EventAddResponse' && r.size > 1000;
  const arrayOf = (r: CaRecord) => ('data' in r.command ? r.command.data : undefined) as Float64Array;

  it('keep their values after the records that follow, with and without lendArrays', async () => {
    // Lent arrays are valid until the next record: digested at once. Own arrays are read at the end.
    const lent: string[] = [];
    for await (const r of shark(capture, { lendArrays: true })) lent.push(digest(r));
    const kept = await decode(capture);
    expect(kept.map(digest)).toEqual(lent);
    const wavesSeen = kept.filter(isWave);
    expect(wavesSeen.map((r) => arrayOf(r).length)).toEqual(waves.map((w, i) => (i % 4 === 3 ? 30_000 : 1200)));
    expect(wavesSeen.map((r) => arrayOf(r)[1])).toEqual(waves.map((_, i) => i * 100_000 + 1.5));
    // Without lendArrays each array's memory is the message it was assembled in (no second copy).
    expect(wavesSeen.every((r) => arrayOf(r).buffer.byteLength === r.size)).toBe(true);
  });

  it('leave the kept message bytes as they came', async () => {
    const records = await decode(capture, { keepBytes: true });
    const raws = records.filter(isWave).map((r) => Array.from(r.raw ?? []));
    expect(raws).toEqual(waves.map((w) => Array.from(w)));
  });
});

describe('shark() on a file', () => {
  it('gives records that stay intact after later chunks are read (the read buffers are reused)', async () => {
    const bytes = bigVariedCapture();
    expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-shark-test-'));
    try {
      const path = join(dir, 'big.pcap');
      writeFileSync(path, bytes);
      const fromFile: CaRecord[] = [];
      // The event loop turns while the file is decoded (once per FILE_CHUNK read), so timers, signals and
      // output events are not held up until the end of a big capture. Counted from the first record, so
      // the turns taken while the file is opened (more on a loaded machine) do not count.
      let turns = 0;
      let ticking = false;
      const tick = (): void => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      for await (const r of shark(path)) {
        if (!ticking) {
          ticking = true;
          setImmediate(tick);
        }
        fromFile.push(r);
      }
      ticking = false;
      // A turn per chunk read after the first.
      expect(turns).toBeGreaterThanOrEqual(Math.ceil(bytes.length / FILE_CHUNK) - 1);
      const fromMemory = await decode(bytes.slice());
      expect(fromFile.length).toBe(fromMemory.length);
      expect(fromFile.length).toBeGreaterThan(600);
      expect(fromFile.map(digest)).toEqual(fromMemory.map(digest));
      // Stopping early, with a read ahead in flight, ends the iteration cleanly.
      const it = shark(path);
      for await (const r of it) {
        void r;
        break;
      }
      expect(await it.next()).toEqual({ done: true, value: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Building and decoding the capture twice is slow on a loaded machine; no assertion is on time.
  }, 60_000);

  it('gives the same records as from memory when pcap records span two or three reads', async () => {
    // Frames of 300-580 KB (no IP: they decode to nothing) between reads: each one is split over two or
    // three FILE_CHUNK reads, in the rotating buffers.
    const b = new PcapWriter({ snaplen: 1 << 20 });
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    c.send(T0, true, build.createChanRequest({ name: 'big:pv', cid: 1, version: 13 }));
    c.send(T0, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: 1, sid: 1 }));
    let t = T0;
    for (let k = 0; k < 8; k++) {
      for (let i = 0; i < 200; i++) {
        t += 0.001;
        c.send(t, true, build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 1, ioid: k * 1000 + i }));
      }
      b.frame(t, new Uint8Array(300_000 + k * 40_000).fill(k + 1));
    }
    c.close(t + 1);
    const bytes = b.bytes();
    expect(bytes.length).toBeGreaterThan(8 * FILE_CHUNK);
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-shark-test-'));
    try {
      const path = join(dir, 'spans.pcap');
      writeFileSync(path, bytes);
      const fromFile: CaRecord[] = [];
      for await (const r of shark(path)) fromFile.push(r);
      const fromMemory = await decode(bytes.slice());
      expect(fromFile.length).toBe(2 + 8 * 200);
      expect(fromFile.map(digest)).toEqual(fromMemory.map(digest));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a FIFO given by path without blocking the event loop while the writer is slow', async () => {
    const bytes = workedExample().bytes();
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-shark-test-'));
    try {
      const path = join(dir, 'capture.fifo');
      execFileSync('mkfifo', [path]);
      // The writer opens the FIFO only after a timer has fired on this event loop, then writes in two
      // parts with a pause: a synchronous read of the FIFO would hold the loop, and the timer, up.
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const writer = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        const fifo = await open(path, 'w');
        await fifo.write(bytes.subarray(0, 100));
        await new Promise((resolve) => setTimeout(resolve, 30));
        await fifo.write(bytes.subarray(100));
        await fifo.close();
      })();
      const names: string[] = [];
      for await (const r of shark(path)) names.push(r.command.name);
      await writer;
      clearInterval(ticker);
      expect(names).toEqual(await all(bytes));
      expect(ticks).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A record as JSON, typed arrays as plain ones (comparing those element by element was slow). */
function digest(r: CaRecord): string {
  return JSON.stringify(r, (_key, value: unknown) =>
    ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value,
  );
}
