/**
 * How capture readers word an unreadable input, shared by `ca-shark` and `ca-sharkd` so both programs say
 * the same one line about the same bad file or pipe.
 */

import { linktypeName } from './linktypes.js';
import type { PacketProblem } from './types.js';

/** What an input is called in messages when it is standard input. */
export const STDIN_LABEL = '<stdin>';

/**
 * Problem codes (of the reader and the packet pipeline) that mean the input itself is unreadable: not a
 * capture, cut short, corrupt framing, a link type nothing here decodes. A program reports each as an error
 * naming the input and exits with a failure status; other problems concern single packets.
 */
export const UNREADABLE_INPUT_CODES: ReadonlySet<string> = new Set([
  'not-a-capture',
  'unsupported-format',
  'truncated-file',
  'unknown-linktype',
  'bad-block-length',
  'bad-section-header',
  'bad-record-length',
  'bad-record-header',
  'bad-interface',
]);

/**
 * True when the capture reader reads nothing more of its input after `problem` (its
 * {@link PacketProblem.endsInput}: no pcap or pcapng magic, a format it does not read, a pcap record or
 * pcapng block length no capture can have). A program reading a pipe can stop reading there: the rest
 * would be discarded, and on a pipe that never ends (`tcpdump -w - | ...` of the wrong thing, or a capture
 * corrupt half-way) the program would wait for its writer to stop first. A code alone does not tell: a
 * pcapng block whose trailing length differs from its leading one is a `bad-block-length` the reader reads
 * on after.
 */
export function stopsInput(problem: Pick<PacketProblem, 'endsInput'>): boolean {
  return problem.endsInput === true;
}

/** True when a problem with this code makes the input unreadable (see {@link UNREADABLE_INPUT_CODES}). */
export function isUnreadableInput(code: string): boolean {
  return UNREADABLE_INPUT_CODES.has(code);
}

/** The one-line error about input `label` (a path as given, or {@link STDIN_LABEL}), without program prefix. */
export function inputErrorLine(label: string, message: string): string {
  return `${label}: ${message}`;
}

/**
 * A problem's message led by the frame it concerns (`frame 119: ...`), unless the message names that frame
 * already or no frame is known (0): every report of damage says where it is.
 */
export function problemText(problem: { readonly frame: number; readonly message: string }): string {
  const { frame, message } = problem;
  return frame > 0 && !message.includes(`frame ${frame}`) ? `frame ${frame}: ${message}` : message;
}

/** Why a capture file could not be opened, in a few words ("no such file", "permission denied", ...). */
export function describeOpenError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err.message;
  }
}

/**
 * The problem message about frames of a link type nothing here decodes; `where` names their interface
 * ("interface 0" in a capture file, "live capture").
 */
export function unsupportedLinktypeMessage(where: string, linktype: number): string {
  return `${where}: link type ${linktype} (${linktypeName(linktype)}) is not decoded; its frames are counted and skipped (reported once)`;
}
