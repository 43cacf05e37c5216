/**
 * Line-by-line comparison of `ca-shark` text with caproto-shark's, message by message (test support and
 * scripts/caproto-compare.sh). caproto-shark loses messages (it reads only whole messages inside one TCP
 * segment and stops reading a sender after one it cannot parse), so its lines are matched in order against
 * a subsequence of ca-shark's. A caproto line matches when it is identical to one of ca-shark's with the
 * trailing `pv='...'` that ca-shark appends removed, or when it is one of the documented {@link Deviation}s
 * (docs/cli.md, "Where ca-shark differs from caproto-shark").
 */

/**
 * A documented difference between the two tools' text for one message: where caproto-shark reads a
 * message's payload as another class's, so that its text cannot be rebuilt from the decoded message.
 */
export type Deviation =
  /** A 16-byte EVENT_ADD reply: caproto-shark prints its DBR value as a request's deadbands. */
  'event-add-reply-as-request';

/** The outcome of comparing one capture. */
export interface Comparison {
  /** caproto-shark messages (wrapped numpy lines joined). */
  caprotoMessages: number;
  /** ca-shark lines. */
  oursLines: number;
  /** caproto-shark messages printed identically by ca-shark. */
  identical: number;
  /** caproto-shark messages matched through a deviation, by kind. */
  deviations: Partial<Record<Deviation, number>>;
  /** caproto-shark messages with no counterpart: each with the nearest ca-shark line for the report. */
  unmatched: { caproto: string; nearest: string | undefined }[];
  /** ca-shark lines caproto-shark has no message for (the messages it loses). */
  missedByCaproto: number;
}

/** `1550523539.853032 1.2.3.4:5->6.7.8.9:10 `: the start of every message line of both tools. */
const LINE_START = /^\d+(?:\.\d+)? \d+\.\d+\.\d+\.\d+:\d+->\d+\.\d+\.\d+\.\d+:\d+ /;
/** numpy's continuation indent of array items (`array([`) and of the dtype (`array(`). */
const ITEM_INDENT = ' '.repeat('array(['.length);
const DTYPE_INDENT = ' '.repeat('array('.length);

/**
 * caproto-shark's messages, one per entry: numpy wraps arrays at 75 columns, which splits one message over
 * several lines. Joining a wrapped line back gives numpy's text with an unlimited line width.
 */
export function caprotoMessages(text: string): string[] {
  const messages: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (LINE_START.test(line) || messages.length === 0) {
      messages.push(line);
      continue;
    }
    const rest = line.startsWith(DTYPE_INDENT + 'dtype=')
      ? line.slice(DTYPE_INDENT.length)
      : line.startsWith(ITEM_INDENT)
        ? line.slice(ITEM_INDENT.length)
        : line;
    messages[messages.length - 1] += ' ' + rest;
  }
  return messages;
}

/** ca-shark's trailing `pv='...'` field (appended where caproto has no field naming the PV). */
const PV_SUFFIX = /(, |\()pv=(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\)$/;

/** A ca-shark line without the `pv=` field caproto does not have. */
export function withoutPv(line: string): string {
  return line.replace(PV_SUFFIX, (_m, sep: string) => (sep === '(' ? '()' : ')'));
}

/** caproto-shark's reading of an EVENT_ADD as a request: class, then the header's type, count, p1 and p2. */
const EVENT_ADD_AS_REQUEST =
  /^(.* )EventAddRequest(?:OrResponse)?\(data_type=(<[^>]*>), data_count=(\d+), sid=\d+, subscriptionid=(\d+), /;
/** ca-shark's EventAddResponse: its data, then the same header fields. */
const EVENT_ADD_RESPONSE =
  /^(.* )EventAddResponse\(.*, data_type=(<[^>]*>), data_count=(\d+), status=.*, subscriptionid=(\d+), metadata=/;

/** The deviation under which caproto's line `c` and ca-shark's line `o` (pv removed) are one message. */
function deviation(c: string, o: string): Deviation | undefined {
  const theirs = EVENT_ADD_AS_REQUEST.exec(c);
  if (theirs === null) return undefined;
  const ours = EVENT_ADD_RESPONSE.exec(o);
  if (ours === null) return undefined;
  for (let i = 1; i <= 4; i++) if (theirs[i] !== ours[i]) return undefined;
  return 'event-add-reply-as-request';
}

/** How far ahead in ca-shark's lines a caproto message is looked for (its losses are local). */
const LOOKAHEAD = 200;

/** Compare caproto-shark's output with ca-shark's for the same capture. */
export function compareWithCaproto(caprotoText: string, oursText: string): Comparison {
  const theirs = caprotoMessages(caprotoText);
  const ours = oursText
    .split('\n')
    .filter((l) => l !== '')
    .map(withoutPv);
  const result: Comparison = {
    caprotoMessages: theirs.length,
    oursLines: ours.length,
    identical: 0,
    deviations: {},
    unmatched: [],
    missedByCaproto: 0,
  };
  let next = 0;
  for (const c of theirs) {
    let found = -1;
    let kind: Deviation | undefined;
    const end = Math.min(ours.length, next + LOOKAHEAD);
    for (let i = next; i < end && found < 0; i++) if (ours[i] === c) found = i;
    for (let i = next; i < end && found < 0; i++) {
      kind = deviation(c, ours[i]);
      if (kind !== undefined) found = i;
    }
    if (found < 0) {
      const prefix = LINE_START.exec(c)?.[0];
      result.unmatched.push({
        caproto: c,
        nearest: ours.slice(next, end).find((o) => prefix !== undefined && o.startsWith(prefix)),
      });
      continue;
    }
    if (kind === undefined) result.identical++;
    else result.deviations[kind] = (result.deviations[kind] ?? 0) + 1;
    result.missedByCaproto += found - next;
    next = found + 1;
  }
  result.missedByCaproto += ours.length - next;
  return result;
}
