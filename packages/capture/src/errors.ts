/**
 * Capture errors: one class per failure a user can fix, each with a stable `code` and a one-line message that
 * says what to do. libpcap's own wording is kept in `pcapMessage` and quoted in the message.
 */

/** Stable identifiers of capture failures. */
export type CaptureErrorCode =
  | 'CAPTURE_NO_SUCH_INTERFACE'
  | 'CAPTURE_PERMISSION_DENIED'
  | 'CAPTURE_BAD_FILTER'
  | 'CAPTURE_INTERFACE_DOWN'
  | 'CAPTURE_BAD_OPTION'
  | 'CAPTURE_OPEN_FAILED'
  | 'CAPTURE_STATS_FAILED'
  | 'CAPTURE_READ_FAILED'
  | 'CAPTURE_ADDON_UNAVAILABLE';

/** Base class of every error this package throws. */
export class CaptureError extends Error {
  /** Which failure this is; safe to switch on. */
  readonly code: CaptureErrorCode;
  /** Interface the failing operation was about, when there is one. */
  readonly iface: string | undefined;
  /** libpcap's error text, verbatim, when libpcap reported the failure. */
  readonly pcapMessage: string | undefined;

  constructor(
    code: CaptureErrorCode,
    message: string,
    options: { iface?: string; pcapMessage?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.iface = options.iface;
    this.pcapMessage = options.pcapMessage;
  }
}

/** The interface does not exist (see `listInterfaces()`). */
export class NoSuchInterfaceError extends CaptureError {
  constructor(iface: string, pcapMessage: string, available: readonly string[], cause?: unknown) {
    const list = available.length > 0 ? `; available: ${available.join(', ')}` : '';
    super('CAPTURE_NO_SUCH_INTERFACE', `no such interface "${iface}" (libpcap: ${pcapMessage})${list}`, {
      iface,
      pcapMessage,
      cause,
    });
  }
}

/** The process may not open a packet socket. */
export class CapturePermissionError extends CaptureError {
  constructor(iface: string, pcapMessage: string, cause?: unknown) {
    super(
      'CAPTURE_PERMISSION_DENIED',
      `permission denied capturing on "${iface}" (libpcap: ${pcapMessage}). ` +
        'Run as root (sudo), or give node the capture capabilities once: ' +
        'sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))',
      { iface, pcapMessage, cause },
    );
  }
}

/** libpcap rejected the BPF capture filter. */
export class BadFilterError extends CaptureError {
  /** The filter expression as given. */
  readonly filter: string;

  constructor(iface: string, filter: string, pcapMessage: string, cause?: unknown) {
    super('CAPTURE_BAD_FILTER', `bad capture filter "${filter}": ${pcapMessage}`, { iface, pcapMessage, cause });
    this.filter = filter;
  }
}

/** libpcap status codes (pcap/pcap.h) that `open()` can report. */
export const PCAP_STATUS = {
  ERROR: -1,
  NO_SUCH_DEVICE: -5,
  PERM_DENIED: -8,
  IFACE_NOT_UP: -9,
  PROMISC_PERM_DENIED: -11,
} as const;

/** What the patched addon attaches to an error thrown by `open()`. */
export interface PcapOpenFailure {
  message: string;
  /** Step of opening that failed: 'create', 'activate', 'compile', 'setfilter', ... */
  stage?: string;
  /** libpcap status code (negative), see PCAP_STATUS. */
  pcapStatus?: number;
}

/**
 * Turns a failure of the addon's `open()` into the matching CaptureError. `available` lists interface names
 * for the "no such interface" message.
 */
export function translateOpenError(
  failure: PcapOpenFailure,
  iface: string,
  filter: string,
  available: () => readonly string[],
): CaptureError {
  const pcapMessage = failure.message;
  if (failure.stage === 'compile' || failure.stage === 'setfilter') {
    return new BadFilterError(iface, filter, pcapMessage, failure);
  }
  switch (failure.pcapStatus) {
    case PCAP_STATUS.NO_SUCH_DEVICE:
      return new NoSuchInterfaceError(iface, pcapMessage, safeList(available), failure);
    case PCAP_STATUS.PERM_DENIED:
    case PCAP_STATUS.PROMISC_PERM_DENIED:
      return new CapturePermissionError(iface, pcapMessage, failure);
    case PCAP_STATUS.IFACE_NOT_UP:
      return new CaptureError(
        'CAPTURE_INTERFACE_DOWN',
        `interface "${iface}" is down (libpcap: ${pcapMessage}); bring it up with: sudo ip link set ${iface} up`,
        { iface, pcapMessage, cause: failure },
      );
    default:
      return new CaptureError('CAPTURE_OPEN_FAILED', `cannot capture on "${iface}": ${pcapMessage}`, {
        iface,
        pcapMessage,
        cause: failure,
      });
  }
}

function safeList(available: () => readonly string[]): readonly string[] {
  try {
    return available();
  } catch {
    // The list only decorates the message; failing to get it must not hide the real error.
    return [];
  }
}
