/**
 * The two-thread printers (split.ts): lines with their arrays left as holes, filled by the worker or the
 * main thread, come out exactly as one thread writes them, in order.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CaRecord } from '@ca-shark/decoder';
import { recordToJSON } from '@ca-shark/analysis';
import { DbrType } from '@ca-shark/protocol';
import { CaprotoRepr } from './caproto-names.js';
import { LineWriter } from './output.js';
import { parseCommandLine } from './args.js';
import {
  jsonSplitPrinter,
  LONG_WAVEFORM,
  othersRunning,
  SPLIT_MIN_BYTES,
  textSplitPrinter,
  THREADS_ENV,
  useSplit,
  type SplitPrinter,
} from './split.js';
import { writeDefaultLine } from './template.js';
import { asString } from './text-buffer.js';

/** A decoder-like record: packet fields, then a command with `count` waveform values (none when 0). */
function record(frame: number, count: number, typed: boolean, dataType: number = DbrType.DOUBLE): CaRecord {
  const values = Array.from({ length: count }, (_, i) => value(frame + i, dataType));
  const data = count === 0 ? undefined : typed ? typedOf(dataType, values) : values;
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
      count === 0
        ? { name: 'EchoRequest', id: 23 }
        : {
            name: 'EventAddResponse',
            id: 1,
            data,
            data_type: dataType,
            data_count: count,
            status: 1,
            subscriptionid: frame % 17,
            metadata: null,
          },
    pv: 'wave:' + (frame % 5),
    size: 16 + 8 * count,
  } as unknown as CaRecord;
}

/** Values of every magnitude for floats (non-finite ones too), of the element type's range for integers. */
function value(i: number, dataType: number): number {
  const x = Math.sin(i) * 10 ** ((i % 13) - 5);
  switch (dataType) {
    case DbrType.DOUBLE:
      return i % 97 === 0 ? Number.NaN : i % 89 === 0 ? -Infinity : i % 7 === 0 ? Math.round(x) : x;
    case DbrType.FLOAT:
      return Math.fround(x);
    case DbrType.SHORT:
      return Math.round(Math.sin(i) * 32767);
    case DbrType.LONG:
      return Math.round(Math.sin(i) * 2 ** 31 * 0.999);
    case DbrType.ENUM:
      return i % 16;
    default:
      return Math.abs(Math.round(Math.sin(i) * 255));
  }
}

function typedOf(dataType: number, values: number[]): ArrayLike<number> {
  switch (dataType) {
    case DbrType.DOUBLE:
      return Float64Array.from(values);
    case DbrType.FLOAT:
      return Float32Array.from(values);
    case DbrType.SHORT:
      return Int16Array.from(values);
    case DbrType.LONG:
      return Int32Array.from(values);
    case DbrType.ENUM:
      return Uint16Array.from(values);
    default:
      return Uint8Array.from(values);
  }
}

/** The records of a mixed capture: scalars, short and long waveforms, runs of each. */
function mixed(n: number, long: number): CaRecord[] {
  const out: CaRecord[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 23 === 0 ? 30_000 : i % 7 === 0 ? long : i % 5 === 0 ? long - 1 : 0;
    out.push(record(i, kind, i % 11 !== 0));
  }
  return out;
}

/** A string payload of `count` 30-character values: a line of `count` × 36 bytes or more. */
function stringRecord(frame: number, count: number): CaRecord {
  const r = record(frame, 1, false, DbrType.STRING) as unknown as { command: Record<string, unknown>; size: number };
  r.command['data'] = Array.from({ length: count }, (_, i) => `value ${frame}:${i} `.padEnd(30, 'x'));
  r.command['data_count'] = count;
  r.size = 16 + 40 * count;
  return r as unknown as CaRecord;
}

/**
 * Lines too long for a batch's shared memory among lines with holes: a batch grows out of it (its holes
 * are then filled on the main thread) and the next batches use it again.
 */
function outgrowing(): CaRecord[] {
  const out: CaRecord[] = [];
  for (let i = 0; i < 6; i++)
    out.push(record(3 * i, 20, true), stringRecord(3 * i + 1, 5000), record(3 * i + 2, 0, true));
  return out.concat(mixed(300, LONG_WAVEFORM).map((r, i) => ({ ...r, frame: 100 + i })));
}

