/**
 * Terminal colour: on when stdout is a TTY, off in a pipe; `NO_COLOR` (any non-empty value) turns it off
 * and `FORCE_COLOR` (non-empty, not `0`) turns it on, as https://no-color.org and common tools agree;
 * `--color always|never|auto` overrides both.
 */

/** When to colour, from `--color`. */
export type ColorMode = 'auto' | 'always' | 'never';

/** Decide whether to colour output. */
export function useColor(mode: ColorMode, isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  return isTTY;
}

const SGR = {
  reset: '\x1b[0m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
} as const;

/** Colour functions; identity functions when colour is off. */
export interface Palette {
  timestamp(s: string): string;
  endpoint(s: string): string;
  request(s: string): string;
  response(s: string): string;
  failure(s: string): string;
  pv(s: string): string;
  heading(s: string): string;
}

const plain = (s: string): string => s;

/** The palette for `enabled`. */
export function palette(enabled: boolean): Palette {
  if (!enabled) {
    return {
      timestamp: plain,
      endpoint: plain,
      request: plain,
      response: plain,
      failure: plain,
      pv: plain,
      heading: plain,
    };
  }
  const wrap = (code: string) => (s: string) => code + s + SGR.reset;
  return {
    timestamp: wrap(SGR.dim),
    endpoint: wrap(SGR.cyan),
    request: wrap(SGR.yellow),
    response: wrap(SGR.green),
    failure: wrap(SGR.bold + SGR.red),
    pv: wrap(SGR.magenta),
    heading: wrap(SGR.bold),
  };
}
