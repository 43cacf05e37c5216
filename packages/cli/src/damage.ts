/**
 * What one input lost, told to the user: packet-layer problems, malformed and cut CA messages, and TCP
 * flows skipped as not CA. Every kind gets lines naming the frame (the first few of each kind at once on
 * stderr, a count of the rest at the end), so no damage passes silently, whatever the output mode or
 * filter.
 */
import type { CaRecord, DecoderProblem, SkippedFlow } from '@ca-shark/decoder';
import { inputErrorLine, isUnreadableInput, problemText } from '@ca-shark/packet';

/** Lines printed per kind of damage and input; the rest are counted in one line at the end. */
export const LINES_PER_KIND = 5;
/** Skipped flows listed one by one per input. */
const SKIPPED_LISTED = 5;

interface Kind {
  count: number;
  lastFrame: number;
  /** How to name more of them in the closing line, e.g. "malformed CA messages". */
  plural: string;
}

/** Collects and reports the damage of one input. `say` writes one stderr line (without the prefix). */
export class DamageReport {
  /** Set by a problem that makes the input unreadable (exit status 2). */
  unreadable = false;
  /** Set by any damage inside a readable capture (exit status 3). */
  damaged = false;
  private readonly kinds = new Map<string, Kind>();
  private readonly seenUnreadable = new Set<string>();

  constructor(
    private readonly label: string,
    private readonly say: (line: string) => void,
  ) {}

  /** A packet-layer problem. */
  problem(p: DecoderProblem): void {
    const text = problemText(p);
    // Unreadable input (exit status 2) is decided by the list ca-sharkd shares; every other problem is damage.
    if (isUnreadableInput(p.code)) {
      this.unreadable = true;
      // One line per distinct message: these are few and each says where reading failed.
      const key = `${p.code}\0${p.message}`;
      if (this.seenUnreadable.has(key)) return;
      this.seenUnreadable.add(key);
      this.say(inputErrorLine(this.label, text));
      return;
    }
    this.damaged = true;
    this.count(`problem ${p.code}`, p.frame, `'${p.code}' problems`, () => `${this.label}: ${text} [${p.code}]`);
  }

  /** Every decoded record, before any filter: malformed and cut messages are damage. */
  record(r: CaRecord): void {
    const cmd = r.command;
    if (cmd.name === 'Malformed') {
      // Narrowed by the class name: a MalformedCommand.
      const m = cmd;
      this.damaged = true;
      this.count(
        `malformed ${m.code}`,
        r.frame,
        `malformed CA messages (${m.code})`,
        () =>
          `${this.label}: frame ${r.frame}: malformed CA message, ${m.length} bytes ${r.src}:${r.transport.sport} -> ${r.dst}:${r.transport.dport}: ${m.reason} [${m.code}]`,
      );
    } else if (r.truncated === true) {
      this.damaged = true;
      this.count(
        'cut',
        r.frame,
        'cut CA messages',
        () =>
          `${this.label}: frame ${r.frame}: ${cmd.name} cut short (${r.size} bytes kept) ${r.src}:${r.transport.sport} -> ${r.dst}:${r.transport.dport}`,
      );
    }
  }

  /**
   * End of the input: the counts of damage beyond the lines already printed, and the skipped flows with
   * the `--ports` hint. Skipped flows are not damage (a capture may hold any other TCP traffic).
   */
  finish(skipped: readonly SkippedFlow[], skippedCount: number, skippedBytes: number): void {
    for (const k of this.kinds.values()) {
      if (k.count > LINES_PER_KIND) {
        this.say(
          `${this.label}: ${k.count - LINES_PER_KIND} more ${k.plural}, the last at frame ${k.lastFrame} (${k.count} in all)`,
        );
      }
    }
    if (skippedCount === 0) return;
    const ports = new Set<number>();
    for (const f of skipped) ports.add(serverPort(f));
    for (const f of skipped.slice(0, SKIPPED_LISTED)) {
      const why = f.reason === 'undecided' ? 'ended before its first bytes showed whether it is' : 'not recognised as';
      this.say(
        `${this.label}: Skipped flow ${f.a} <-> ${f.b} from frame ${f.firstFrame}: ${f.bytes} bytes ${why} Channel Access`,
      );
    }
    const listed = Math.min(skipped.length, SKIPPED_LISTED);
    if (skippedCount > listed) this.say(`${this.label}: ... ${skippedCount - listed} more skipped flows`);
    const flows = skippedCount === 1 ? '1 TCP flow' : `${skippedCount} TCP flows`;
    this.say(
      `${this.label}: ${flows} (${skippedBytes} bytes) skipped as not CA; if CA servers listen on ports the capture does not announce, name them: --ports ${[...ports].slice(0, SKIPPED_LISTED).join(',')}`,
    );
  }

  private count(key: string, frame: number, plural: string, line: () => string): void {
    let k = this.kinds.get(key);
    if (k === undefined) {
      k = { count: 0, lastFrame: 0, plural };
      this.kinds.set(key, k);
    }
    k.count++;
    k.lastFrame = frame;
    if (k.count <= LINES_PER_KIND) this.say(line());
  }
}

/** The flow's likely server port: the end that did not open it, else the lower port. */
function serverPort(f: SkippedFlow): number {
  const a = portOf(f.a);
  const b = portOf(f.b);
  if (f.opener === 'a') return b;
  if (f.opener === 'b') return a;
  return Math.min(a, b);
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}
