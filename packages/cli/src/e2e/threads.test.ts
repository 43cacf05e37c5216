/**
 * Printing a file on two threads (split.ts) gives exactly what one thread prints: the same lines in the
 * same order, the same stderr and exit status, whatever the output mode and filter, and on damaged input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, lines, plainEnv, runCli, type CliResult } from '../test-support/cli.js';
import { build, DbrType } from '@ca-shark/protocol';
import { pcapFile, TcpConversation, WORKLOAD, workloadCapture, type Packet } from '../test-support/capture.js';
import { LONG_WAVEFORM, THREADS_ENV } from '../split.js';

vi.setConfig({ testTimeout: 120_000 });

/** Messages of the workload capture: lines enough for many batches of the two-thread printers. */
const MANY = 10_363;

let dir: string;
let capture: string;
let messages: number;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-threads-test-'));
  // Enough messages for several batches of each thread.
  const w = workloadCapture(MANY);
  messages = w.messages;
  capture = join(dir, 'workload.pcap');
  writeFileSync(capture, w.bytes);
  // Cut inside the last record: the input is damaged (status 2) after many batches.
  writeFileSync(join(dir, 'cut.pcap'), w.bytes.subarray(0, w.bytes.length - 10));
  writeFileSync(join(dir, 'waveforms.pcap'), waveformCapture(WAVEFORM_UPDATES));
}, 180_000);

/** Monitor updates in {@link waveformCapture}. */
const WAVEFORM_UPDATES = 400;

/**
 * A monitor of a DOUBLE waveform whose updates alternate between long (left to the worker as holes by a
 * --json split), short and of one or two values (holes of a text split only), with values of every
 * magnitude, integers and non-finite ones among them.
 */
function waveformCapture(updates: number): Uint8Array {
  const { client, server, clientTcpPort, serverTcpPort } = WORKLOAD;
  const c = new TcpConversation(client, clientTcpPort, server, serverTcpPort);
  let t = 1_700_000_000;
  const packets: Packet[] = [...c.handshake(t)];
  packets.push(c.fromClient((t += 0.001), build.createChanRequest({ name: 'wave', cid: 1 })));
  packets.push(
    c.fromServer(
      (t += 0.001),
      build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 3000, cid: 1, sid: 7 }),
    ),
  );
  packets.push(
    c.fromClient(
      (t += 0.001),
      build.eventAddRequest({ data_type: DbrType.DOUBLE, sid: 7, subscriptionid: 1, mask: 1 }),
    ),
  );
  for (let u = 0; u < updates; u++) {
    const n = [LONG_WAVEFORM - 1, LONG_WAVEFORM, 3000, 1, 2][u % 5];
    const data = Array.from({ length: n }, (_, i) =>
      i % 17 === 0 ? i : i % 101 === 0 ? Number.NaN : Math.sin(u * n + i) * 10 ** ((i % 13) - 6),
    );
    packets.push(
      c.fromServer((t += 0.05), build.eventAddResponse({ data_type: DbrType.DOUBLE, data, subscriptionid: 1 })),
    );
  }
  return pcapFile(packets);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runThreads(threads: 1 | 2, args: readonly string[]): Promise<CliResult> {
  return runCli(args, { env: plainEnv({ [THREADS_ENV]: String(threads) }) });
}

async function expectSame(args: readonly string[]): Promise<CliResult> {
  const one = await runThreads(1, args);
  const two = await runThreads(2, args);
  expect(two.stderr).toBe(one.stderr);
  expect(two.code).toBe(one.code);
  // Compared as lines first for a readable failure, then byte for byte.
  expect(lines(two.stdout)).toEqual(lines(one.stdout));
  expect(two.stdout).toBe(one.stdout);
  return two;
}

describe('two threads print what one prints', () => {
  it('default text, every message', async () => {
    const r = await expectSame([capture]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(messages);
  });

  it('--json', async () => {
    const r = await expectSame(['--json', capture]);
    expect(lines(r.stdout)).toHaveLength(messages);
  });

  it('--json with long waveforms, their digits written by the worker', async () => {
    const r = await expectSame(['--json', join(dir, 'waveforms.pcap')]);
    expect(r.code).toBe(0);
    const updates = lines(r.stdout).filter((l) => l.includes('"EventAddResponse"'));
    expect(updates).toHaveLength(WAVEFORM_UPDATES);
    expect((JSON.parse(updates[2]) as { command: { data: number[] } }).command.data).toHaveLength(3000);
  });

  it('default text with waveforms, their numpy reprs written by the worker', async () => {
    const r = await expectSame([join(dir, 'waveforms.pcap')]);
    expect(r.code).toBe(0);
    const updates = lines(r.stdout).filter((l) => l.includes('EventAddResponse('));
    expect(updates).toHaveLength(WAVEFORM_UPDATES);
    expect(updates[2]).toContain(', ..., ');
  });

  it('a filter that keeps some messages of each batch, and a template', async () => {
    const r = await expectSame(['--pv', 'wl:1', '--format', '{frame} {pv} {latency}', capture]);
    expect(lines(r.stdout).length).toBeGreaterThan(500);
    expect(lines(r.stdout).length).toBeLessThan(messages);
  });

  it('colour', async () => {
    await expectSame(['--color', 'always', capture]);
  });

  it('nothing matched: status 1', async () => {
    const r = await expectSame(['--pv', 'no:such:pv', capture]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('damaged input: everything before the cut, the same complaint and status', async () => {
    const r = await expectSame([join(dir, 'cut.pcap')]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toBe('');
    expect(lines(r.stdout).length).toBeGreaterThan(MANY / 2);
  });

  it('several files, one missing', async () => {
    const r = await expectSame([capture, join(dir, 'missing.pcap'), capture]);
    expect(r.code).toBe(2);
    expect(lines(r.stdout)).toHaveLength(2 * messages);
  });
});
