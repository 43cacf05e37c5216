/**
 * PV-name globs matched in time bounded by name length × pattern length, with no regular expression.
 *
 * Globs come from any WebSocket client and PV names off the wire, so a backtracking RegExp (what `*a*a*a*b`
 * used to compile to) lets one crafted pair pin the daemon for minutes. Here brace alternatives are expanded
 * up front (capped), leaving flat patterns whose every token but `*` matches exactly one character; such a
 * pattern is matched by the classic two-pointer wildcard algorithm, which only ever returns to the last `*`
 * seen and so takes at most (name length + 1) × (pattern length + 1) steps.
 */
import { FilterError, quoteValue } from './filter-error.js';

/** Longest glob accepted, in UTF-16 code units. */
export const MAX_GLOB_LENGTH = 256;
/** Most flat patterns one glob's `{a,b}` alternatives may expand to (the product over all its braces). */
export const MAX_GLOB_ALTERNATIVES = 64;

const STAR = 0;
const ANY = 1;
const CHAR = 2;
const CLASS = 3;

/** One token of a flat pattern: `*`, `?`, a literal code unit, or a character class. */
type Token =
  | { readonly kind: typeof STAR }
  | { readonly kind: typeof ANY }
  | { readonly kind: typeof CHAR; readonly code: number }
  | { readonly kind: typeof CLASS; readonly negate: boolean; readonly ranges: readonly number[] };

/** A parsed glob before brace expansion: tokens and alternative groups. */
type Node = Token | { readonly kind: 'alt'; readonly options: readonly Node[][] };

const STAR_TOKEN: Token = { kind: STAR };
const ANY_TOKEN: Token = { kind: ANY };

/**
 * One flat pattern, split as `prefix core suffix`: the literal runs at its two ends are compared with
 * `startsWith`/`endsWith` (most globs are `PREFIX*` or `*SUFFIX`, whose core is a lone `*`), and only the
 * core goes through the token loop, over the part of the name between them.
 */
interface FlatPattern {
  readonly prefix: string;
  readonly suffix: string;
  readonly core: readonly Token[];
  /** Fewest characters a name needs (the tokens other than `*`). */
  readonly minLength: number;
  readonly size: number;
}

function flatPattern(tokens: readonly Token[]): FlatPattern {
  let start = 0;
  while (start < tokens.length && tokens[start].kind === CHAR) start++;
  let end = tokens.length;
  while (end > start && tokens[end - 1].kind === CHAR) end--;
  const text = (from: number, to: number): string =>
    String.fromCharCode(...tokens.slice(from, to).map((t) => (t.kind === CHAR ? t.code : 0)));
  return {
    prefix: text(0, start),
    suffix: text(end, tokens.length),
    core: tokens.slice(start, end),
    minLength: tokens.reduce((n, t) => (t.kind === STAR ? n : n + 1), 0),
    size: tokens.length,
  };
}

/** A compiled glob: {@link test} a name; {@link steps} says what the last test cost. */
export class GlobMatcher {
  /**
   * Steps of the last {@link test}, summed over the alternatives it tried: token-loop iterations plus the
   * characters compared at the literal ends. At most (name length + 1) × (pattern length + 1) per alternative.
   */
  steps = 0;
  private readonly patterns: readonly FlatPattern[];

  constructor(
    readonly source: string,
    patterns: readonly (readonly Token[])[],
  ) {
    this.patterns = patterns.map(flatPattern);
  }

  /** Number of flat patterns the glob's brace alternatives expanded to. */
  get alternatives(): number {
    return this.patterns.length;
  }

  /** Number of tokens over all flat patterns: the pattern-length factor of the matching cost. */
  get size(): number {
    let n = 0;
    for (const p of this.patterns) n += p.size;
    return n;
  }

  /** True when the whole of `name` matches the glob (case-sensitive, `*` and `?` match any code unit). */
  test(name: string): boolean {
    this.steps = 0;
    for (const p of this.patterns) {
      if (name.length < p.minLength) continue;
      this.steps += p.prefix.length + p.suffix.length;
      if (!name.startsWith(p.prefix) || !name.endsWith(p.suffix)) continue;
      if (this.matchCore(p.core, name, p.prefix.length, name.length - p.suffix.length)) return true;
    }
    return false;
  }

  /** Two-pointer wildcard match of `tokens` against `name[from, to)`. */
  private matchCore(tokens: readonly Token[], name: string, from: number, to: number): boolean {
    const m = tokens.length;
    if (m === 1 && tokens[0].kind === STAR) return true;
    let p = 0;
    let t = from;
    // Where the last `*` is and the first name position it has not yet swallowed; only this one is ever revisited.
    let starP = -1;
    let starT = from;
    let steps = this.steps;
    while (t < to) {
      steps++;
      const tok = p < m ? tokens[p] : undefined;
      if (tok !== undefined && tok.kind === STAR) {
        starP = p++;
        starT = t;
      } else if (tok !== undefined && matchesOne(tok, name.charCodeAt(t))) {
        p++;
        t++;
      } else if (starP >= 0) {
        p = starP + 1;
        t = ++starT;
      } else {
        this.steps = steps;
        return false;
      }
    }
    this.steps = steps;
    while (p < m && tokens[p].kind === STAR) p++;
    return p === m;
  }
}