/** Prints `records` through `split` into a string, yielding to the event loop now and then. */
async function printSplit(split: SplitPrinter, records: readonly CaRecord[]): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const out = new LineWriter(sink);
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

const textLine = (r: CaRecord): string => asString((out) => writeDefaultLine(out, r)) + '\n';

describe('two-thread --json printer', () => {
  it('prints what recordToJSON gives, line by line in order, long waveforms filled by the worker', async () => {
    const records = mixed(1500, LONG_WAVEFORM);
    const expected = records.map((r) => recordToJSON(r) + '\n').join('');
    const printed = await printSplit(jsonSplitPrinter(), records);
    expect(printed.split('\n')).toEqual(expected.split('\n'));
    expect(printed).toBe(expected);
  }, 60_000);

  it('prints records with no long waveform straight through, and an empty run as nothing', async () => {
    const records = Array.from({ length: 50 }, (_, i) => record(i, i % 2 === 0 ? 3 : 0, true));
    expect(await printSplit(jsonSplitPrinter(), records)).toBe(records.map((r) => recordToJSON(r) + '\n').join(''));
    expect(await printSplit(jsonSplitPrinter(), [])).toBe('');
  }, 60_000);

  it('writes a waveform too long for a batch in place, and digits too many for a batch in a buffer of their own', async () => {
    // 60,000 values twice fill a batch's values past what its text room holds; 200,000 exceed its values.
    const records = [record(1, 60_000, true), record(2, 60_000, true), record(3, 200_000, true), record(4, 0, true)];
    const printed = await printSplit(jsonSplitPrinter(), records);
    expect(printed).toBe(records.map((r) => recordToJSON(r) + '\n').join(''));
  }, 60_000);
});

describe('two-thread printers, lines longer than a batch holds', () => {
  it('--json', async () => {
    const records = outgrowing();
    expect(await printSplit(jsonSplitPrinter(), records)).toBe(records.map((r) => recordToJSON(r) + '\n').join(''));
  }, 60_000);

  it('text', async () => {
    const records = outgrowing();
    expect(await printSplit(textSplitPrinter(writeDefaultLine), records)).toBe(records.map(textLine).join(''));
  }, 60_000);
});

describe('two-thread text printer', () => {
  it('prints what the default line gives, numpy arrays written by the worker', async () => {
    const records = mixed(1500, 8);
    const printed = await printSplit(textSplitPrinter(writeDefaultLine), records);
    const expected = records.map(textLine).join('');
    expect(printed.split('\n')).toEqual(expected.split('\n'));
    expect(printed).toBe(expected);
  }, 60_000);

  it('every numeric element type, plain and typed, empty to summarised', async () => {
    const types = [DbrType.DOUBLE, DbrType.FLOAT, DbrType.SHORT, DbrType.LONG, DbrType.ENUM, DbrType.CHAR];
    const counts = [1, 2, 7, 8, 100, 1000, 1001, 5000];
    const records: CaRecord[] = [];
    let frame = 0;
    for (const type of types)
      for (const count of counts)
        for (const typed of [false, true]) {
          records.push(record(++frame, count, typed, type));
        }
    const printed = await printSplit(textSplitPrinter(writeDefaultLine), records);
    expect(printed.split('\n')).toEqual(records.map(textLine).join('').split('\n'));
  }, 60_000);
});

/** The data layouts' classes with data (a payload and metadata), with their third and fourth arguments. */
const DATA_LAYOUT_CLASSES: [string, string, string][] = [
  ['EventAddResponse', 'status', 'subscriptionid'],
  ['ReadNotifyResponse', 'status', 'ioid'],
  ['ReadResponse', 'sid', 'ioid'],
  ['WriteRequest', 'sid', 'ioid'],
  ['WriteNotifyRequest', 'sid', 'ioid'],
];

/**
 * The classes whose first arguments the worker writes (render.ts's data layouts), with each argument
 * of a kind that must take the main thread's path instead: an absent field whose alternative is printed,
 * ids that are not integers, statuses outside the ECA table, types without a numpy payload, metadata.
 */
