import { mkdtempSync, openSync, closeSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, TcpConversation, type PacketProblem } from '@ca-shark/packet';
import { DbrType, build } from '@ca-shark/protocol';
import { Decoder } from './decoder.js';
import type { CaDecoder } from './decoder.js';
import type { CaRecord } from './record.js';
import { shark, type SharkOptions } from './shark.js';
import { PacketThread, STEP_WAIT, usePacketThread, PACKET_THREAD_MIN_BYTES } from './shark-thread.js';
import { PACKET_RING } from './shark-thread-wire.js';
import { FIXTURES, readFixture } from './test-support/mutation.js';
import { CLIENT, SERVER, T0, channelFlood, workedCircuit, workedExample } from './test-support/scenario.js';
import { searchTraffic } from './test-support/search-traffic.js';
import { statSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'shark-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(bytes: Uint8Array): string {
  const path = join(dir, `capture-${files++}.pcap`);
  writeFileSync(path, bytes);
  return path;
}

/** Typed arrays as plain arrays, so JSON compares their values. */
function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : typeof v === 'bigint' ? String(v) : v,
  );
}

interface Run {
  /** Records and problems, in the order the consumer saw them. */
  events: string[];
  circuitsClosed: number;
  packetStats: string;
  state: string;
  skipped: string;
  error?: string;
}

/** Everything a consumer of shark(path) can see, with the packet thread on or off. */
async function run(path: string, thread: boolean, options: SharkOptions = {}): Promise<Run> {
  const events: string[] = [];
  let decoder: CaDecoder | undefined;
  let circuitsClosed = 0;
  const result: Run = { events, circuitsClosed: 0, packetStats: '', state: '', skipped: '' };
  try {
    const records = shark(path, {
      ...options,
      packetThread: thread,
      onProblem: options.onProblem ?? ((p: PacketProblem) => events.push(`problem ${json(p)}`)),
      onDecoder: (d) => (decoder = d),
      onCircuitClose: (c) => {
        circuitsClosed++;
        events.push(`closed ${json(c)}`);
      },
    });
    for (let r = await records.next(); !r.done; r = await records.next())
      for (let record: CaRecord | undefined = r.value; record !== undefined; record = records.nextReady())
        events.push(`record ${json(record)}`);
  } catch (err) {
    result.error = String(err);
  }
  result.circuitsClosed = circuitsClosed;
  result.packetStats = json(decoder?.packetStats);
  result.state = json(decoder?.state.statistics);
  result.skipped = json(decoder?.skippedFlows);
  return result;
}

async function expectSame(path: string, options: SharkOptions = {}): Promise<Run> {
  const one = await run(path, false, options);
  const two = await run(path, true, options);
  expect(two.error).toBe(one.error);
  expect(two.events.length).toBe(one.events.length);
  for (let i = 0; i < one.events.length; i++)
    if (two.events[i] !== one.events[i]) expect(two.events[i]).toBe(one.events[i]);
  expect(two.packetStats).toBe(one.packetStats);
  expect(two.state).toBe(one.state);
  expect(two.skipped).toBe(one.skipped);
  return one;
}

/** A circuit with a 1000-element DOUBLE waveform monitor updated `updates` times: some MB of TCP. */
function waveforms(updates: number): Uint8Array {
  const b = new PcapWriter();
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
  const { client, server } = workedCircuit();
  for (let i = 0; i < client.length - 1; i++) {
    c.send(T0 + 1 + i * 0.1, true, client[i]);
    c.send(T0 + 1.01 + i * 0.1, false, server[i]);
  }
  const data = Array.from({ length: 1000 }, (_, i) => i * 0.5);
  for (let u = 0; u < updates; u++) {
    data[0] = u;
    c.send(T0 + 3 + u * 0.01, false, build.eventAddResponse({ data_type: DbrType.DOUBLE, data, subscriptionid: 1 }));
  }
  c.close(T0 + 4 + updates * 0.01);
  return b.bytes();
}

/**
 * A circuit left open while more than PACKET_RING other packets pass, so its end (at the end of the
 * capture) refers to a packet the main thread no longer keeps: the worker sends it again.
 */
function longIdleFlow(): Uint8Array {
  const b = new PcapWriter();
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
  const { client, server } = workedCircuit();
  c.send(T0 + 0.1, true, client[0]);
  c.send(T0 + 0.11, false, server[0]);
  // Searches over more than the reassembler's idle timeout (600 s): the circuit times out at their end.
  const searches = 2 * PACKET_RING;
  for (let s = 0; s < searches; s++)
    b.udp(T0 + 1 + s * 0.4, CLIENT, 40000, SERVER, 5064, build.searchRequest({ name: `x:${s}`, cid: s }));
  return b.bytes();
}

