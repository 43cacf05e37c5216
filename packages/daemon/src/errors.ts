/**
 * Errors the daemon reports to its user as one line on stderr, with a non-zero exit status.
 * Anything else that escapes is a bug and is logged with its stack.
 */

/** Machine-readable reason of a {@link DaemonError}. */
export type DaemonErrorCode =
  | 'usage'
  | 'no-such-interface'
  | 'permission-denied'
  | 'bad-filter'
  | 'unreadable-file'
  | 'bad-capture'
  | 'listen-failed'
  | 'no-such-user'
  | 'capture-unavailable';

/** Exit status per error code: 2 for bad usage or input, 1 for environment problems. */
const EXIT_STATUS: Record<DaemonErrorCode, number> = {
  usage: 2,
  'no-such-interface': 1,
  'permission-denied': 1,
  'bad-filter': 2,
  'unreadable-file': 2,
  'bad-capture': 2,
  'listen-failed': 1,
  'no-such-user': 1,
  'capture-unavailable': 1,
};

/** A failure with a message meant for the person running `ca-sharkd`: one line, no stack trace. */
export class DaemonError extends Error {
  readonly code: DaemonErrorCode;

  constructor(code: DaemonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonError';
    this.code = code;
  }

  /** Process exit status that matches the code. */
  get exitStatus(): number {
    return EXIT_STATUS[this.code];
  }
}

/** Explanation appended to every "not permitted to capture" message. */
export const PRIVILEGE_HINT =
  'run as root (sudo ca-sharkd ...) or give node the capture capabilities: ' +
  'sudo setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")"';
