import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { Engine } from './engine.js';
import { MessageChannel } from 'node:worker_threads';
import { runSteps } from '@ca-shark/analysis';
import type { TableText } from './model.js';
import { ViewPublisher, jsonBytesSteps, tableBuffers } from './views-publisher.js';
import type { ChannelView, SnapshotView } from './views.js';

const capture = readFileSync(fileURLToPath(new URL('../../packet/fixtures/ca_monitor2.pcapng', import.meta.url)));

/** An engine that has decoded the first `frames` frames of the capture, and a function to feed the rest. */
function engineAfter(frames: number): { engine: Engine; rest: () => void; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: 'ca_monitor2.pcapng' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: () => undefined,
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
  });
  const held: Parameters<Engine['frame']>[] = [];
  const reader = new CaptureReader({
    frame: (f) => {
      const args: Parameters<Engine['frame']> = [f.linktype, f.timestamp, f.data.slice(), f.origlen];
      if (held.length === 0 && frames > 0) {
        frames -= 1;
        engine.frame(...args);
      } else held.push(args);
    },
    problem: () => undefined,
  });
  reader.push(capture);
  reader.end();
  return { engine, rest: () => held.splice(0).forEach((args) => engine.frame(...args)), clock };
}

/** A published table's rows (its text is UTF-8 bytes). */
function parseTable(table: unknown): unknown {
  const text = (table as TableText).text;
  return JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8')) as unknown;
}

describe('jsonBytesSteps', () => {
  it('gives the UTF-8 bytes of JSON.stringify(rows), in its own ArrayBuffer, at every size', () => {
    const row = (i: number): object => ({ pv: `PV:${i}:µ°\u{1f600}`, n: i, value: i % 3 === 0 ? null : [i, 'a"b'] });
    for (const n of [0, 1, 255, 256, 257, 1000]) {
      const rows = Array.from({ length: n }, (_, i) => row(i));
      const bytes = runSteps(jsonBytesSteps(rows));
      expect(Buffer.from(bytes).toString('utf8')).toBe(JSON.stringify(rows));
      // Transferable alone: not a view into node's shared pool of small buffers.
      expect([bytes.byteOffset, bytes.byteLength]).toEqual([0, bytes.buffer.byteLength]);
    }
  });

  it("moves a publication's table bytes to the other thread without detaching anything else", async () => {
    const { engine } = engineAfter(10);
    const views = new ViewPublisher(engine).publish(['channels', 'servers']);
    const expected = ['channels', 'servers'].map((name) => parseTable(views.tables[name as 'channels']));
    const small = Buffer.from('kept');
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof views>((resolve) => port2.once('message', resolve));
    port1.postMessage(views, tableBuffers(views));
    const got = await received;
    port1.close();
    expect(tableBuffers(views).every((b) => b.byteLength === 0)).toBe(true);
    expect(['channels', 'servers'].map((name) => parseTable(got.tables[name as 'channels']))).toEqual(expected);
    expect(small.toString()).toBe('kept');
  });
});

describe('ViewPublisher', () => {
  it('serialises the snapshot and each table once per change, and only stamps them while nothing changes', () => {
    const { engine, rest, clock } = engineAfter(10);
    const publisher = new ViewPublisher(engine);
    const body = vi.spyOn(engine, 'snapshotBodySteps');
    const table = vi.spyOn(engine, 'tableSteps');

    const first = publisher.publish(['channels']);
    const snapshot = JSON.parse(first.snapshot.text) as SnapshotView;
    expect(snapshot).toEqual({ ...engine.snapshot(), type: 'snapshot', time: 1000 });
    expect(first.snapshot.time).toBe(1000);
    expect(parseTable(first.tables.channels)).toEqual(engine.channels());
    // Once by the publisher, once by engine.snapshot() above.
    expect([body.mock.calls.length, table.mock.calls.length]).toEqual([2, 1]);

    // Nothing decoded since: no view is computed again; the tables get a newer time, not a new text.
    clock.now += 1000;
    const second = publisher.publish(['channels', 'servers']);
    expect(second.tables.channels).toEqual({ time: 1001 });
    expect(second.tables.servers).toMatchObject({ time: 1001, text: expect.any(Uint8Array) });
    expect(JSON.parse(second.snapshot.text)).toMatchObject({ time: 1001, channels: snapshot.channels });
    expect([body.mock.calls.length, table.mock.calls.length]).toEqual([2, 2]);

    // New frames: everything asked for is computed again, once.
    rest();
    const third = publisher.publish(['channels']);
    const rows = parseTable(third.tables.channels) as ChannelView[];
    expect(rows.map((r) => r.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    expect(rows.reduce((n, r) => n + r.updates, 0)).toBeGreaterThan(0);
    expect([body.mock.calls.length, table.mock.calls.length]).toEqual([3, 3]);
    expect(third.costMs).toBeGreaterThanOrEqual(0);
  });

  it('sends every part again after a publication dropped before its end (forget)', () => {
    const { engine, rest } = engineAfter(10);
    const publisher = new ViewPublisher(engine);
    publisher.publish(['channels', 'servers']);
    rest();
    // A publication of the new state dropped once its snapshot and channels are done: they count as published.
    const dropped = publisher.publishSteps(['channels', 'servers']);
    const table = vi.spyOn(engine, 'tableSteps');
    for (let i = 0; i < 10_000 && table.mock.calls.length < 2; i++) dropped.next();
    expect(table.mock.calls.length).toBe(2);
    dropped.return(undefined as never);
    // Without forget: only stamps, though that text was never sent.
    expect(publisher.publish(['channels']).tables.channels).not.toHaveProperty('text');
    publisher.forget();
    const again = publisher.publish(['channels', 'servers']);
    const fresh = new ViewPublisher(engine).publish(['channels', 'servers']);
    expect(again.tables).toEqual(fresh.tables);
    expect(again.snapshot.text).toBe(fresh.snapshot.text);
  });
});
