/**
 * @ca-shark/capture: live packet capture through libpcap (the `cap` addon, patched for kernel timestamps and
 * drop counters). Frames come out as link-layer bytes with their kernel timestamp; decoding them is the packet
 * layer's job.
 */
export {
  openLive,
  type LiveCapture,
  type LiveCaptureOptions,
  type Frame,
  type FrameListener,
  type CaptureErrorListener,
  type FrameIteratorOptions,
  DEFAULT_SNAPLEN,
  MAX_SNAPLEN,
  DEFAULT_BUFFER_SIZE,
  MIN_BUFFER_SIZE,
  DEFAULT_MAX_QUEUE,
  DEFAULT_TIMEOUT_MS,
} from './live.js';
export type { CaptureStats } from './counters.js';
export { DEFAULT_FILTER, caFilter } from './filter.js';
export { listInterfaces, formatInterfaceList, type InterfaceInfo, type InterfaceAddress } from './interfaces.js';
export {
  CaptureError,
  NoSuchInterfaceError,
  CapturePermissionError,
  BadFilterError,
  type CaptureErrorCode,
} from './errors.js';
