/** The printed line of a record, by output mode (default text, colour, `--format`, `--json`). */
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
