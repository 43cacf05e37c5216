/**
 * @ca-shark/decoder: from packets to one record per Channel Access message, with the conversation state
 * (circuits, channels, searches, pending requests) that names the PV on every message and pairs every
 * response with its request and latency.
 */
export { shark } from './shark.js';
export type { SharkInput, SharkOptions, SharkRecords } from './shark.js';
export { createDecoder } from './decoder.js';
/** The message bytes of the record being handed out by a decoder with `keepBytes: 'lend'`. */
export { lentBytes } from './emit.js';
/** The decoder's warm-up capture, for a host that warms its own record path with it (the daemon's worker). */
export { warmUpCapture } from './warmup.js';
export type { CaDecoder, CreateDecoderOptions, DecoderCallbacks, SkippedFlow } from './decoder.js';
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_MESSAGE_SIZE,
  PAIRING_SEARCH_TTL,
  DEFAULT_REPEATER_PORT,
  DEFAULT_SERVER_PORT,
} from './options.js';
export type { DecoderOptions, StateLimits } from './options.js';
export type { CaRecord, CaRecordJSON, MalformedCommand, RequestRef, DecoderProblem } from './record.js';
export type {
  DecoderState,
  CircuitInfo,
  ChannelInfo,
  ChannelStatus,
  ServerInfo,
  ClientInfo,
  SearchInfo,
  Statistics,
  PendingIo,
  SubscriptionInfo,
} from './state.js';
export { BoundedMap, capMap } from './bounded-map.js';
export type { IdTable } from './id-table.js';
export { classifyOpening } from './classify.js';
export type { OpeningVerdict } from './classify.js';