// Each run with the thread starts a worker, which loads tsx and the packet layer from source: a second or
// more on a loaded machine.
describe('shark() packet thread', { timeout: 120_000 }, () => {
  it("is off by default, chosen by size on two cores with 'auto', or by CA_SHARK_PACKET_THREAD", () => {
    expect(usePacketThread(true, 10)).toBe(true);
    expect(usePacketThread(false, PACKET_THREAD_MIN_BYTES * 4)).toBe(false);
    expect(usePacketThread('auto', 1 << 20)).toBe(false);
    expect(usePacketThread('auto', PACKET_THREAD_MIN_BYTES)).toBe(availableParallelism() >= 2);
    const saved = process.env.CA_SHARK_PACKET_THREAD;
    try {
      delete process.env.CA_SHARK_PACKET_THREAD;
      expect(usePacketThread(undefined, PACKET_THREAD_MIN_BYTES * 4)).toBe(false);
      process.env.CA_SHARK_PACKET_THREAD = '1';
      expect(usePacketThread(undefined, 10)).toBe(true);
      expect(usePacketThread(false, 10)).toBe(false);
      process.env.CA_SHARK_PACKET_THREAD = '0';
      expect(usePacketThread(undefined, PACKET_THREAD_MIN_BYTES * 4)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CA_SHARK_PACKET_THREAD;
      else process.env.CA_SHARK_PACKET_THREAD = saved;
    }
  });

  it.each(FIXTURES)('gives the same records, problems and state on %s', async (name) => {
    const one = await expectSame(file(readFixture(name)));
    expect(one.events.length).toBeGreaterThan(0);
  });

  it('gives the same on captures of several MB (TCP waveforms, a channel flood, UDP searches)', async () => {
    const big = file(waveforms(1000));
    expect(statSync(big).size).toBeGreaterThan(6 << 20);
    const wave = await expectSame(big);
    expect(wave.events.length).toBeGreaterThan(1000);
    await expectSame(file(channelFlood(60_000)));
    await expectSame(file(searchTraffic(5000, 20)));
  });

  it('gives the same with lent arrays', async () => {
    const path = file(waveforms(1500));
    await expectSame(path, { lendArrays: true });
  });

  it('gives the same with other server and repeater ports', async () => {
    const path = file(workedExample({ port: 6064, search: false }).bytes());
    const one = await expectSame(path, { serverPort: 6064, repeaterPort: 6065 });
    expect(one.events.filter((e) => e.startsWith('record')).length).toBeGreaterThan(5);
    await expectSame(path, { extraServerPorts: [6064] });
  });

  it('sends a packet again when an event refers to one older than the main thread keeps', async () => {
    const one = await expectSame(file(longIdleFlow()));
    expect(one.circuitsClosed).toBe(1);
  });

  it('gives the same problems, in order, on a cut and a corrupt capture', async () => {
    const bytes = waveforms(600);
    const cut = await expectSame(file(bytes.subarray(0, bytes.length - 777)));
    expect(cut.events.some((e) => e.startsWith('problem'))).toBe(true);
    const corrupt = bytes.slice();
    for (let at = 5000; at < corrupt.length; at += 97_003) corrupt.fill(0xff, at, at + 40);
    await expectSame(file(corrupt));
    const fixture = readFixture('packet/fixtures/ca_monitor.pcapng');
    await expectSame(file(fixture.subarray(0, Math.floor(fixture.length / 2))));
  });

  it('throws as the one-thread path does on input that is no capture, and on a missing file', async () => {
    const junk = file(new Uint8Array(100_000).fill(0x41));
    const errors: string[] = [];
    for (const thread of [false, true]) {
      try {
        for await (const r of shark(junk, { packetThread: thread })) void r;
      } catch (err) {
        errors.push(String(err));
      }
    }
    expect(errors.length).toBe(2);
    expect(errors[1]).toBe(errors[0]);
    await expectSame(junk);
    const missing: string[] = [];
    for (const thread of [false, true]) {
      try {
        for await (const r of shark(join(dir, 'missing.pcap'), { packetThread: thread })) void r;
      } catch (err) {
        missing.push(String(err));
      }
    }
    expect(missing).toEqual([missing[0], missing[0]]);
    expect(missing[0]).toContain('ENOENT');
  });

  it('ends the worker and closes the file when the loop breaks early', async () => {
    const path = file(waveforms(1000));
    const fds = readdirSync('/proc/self/fd').length;
    const threads = readdirSync('/proc/self/task').length;
    let n = 0;
    const records = shark(path, { packetThread: true });
    for await (const r of records) {
      void r;
      if (++n === 10) break;
    }
    expect(n).toBe(10);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
    expect(readdirSync('/proc/self/task').length).toBe(threads);
    expect(await records.next()).toEqual({ done: true, value: undefined });
  });

  it('turns a failing worker into an error', async () => {
    const path = file(waveforms(10));
    const fd = openSync(path, 'r');
    closeSync(fd);
    // A closed descriptor: the worker's first read fails.
    const thread = new PacketThread(fd, new Decoder());
    let error: unknown;
    try {
      for (;;) {
        if (thread.step() === STEP_WAIT) await thread.wait();
      }
    } catch (err) {
      error = err;
    }
    await thread.close();
    expect(String(error)).toMatch(/shark\(\): the packet thread failed: E[A-Z]+/);
  });
});
