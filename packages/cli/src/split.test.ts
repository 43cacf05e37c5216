/**
 * The --json split (split.ts): lines with their long waveforms left as holes, filled by the worker or the
 * main thread, come out exactly as one thread writes them, in order.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CaRecord } from '@ca-shark/decoder';
import { recordToJSON } from '@ca-shark/analysis';
import { LineWriter } from './output.js';
import { JsonSplitPrinter, LONG_WAVEFORM } from './split.js';

/** A decoder-like record: packet fields, then a command with `count` waveform values (none when 0). */
function record(frame: number, count: number, typed: boolean): CaRecord {
  const values = Array.from({ length: count }, (_, i) => Math.sin(frame + i) * 10 ** ((frame + i) % 7));
  const data = count === 0 ? undefined : typed ? Float64Array.from(values) : values;
  return {
    frame,
    timestamp: 1796516252.509986 + frame / 1000,
    interfaceId: 0,
    src: '127.0.0.1',
    dst: '127.0.0.1',
    ethernet: { type: 'ethernet' },
    ip: { version: 4, ttl: 64 },
    transport: { protocol: 'tcp', sport: 5064, dport: 40000 + (frame % 3) },
    command:
      count === 0 ? { name: 'EchoRequest', id: 23 } : { name: 'EventAddResponse', id: 1, data_count: count, data },
    pv: 'wave:' + (frame % 5),
    size: 16 + 8 * count,
  } as unknown as CaRecord;
}

/** The records of a mixed capture: scalars, short and long waveforms, runs of each. */
function mixed(n: number): CaRecord[] {
  const out: CaRecord[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 23 === 0 ? 30_000 : i % 7 === 0 ? LONG_WAVEFORM : i % 5 === 0 ? LONG_WAVEFORM - 1 : 0;
    out.push(record(i, kind, i % 11 !== 0));
  }
  return out;
}

/** Prints `records` through a JsonSplitPrinter into a string, yielding to the event loop now and then. */
async function printSplit(records: readonly CaRecord[]): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const out = new LineWriter(sink);
  const split = new JsonSplitPrinter();
  try {
    for (let i = 0; i < records.length; i++) {
      split.record(out, records[i]);
      const waiting = split.backlog(out);
      if (waiting !== null) await waiting;
    }
    await split.finish(out);
    await out.end();
  } finally {
    await split.close();
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('JsonSplitPrinter', () => {
  it('prints what recordToJSON gives, line by line in order, long waveforms filled by the worker', async () => {
    const records = mixed(1500);
    const expected = records.map((r) => recordToJSON(r) + '\n').join('');
    const printed = await printSplit(records);
    expect(printed.split('\n')).toEqual(expected.split('\n'));
    expect(printed).toBe(expected);
  }, 60_000);

  it('prints records with no long waveform straight through, and an empty run as nothing', async () => {
    const records = Array.from({ length: 50 }, (_, i) => record(i, i % 2 === 0 ? 3 : 0, true));
    expect(await printSplit(records)).toBe(records.map((r) => recordToJSON(r) + '\n').join(''));
    expect(await printSplit([])).toBe('');
  }, 60_000);
});
