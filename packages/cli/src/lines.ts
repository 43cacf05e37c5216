/**
 * The printed line of a record, by output mode (default text, colour, `--format`, `--json`), and the
 * batches that split a file's records between the two threads of a parallel run (split.ts).
 */
import type { CaRecord } from '@ca-shark/decoder';
import { isFailure, recordToJSON, writeRecordJSON } from '@ca-shark/analysis';
import type { CliOptions } from './args.js';
import type { Palette } from './color.js';
import { pyFloat } from './pyrepr.js';
import { renderCommand, renderCommandClass } from './render.js';
import { compileTemplate, DECODER_NAMES_TEMPLATE, DEFAULT_TEMPLATE, writeDefaultLine } from './template.js';
import type { TextBuffer } from './text-buffer.js';

/** Record → line (without newline). */
export type LineFormatter = (record: CaRecord) => string;
/** Writes the line of a record (without newline) into a buffer. */
export type LineWrite = (out: TextBuffer, record: CaRecord) => void;

/**
 * The writer of the print modes written straight into the output buffer (the default line, `--json`), or
 * null for the other print modes, whose lines are strings ({@link lineFormatter}).
 */
export function defaultLineWrite(options: CliOptions, colors: Palette): LineWrite | null {
  if (options.json) return writeRecordJSON;
  return options.format === null && !options.decoderNames && colors.timestamp('') === '' ? writeDefaultLine : null;
}

/** Every print mode as a {@link LineWrite}: the other modes' strings are copied into the buffer. */
export function lineWrite(options: CliOptions, colors: Palette): LineWrite {
  const write = defaultLineWrite(options, colors);
  if (write !== null) return write;
  const format = lineFormatter(options, colors);
  return (out, r) => out.text(format(r));
}

/** The line formatter of the print modes (not `stats` / `report`, which print no line per record). */
export function lineFormatter(options: CliOptions, colors: Palette): LineFormatter {
  if (options.json) return recordToJSON;
  if (options.format !== null) return compileTemplate(options.format);
  const decoderNames = options.decoderNames;
  if (colors.timestamp('') === '') return compileTemplate(decoderNames ? DECODER_NAMES_TEMPLATE : DEFAULT_TEMPLATE);
  return (r) => colorLine(r, colors, decoderNames);
}

/** The default line with colour: dim time, cyan endpoints, the command coloured by role or failure. */
function colorLine(r: CaRecord, c: Palette, decoderNames: boolean): string {
  const cmd = decoderNames ? renderCommandClass(r.command, r.pv) : renderCommand(r.command, r.pv, r.size);
  const paint = isFailure(r) ? c.failure : r.role === 'response' ? c.response : c.request;
  const paren = cmd.indexOf('(');
  const name = paren < 0 ? cmd : cmd.slice(0, paren);
  const rest = paren < 0 ? '' : cmd.slice(paren);
  return (
    `${c.timestamp(pyFloat(r.timestamp))} ` +
    `${c.endpoint(`${r.src}:${r.transport.sport}`)}->${c.endpoint(`${r.dst}:${r.transport.dport}`)} ` +
    `${paint(name)}${rest}`
  );
}

/**
 * A batch ends after this many decoded records, or once its messages reach {@link BATCH_WIRE_BYTES}
 * (a 30,000-element waveform prints 570 KB of JSON: batches are cut by size too, so the text of one stays
 * a few MB). Both threads count the same decoded records, so they agree on every boundary.
 */
export const BATCH_RECORDS = 2048;
export const BATCH_WIRE_BYTES = 1 << 20;

/**
 * Numbers the batches of a record stream: {@link next} gives each decoded record's batch, in the same
 * way in both threads. Even batches are printed by the main thread, odd ones by the worker.
 */
export class Batcher {
  /** Batch of the last record counted. */
  batch = 0;
  private records = 0;
  private bytes = 0;

  /** Counts one decoded record (every record, before any filter) and returns its batch. */
  next(record: CaRecord): number {
    if (this.records >= BATCH_RECORDS || this.bytes >= BATCH_WIRE_BYTES) {
      this.batch++;
      this.records = 0;
      this.bytes = 0;
    }
    this.records++;
    this.bytes += record.size;
    return this.batch;
  }

  /** Whether any record was counted in the current batch. */
  get started(): boolean {
    return this.records > 0;
  }
}

/** Whether the worker prints batch `b`. */
export function workerBatch(b: number): boolean {
  return (b & 1) === 1;
}