function layoutRecords(): CaRecord[] {
  const commands: Record<string, unknown>[] = [];
  const classes: [string, string, string][] = [
    ...DATA_LAYOUT_CLASSES,
    ['ReadNotifyRequest', 'sid', 'ioid'],
    ['ReadRequest', 'sid', 'ioid'],
    ['WriteNotifyResponse', 'status', 'ioid'],
    ['CreateChanResponse', 'cid', 'sid'],
  ];
  const thirds = [1, 0, 7777, 2 ** 32 - 1, 1.5, -3, Number.NaN, undefined, 'x'];
  const fourths = [0, 4_294_967_295, 2 ** 53, 2.5, Number.NaN, undefined];
  const types = [DbrType.DOUBLE, DbrType.TIME_SHORT, DbrType.CTRL_FLOAT, DbrType.STRING, 99, 2.5];
  let i = 0;
  for (const [name, third, fourth] of classes) {
    for (const t of thirds)
      for (const f of fourths) {
        const dataType = types[i++ % types.length];
        const count = [1, 3, 1200][i % 3];
        const data = dataType === DbrType.STRING ? ['a'] : Array.from({ length: count }, (_, k) => k * 1.25 - 7);
        const cmd: Record<string, unknown> = { name, id: 1, data_type: dataType, data_count: count };
        if (t !== undefined) cmd[third] = t;
        if (f !== undefined) cmd[fourth] = f;
        // The alternatives printed under the first name: ReadResponse's `sid|cid`, WriteRequest's `ioid|cid`.
        if (t === undefined || f === undefined) cmd['cid'] = 42;
        cmd['data'] = i % 4 === 0 ? Float64Array.from(data as number[]) : data;
        if (i % 5 === 0) cmd['metadata'] = { status: 0, severity: 0, secondsPastEpoch: 1_000_000, nanoseconds: 5000 };
        else if (i % 5 === 1) cmd['metadata'] = null;
        commands.push(cmd);
      }
  }
  commands.push({ name: 'EventAddResponse', id: 1, data: [], data_type: DbrType.DOUBLE, data_count: 0, status: 1 });
  commands.push({ name: 'ReadNotifyResponse', id: 15, data: 'x', data_type: DbrType.DOUBLE, data_count: 1, status: 1 });
  return commands.map((command, k) => {
    const r = record(k, 0, false) as unknown as { command: unknown; size: number };
    r.command = command;
    r.size = 16;
    return r as unknown as CaRecord;
  });
}

/**
 * Data replies with a metadata structure of each kind, those that numbers carry to the worker (TIME, STS,
 * GR, CTRL) and those they do not (enum strings, STSACK, odd values), as the decoder gives them.
 */
function metadataRecords(): CaRecord[] {
  const limits = {
    upperDisplayLimit: 10.5,
    lowerDisplayLimit: -0,
    upperAlarmLimit: 9,
    upperWarningLimit: Number.NaN,
    lowerWarningLimit: -8,
    lowerAlarmLimit: -9,
    upperControlLimit: 5,
    lowerControlLimit: -5,
  };
  const structures: [number, unknown][] = [
    [DbrType.TIME_DOUBLE, { status: 0, severity: 0, secondsPastEpoch: 1_000_000, nanoseconds: 5000, timestamp: 1 }],
    [DbrType.TIME_SHORT, { status: 17, severity: 2, secondsPastEpoch: 0, nanoseconds: 0 }],
    [DbrType.STS_FLOAT, { status: 3, severity: 1 }],
    [DbrType.CTRL_DOUBLE, { status: 0, severity: 0, ...limits, precision: 3, units: "mm'" }],
    [DbrType.GR_LONG, { status: 0, severity: 0, ...limits, units: 'é' }],
    [DbrType.CTRL_ENUM, { status: 0, severity: 0, enumStrings: ['Off', 'On'] }],
    [DbrType.CTRL_LONG, { status: 0, severity: 0, ...limits, units: 'x'.repeat(50) }],
    [DbrType.TIME_CHAR, { status: 0, severity: 0, ackt: 1, acks: 0 }],
    [DbrType.TIME_DOUBLE, { status: 'odd', severity: 0 }],
    [DbrType.TIME_DOUBLE, []],
    [DbrType.TIME_DOUBLE, 5],
    [DbrType.TIME_DOUBLE, new CaprotoRepr('(repr: tuple index out of range)')],
  ];
  const records: CaRecord[] = [];
  let k = 0;
  for (const [name, third, fourth] of DATA_LAYOUT_CLASSES)
    for (const [dataType, metadata] of structures) {
      const count = [1, 4, 2000][k % 3];
      const r = record(k++, 0, false) as unknown as { command: unknown; size: number };
      r.command = {
        name,
        id: 1,
        data: Array.from({ length: count }, (_, i) => i * 3 - 1),
        data_type: dataType,
        data_count: count,
        [third]: 1,
        [fourth]: k,
        metadata,
      };
      r.size = 16 + 8 * count;
      records.push(r as unknown as CaRecord);
    }
  return records;
}