function matchesOne(tok: Token, code: number): boolean {
  switch (tok.kind) {
    case ANY:
      return true;
    case CHAR:
      return tok.code === code;
    case CLASS: {
      const r = tok.ranges;
      let inside = false;
      for (let i = 0; i < r.length; i += 2) {
        if (code >= r[i] && code <= r[i + 1]) {
          inside = true;
          break;
        }
      }
      return inside !== tok.negate;
    }
    default:
      return false;
  }
}

/**
 * Compile a shell-style glob: `*` any run, `?` one character, `[abc]` / `[a-z]` / `[!abc]` (or `[^abc]`)
 * classes, `{a,b}` alternatives (nestable, empty allowed), `\x` a literal x. Throws {@link FilterError} on
 * an unclosed `[` or `{`, a reversed range, a glob over {@link MAX_GLOB_LENGTH} or one that expands to more
 * than {@link MAX_GLOB_ALTERNATIVES} alternatives.
 */
export function compileGlob(glob: string): GlobMatcher {
  if (glob.length > MAX_GLOB_LENGTH) {
    throw new FilterError(`PV glob ${quoteValue(glob)} is longer than ${MAX_GLOB_LENGTH} characters`);
  }
  const parser = new Parser(glob);
  const nodes = parser.sequence(false);
  const patterns = expand(nodes, glob).map(collapseStars);
  return new GlobMatcher(glob, patterns);
}

class Parser {
  private i = 0;
  constructor(private readonly glob: string) {}

  /** Parses up to the end, or (inside braces) up to the `,` or `}` that ends this alternative. */
  sequence(inBraces: boolean): Node[] {
    const g = this.glob;
    const out: Node[] = [];
    while (this.i < g.length) {
      const c = g[this.i];
      if (c === '\\' && this.i + 1 < g.length) {
        out.push({ kind: CHAR, code: g.charCodeAt(this.i + 1) });
        this.i += 2;
      } else if (c === '*') {
        out.push(STAR_TOKEN);
        this.i++;
      } else if (c === '?') {
        out.push(ANY_TOKEN);
        this.i++;
      } else if (c === '[') {
        out.push(this.charClass());
      } else if (c === '{') {
        this.i++;
        out.push(this.alternatives());
      } else if (inBraces && (c === ',' || c === '}')) {
        return out;
      } else {
        out.push({ kind: CHAR, code: g.charCodeAt(this.i) });
        this.i++;
      }
    }
    return out;
  }

  private alternatives(): Node {
    const options: Node[][] = [];
    for (;;) {
      options.push(this.sequence(true));
      const c = this.glob[this.i];
      if (c === ',') {
        this.i++;
      } else if (c === '}') {
        this.i++;
        return { kind: 'alt', options };
      } else {
        throw new FilterError(`bad PV glob ${quoteValue(this.glob)}: unclosed {`);
      }
    }
  }

  /** `[...]`: a `]` right after `[` (or `[!`) is a member; `-` between two members is a range; `\` is literal. */
  private charClass(): Token {
    const g = this.glob;
    const open = this.i;
    const close = g.indexOf(']', open + 2);
    if (close < 0) throw new FilterError(`bad PV glob ${quoteValue(g)}: unclosed [`);
    let body = g.slice(open + 1, close);
    let negate = false;
    if (body.startsWith('!') || body.startsWith('^')) {
      negate = true;
      body = body.slice(1);
    }
    const ranges: number[] = [];
    for (let k = 0; k < body.length; k++) {
      const lo = body.charCodeAt(k);
      if (k + 2 < body.length && body[k + 1] === '-') {
        const hi = body.charCodeAt(k + 2);
        if (hi < lo) throw new FilterError(`bad PV glob ${quoteValue(g)}: reversed range ${body.slice(k, k + 3)}`);
        ranges.push(lo, hi);
        k += 2;
      } else {
        ranges.push(lo, lo);
      }
    }
    this.i = close + 1;
    return { kind: CLASS, negate, ranges };
  }
}

/** Expands alternative groups into flat token lists, refusing more than {@link MAX_GLOB_ALTERNATIVES}. */
function expand(nodes: readonly Node[], glob: string): Token[][] {
  let out: Token[][] = [[]];
  for (const node of nodes) {
    if (node.kind !== 'alt') {
      for (const p of out) p.push(node);
      continue;
    }
    const tails: Token[][] = [];
    for (const option of node.options) tails.push(...expand(option, glob));
    if (out.length * tails.length > MAX_GLOB_ALTERNATIVES) {
      throw new FilterError(`PV glob ${quoteValue(glob)} expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
    }
    const next: Token[][] = [];
    for (const head of out) for (const tail of tails) next.push([...head, ...tail]);
    out = next;
  }
  return out;
}

/** `**` is `*`: merging runs keeps the step bound in terms of the glob's length. */
function collapseStars(tokens: Token[]): Token[] {
  return tokens.filter((t, i) => t.kind !== STAR || i === 0 || tokens[i - 1].kind !== STAR);
}
