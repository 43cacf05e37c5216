/**
 * The `ca-shark` program, independent of the process: arguments and standard streams in, exit status out.
 */
import { open } from 'node:fs/promises';
import { closeSync, constants as fsConstants, openSync, readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import {
  PAIRING_SEARCH_TTL,
  shark,
  type CaDecoder,
  type CaRecord,
  type CircuitInfo,
  type DecoderProblem,
  type SharkInput,
  type SharkRecords,
} from '@ca-shark/decoder';
import {
  DescriptorChunks,
  STDIN_LABEL,
  describeOpenError,
  examineDescriptor,
  inputErrorLine,
  stopsInput,
  type DescriptorInfo,
} from '@ca-shark/packet';
import {
  Analyzer,
  compileFilter,
  formatReport,
  resolveSections,
  SectionError,
  StatsCollector,
  FilterError,
  circuitEndReason,
  type RecordPredicate,
  type Report,
} from '@ca-shark/analysis';
import { HELP, parseCommandLine, UsageError, type CliOptions } from './args.js';
import { palette, useColor } from './color.js';
import { DamageReport } from './damage.js';
import { LineWriter } from './output.js';
import { defaultLineWrite, lineFormatter } from './lines.js';
import { renderStats } from './stats-text.js';
import { jsonSplitPrinter, textSplitPrinter, useSplit } from './split.js';
import { compileTemplate, TemplateError } from './template.js';
import { writePackets, type CaptureFile } from './write.js';

/** The process around the program (real streams in main.ts, fakes or pipes in tests). */
export interface CliIO {
  /** Standard input as a stream: read when {@link stdinFd} is not given, or is neither a pipe nor a regular file. */
  stdin: Readable;
  /**
   * Standard input's descriptor (main.ts: 0). A pipe or a redirected file is then read from it directly into
   * one reused buffer (`DescriptorChunks`), a directory refused, and `stdin` is only read for the rest (a
   * socket, a device), so a getter can make it lazily.
   */
  stdinFd?: number;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Called when stdout's reader has gone away (EPIPE): the program should end quietly with status 0. */
  onBrokenPipe?: () => void;
}

/**
 * Exit statuses (docs/cli.md, "Exit status"). When several apply, the highest wins, except that 1 is
 * only given to clean input.
 */
export const EXIT_OK = 0;
/** No CA message matched: nothing printed, nothing to analyse (as grep's 1). */
export const EXIT_NOTHING = 1;
/** Bad usage, unreadable input or unwritable output. */
export const EXIT_BAD_INPUT = 2;
/** Decoded, but the input was damaged: capture problems, malformed or cut CA messages. */
export const EXIT_DAMAGED = 3;

/**
 * Read size for stdin (a pipe gives at most what it holds, 64 KiB on Linux, a redirected file this much):
 * shark()'s own for files (its FILE_CHUNK), for its reason: the event loop turns between reads, and V8's
 * young-generation GC should run there, with few records waiting. Reads of 1 MiB took `ca-shark --json <
 * FILE` 10-13 MB more peak RSS on the 100 MB capture (docs/performance.md, "Session 14: `ca-shark` on
 * stdin").
 */
const STDIN_READ_BYTES = 256 * 1024;

/** What is said of a directory given as the capture, named or on stdin (as `ca-sharkd -r DIR` says it). */
const IS_A_DIRECTORY = describeOpenError({ code: 'EISDIR' } as NodeJS.ErrnoException);

/** The version in this package's package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Run `ca-shark` with `argv` (without node and script); resolves to the exit status. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const err = (line: string): void => {
    io.stderr.write(`ca-shark: ${line}\n`);
  };
  let options: CliOptions;
  let filter: RecordPredicate;
  let sections: (keyof Report)[] | undefined;
  try {
    options = parseCommandLine(argv);
    if (options.sections.length > 0) sections = resolveSections(options.sections);
    filter = compileFilter({ pv: options.pv, host: options.host, command: options.commands, errors: options.errors });
    // Compiled here for its errors (exit status 2); lines.ts compiles it again for each thread.
    if (options.format !== null) compileTemplate(options.format);
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof FilterError ||
      e instanceof TemplateError ||
      e instanceof SectionError
    ) {
      err(e.message);
      if (e instanceof UsageError) io.stderr.write("Try 'ca-shark --help'.\n");
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  if (options.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (options.version) {
    io.stdout.write(`ca-shark ${version()}\n`);
    return EXIT_OK;
  }

  if (options.write !== null) return runWrite(options, filter, io, err);

  const out = new LineWriter(io.stdout);
  let brokenPipe = false;
  let outputFailed = false;
  io.stdout.on('error', (e: NodeJS.ErrnoException) => {
    out.close();
    if (e.code === 'EPIPE') {
      brokenPipe = true;
      io.onBrokenPipe?.();
    } else if (!outputFailed) {
      outputFailed = true;
      err(`cannot write output: ${e.message}`);
    }
  });

  const color = useColor(options.color, io.stdout.isTTY === true, io.env);
  const colors = palette(color);
  const stats = options.command === 'stats' ? new StatsCollector({ top: options.top }) : null;
  const analyzer = options.command === 'report' ? new Analyzer({ sections }) : null;
  const onCircuitClose =
    analyzer === null
      ? undefined
      : (c: CircuitInfo): void => {
          const reason = circuitEndReason(c.closeReason);
          if (c.closedAt !== null && reason !== null) analyzer.closeCircuit(c.id, c.closedAt, reason);
        };
  let emit: (r: CaRecord) => void;
  // The print modes written as bytes (the default line, --json), which may print on two threads (split.ts).
  const write = stats === null && analyzer === null ? defaultLineWrite(options, colors) : null;
  if (stats !== null) emit = (r) => stats.add(r);
  else if (analyzer !== null) emit = (r) => analyzer.add(r);
  else {
    if (write !== null) emit = (r) => out.record(write, r);
    else {
      const format = lineFormatter(options, colors);
      emit = (r) => out.line(format(r));
    }
  }

  let status = EXIT_OK;
  let damaged = false;
  let matched = 0;
  const inputs = options.files.length > 0 ? options.files : ['-'];
  const stdinInfo = inputs.includes('-') ? examineStdin(io) : null;
  if (stdinInfo?.kind === 'terminal') {
    err(
      "no capture to read: stdin is a terminal. Name a file, or pipe one in: sudo tcpdump -U -w - | ca-shark (see 'ca-shark --help')",
    );
    return EXIT_BAD_INPUT;
  }
  for (const name of inputs) {
    if (brokenPipe || outputFailed) break;
    const label = name === '-' ? STDIN_LABEL : name;
    // A regular file is given to shark() by path: it reads it in large chunks and keeps views into them
    // (no copies); stdin, pipes and devices are read as streams, records printed as they arrive. A pipe or
    // a regular file on stdin is read from its descriptor into one reused buffer (DescriptorChunks).
    let stream: Readable | null = null;
    let chunks: DescriptorChunks | null = null;
    let fileSize = -1;
    // Bytes of a regular file read through stdin (`ca-shark < FILE`), for the choice of two threads.
    let sizeHint = -1;
    let unreadable: string | null = null;
    if (name === '-') {
      if (stdinInfo?.kind === 'directory') unreadable = IS_A_DIRECTORY;
      else if (
        stdinInfo !== null &&
        io.stdinFd !== undefined &&
        (stdinInfo.kind === 'pipe' || stdinInfo.kind === 'file')
      ) {
        chunks = new DescriptorChunks(io.stdinFd, stdinInfo.kind, STDIN_READ_BYTES);
        sizeHint = stdinInfo.size;
      } else stream = io.stdin;
    } else {
      try {
        const handle = await open(name, 'r');
        const info = await handle.stat();
        if (info.isFile()) {
          fileSize = info.size;
          await handle.close();
        } else if (info.isDirectory()) {
          // Its read would fail in node's words (`EISDIR: illegal operation on a directory, read`).
          await handle.close();
          unreadable = IS_A_DIRECTORY;
        } else stream = handle.createReadStream({ highWaterMark: 1 << 20 });
      } catch (e) {
        unreadable = describeOpenError(e as NodeJS.ErrnoException);
      }
    }
    if (unreadable !== null) {
      err(inputErrorLine(label, unreadable));
      status = EXIT_BAD_INPUT;
      continue;
    }
    let failed = false;
    const damage = new DamageReport(label, err);
    let decoder: CaDecoder | undefined;
    const onDecoder = (d: CaDecoder): void => {
      decoder = d;
    };
    // Counted here because an empty input produces no capture events at all.
    let bytesRead = fileSize > 0 ? fileSize : 0;
    // Set by a problem after which the capture reader reads no more (not a capture at all, a corrupt
    // record length): a stream ends there instead of being read to its end, which on a pipe that never
    // ends (`tcpdump -w - | ca-shark` of the wrong thing) would be never. The rest would be discarded.
    let inputStopped = false;
    async function* counted(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      if (inputStopped) return;
      for await (const chunk of input) {
        bytesRead += chunk.length;
        yield chunk;
        if (inputStopped) return;
      }
    }
    const source: SharkInput = chunks !== null ? counted(chunks) : stream !== null ? counted(stream) : name;
    // A file on stdin is as long as a file by path; a pipe's lines are printed as they arrive, not in batches.
    const splitSize = stream === null && chunks === null ? fileSize : sizeHint;
    const split =
      write !== null && splitSize >= 0 && useSplit(options, splitSize, io.env)
        ? options.json
          ? jsonSplitPrinter()
          : textSplitPrinter(write)
        : null;
    try {
      const decoding = {
        extraServerPorts: options.ports,
        // stats counts messages and never reads their values; report reads only the written ones, if any.
        decodeValues:
          stats !== null ? false : analyzer !== null ? (analyzer.readsValues ? ('writes' as const) : false) : true,
        // Every mode looks at a record once and copies what it keeps (the printed text, the report's
        // write previews, a two-thread print's values in shared memory) before it asks for the next one:
        // the waveforms' memory is reused instead of page-faulted in again for each (docs/api.md).
        lendArrays: true,
        // No mode reads the state's search entries, only the replies paired through them: a minute of them,
        // not ten, keeps memory flat on long captures and pairs every reply the same (options.ts).
        limits: { searchTtl: PAIRING_SEARCH_TTL },
        onProblem: (p: DecoderProblem): void => {
          damage.problem(p);
          if (stopsInput(p)) inputStopped = true;
        },
        onCircuitClose,
        onDecoder,
      };
      if (split !== null) {
        // Two threads (split.ts): the worker writes the digits of numeric arrays.
        await eachRecord(shark(source, decoding), (record) => {
          if (brokenPipe || outputFailed) return false;
          damage.record(record);
          if (filter(record)) {
            matched++;
            split.record(out, record);
          }
          const waiting = split.backlog(out);
          if (waiting !== null) return waiting.then(() => (out.needsDrain ? out.ready().then(() => true) : true));
          return out.needsDrain ? out.ready().then(() => true) : true;
        });
        if (!brokenPipe && !outputFailed) await split.finish(out);
      } else {
        await eachRecord(shark(source, decoding), (record) => {
          if (brokenPipe || outputFailed) return false;
          damage.record(record);
          if (filter(record)) {
            matched++;
            emit(record);
          }
          return out.needsDrain ? out.ready().then(() => true) : true;
        });
      }
    } catch (e) {
      if (split !== null && !brokenPipe && !outputFailed) {
        // The lines formatted before the failure, as one thread prints them.
        await split.finish(out).catch(() => undefined);
      }
      err(`${label}: ${(e as Error).message}`);
      failed = true;
      status = EXIT_BAD_INPUT;
    } finally {
      stream?.destroy();
      await chunks?.return();
      await split?.close();
    }
    if (bytesRead === 0 && !failed && !brokenPipe) {
      err(`${label}: empty input: no capture header`);
      status = EXIT_BAD_INPUT;
    }
    if (brokenPipe) break;
    const skipped = decoder?.state.statistics.skipped ?? { flows: 0, bytes: 0 };
    damage.finish(decoder?.skippedFlows ?? [], skipped.flows, skipped.bytes);
    stats?.addSkippedFlows(skipped.flows, skipped.bytes);
    if (damage.unreadable) status = EXIT_BAD_INPUT;
    if (damage.damaged) damaged = true;
  }
  if (brokenPipe) return EXIT_OK;

  if (stats !== null) {
    const report = stats.report();
    if (options.json) out.line(JSON.stringify(report));
    else for (const line of renderStats(report, colors)) out.line(line);
  }
  if (analyzer !== null) {
    const report = analyzer.report(sections);
    if (options.json) out.line(JSON.stringify(report));
    else for (const line of formatReport(report).split('\n')) out.line(line);
  }
  await out.end();
  if (outputFailed) return EXIT_BAD_INPUT;
  if (brokenPipe) return EXIT_OK;
  if (status !== EXIT_OK) return status;
  if (damaged) return EXIT_DAMAGED;
  return matched === 0 ? EXIT_NOTHING : EXIT_OK;
}

/** `--write` (write.ts): the exit status as for printing (1 when nothing matched, 3 for damaged input). */
async function runWrite(
  options: CliOptions,
  filter: RecordPredicate,
  io: CliIO,
  err: (line: string) => void,
): Promise<number> {
  if (options.write === '-' && (io.stdout as { isTTY?: boolean }).isTTY === true) {
    err(
      '--write - would write binary pcapng to a terminal: name a file, or pipe it (ca-shark -w - ... | wireshark -k -i -)',
    );
    return EXIT_BAD_INPUT;
  }
  const stdinInfo = (options.files[0] ?? '-') === '-' ? examineStdin(io) : null;
  if (stdinInfo?.kind === 'terminal') {
    err('no capture to read: stdin is a terminal. Name a file, or pipe one in');
    return EXIT_BAD_INPUT;
  }
  if (stdinInfo?.kind === 'directory') {
    // Its stream would read as empty input, and write an empty capture.
    err(inputErrorLine(STDIN_LABEL, IS_A_DIRECTORY));
    return EXIT_BAD_INPUT;
  }
  // stdin as the printing modes read it: a pipe or a redirected file from its descriptor (DescriptorChunks).
  const chunks =
    stdinInfo !== null && io.stdinFd !== undefined && (stdinInfo.kind === 'pipe' || stdinInfo.kind === 'file')
      ? new DescriptorChunks(io.stdinFd, stdinInfo.kind, STDIN_READ_BYTES)
      : null;
  let result;
  try {
    const stdin = (): AsyncIterable<Uint8Array> => chunks ?? (io.stdin as AsyncIterable<Uint8Array>);
    const fd = io.stdinFd;
    const stdinFile = (): CaptureFile | null =>
      stdinInfo?.kind === 'file' && fd !== undefined ? openedFileAt(fd) : null;
    result = await writePackets(options, filter, { stdin, stdinFile, stdout: io.stdout }, err, `ca-shark ${version()}`);
  } catch (e) {
    err(`cannot write ${options.write === '-' ? 'output' : options.write}: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  } finally {
    await chunks?.return();
  }
  if (result === null || result.damage.unreadable) return EXIT_BAD_INPUT;
  if (options.write !== '-') {
    err(`wrote ${result.packets} packets carrying ${result.messages} matching messages to ${options.write}`);
  }
  if (result.damage.damaged) return EXIT_DAMAGED;
  return result.messages === 0 ? EXIT_NOTHING : EXIT_OK;
}

/**
 * The regular file open on descriptor `fd` as a path to open again and the offset the descriptor is at
 * (Linux's /proc), so `--write` can read stdin redirected from a file twice without copying it to a
 * temporary file (which may be in memory, on tmpfs, and a capture may be larger than it). Null where /proc
 * does not tell or the file cannot be opened for reading again: stdin is then copied.
 */
/** The access-mode bits of open(2)'s flags (O_RDONLY, O_WRONLY, O_RDWR). */
const O_ACCMODE = 3;

function openedFileAt(fd: number): CaptureFile | null {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    const pos = /^pos:\s*(\d+)$/m.exec(info);
    const flags = /^flags:\s*([0-7]+)$/m.exec(info);
    // Open for writing only, stdin fails as it does when printing (EBADF), not read through another open.
    if (pos === null || flags === null || (parseInt(flags[1], 8) & O_ACCMODE) === fsConstants.O_WRONLY) return null;
    const path = `/proc/self/fd/${fd}`;
    closeSync(openSync(path, 'r'));
    return { path, start: Number(pos[1]) };
  } catch {
    return null;
  }
}

/**
 * What standard input is: examined on its descriptor when the process gives one (without making
 * `process.stdin`), else known only as a terminal or not.
 */
function examineStdin(io: CliIO): DescriptorInfo {
  if (io.stdinFd !== undefined) return examineDescriptor(io.stdinFd);
  return { kind: (io.stdin as { isTTY?: boolean }).isTTY === true ? 'terminal' : 'other', size: -1 };
}

/**
 * Calls `each` on every record of `records` in order until it returns false. The records already decoded
 * are taken with `nextReady()`, without the promise and microtask per record of `for await` (a tenth of
 * the CPU time of `stats` on realistic.pcap); `each` returns a promise only when it has to wait (output
 * backpressure). Ends the iteration in every case, as `for await` does.
 */
async function eachRecord(
  records: SharkRecords,
  each: (record: CaRecord) => boolean | Promise<boolean>,
): Promise<void> {
  try {
    for (let r = await records.next(); !r.done; r = await records.next()) {
      for (let record: CaRecord | undefined = r.value; record !== undefined; record = records.nextReady()) {
        const go = each(record);
        if (go === false || (go !== true && !(await go))) return;
      }
    }
  } finally {
    await records.return();
  }
}