describe('two-thread text printer, the data layouts', () => {
  it('writes metadata structures in the holes as one thread does, or leaves them to the main thread', async () => {
    const records = metadataRecords();
    const printed = await printSplit(textSplitPrinter(writeDefaultLine), records);
    expect(printed.split('\n')).toEqual(records.map(textLine).join('').split('\n'));
  }, 60_000);

  it('writes the first arguments of data replies, writes, read requests and write replies as one thread does', async () => {
    const records = layoutRecords();
    const printed = await printSplit(textSplitPrinter(writeDefaultLine), records);
    expect(printed.split('\n')).toEqual(records.map(textLine).join('').split('\n'));
  }, 60_000);
});

describe('when a file prints on two threads', () => {
  const text = parseCommandLine(['capture.pcap']);
  const json = parseCommandLine(['--json', 'capture.pcap']);
  const big = SPLIT_MIN_BYTES;
  const idle = { cpus: 2, load: 0.2 };
  const busy = { cpus: 2, load: 0.9 };
  const oneCpu = { cpus: 1, load: 0 };

  it('--json: on two CPUs or more, however busy', () => {
    expect(useSplit(json, big, {}, idle)).toBe(true);
    expect(useSplit(json, big, {}, busy)).toBe(true);
    expect(useSplit(json, big, {}, oneCpu)).toBe(false);
    expect(useSplit(json, big - 1, {}, idle)).toBe(false);
  });

  it('text: only when the load average leaves the worker a CPU of its own', () => {
    expect(useSplit(text, big, {}, idle)).toBe(true);
    expect(useSplit(text, big, {}, busy)).toBe(false);
    expect(useSplit(text, big, {}, { cpus: 4, load: 2.4 })).toBe(true);
    expect(useSplit(text, big, {}, oneCpu)).toBe(false);
    expect(useSplit(text, big - 1, {}, idle)).toBe(false);
  });

  it('counts as busy the lower of the load average and the tasks of others running now', () => {
    // /proc/loadavg: three averages, then running/total tasks (this process's running threads included).
    expect(othersRunning('1.40 1.10 0.90 1/180 12345\n', 1)).toBe(0);
    expect(othersRunning('1.40 1.10 0.90 3/180 12345\n', 1)).toBe(2);
    expect(othersRunning('1.40 1.10 0.90 3/180 12345\n', 2)).toBe(1);
    expect(othersRunning('0.00 0.00 0.00 1/180 12345\n', 2)).toBe(0);
    expect(othersRunning(null, 1)).toBe(Infinity);
    expect(othersRunning('garbage', 1)).toBe(Infinity);
  });

  it(`${THREADS_ENV} forces either, and stats or report never split`, () => {
    expect(useSplit(text, big, { [THREADS_ENV]: '2' }, busy)).toBe(true);
    expect(useSplit(text, 0, { [THREADS_ENV]: '2' }, oneCpu)).toBe(true);
    expect(useSplit(json, big, { [THREADS_ENV]: '1' }, idle)).toBe(false);
    expect(useSplit(parseCommandLine(['stats', 'capture.pcap']), big, {}, idle)).toBe(false);
  });
});
