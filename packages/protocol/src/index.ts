/**
 * @ca-shark/protocol: the EPICS Channel Access wire format. Pure functions and classes: tables, header
 * reading, the streaming deframer, the DBR and command codecs and role heuristics. No I/O, no timers.
 */
export type {
  CaFrame,
  CaFault,
  Role,
  RoleCertainty,
  DbrValue,
  DbrNumericArray,
  DbrMetadata,
  CaCommand,
  CaCommandJSON,
  CommandField,
  CommandFields,
  CommandName,
  CommandOf,
  DecodedCommand,
  MalformedCommand,
  InMemoryValues,
  JSONValues,
  ValueForm,
  EmbeddedHeader,
  VersionRequest,
  VersionResponse,
  EventAddRequest,
  EventAddResponse,
  EventCancelRequest,
  EventCancelResponse,
  ReadRequest,
  ReadResponse,
  WriteRequest,
  SearchRequest,
  SearchResponse,
  EventsOffRequest,
  EventsOnRequest,
  ReadSyncRequest,
  ReadSyncResponse,
  ErrorResponse,
  ClearChannelRequest,
  ClearChannelResponse,
  Beacon,
  NotFoundResponse,
  ReadNotifyRequest,
  ReadNotifyResponse,
  RepeaterConfirmResponse,
  CreateChanRequest,
  CreateChanResponse,
  WriteNotifyRequest,
  WriteNotifyResponse,
  ClientNameRequest,
  HostNameRequest,
  AccessRightsResponse,
  EchoRequest,
  EchoResponse,
  RepeaterRegisterRequest,
  CreateChFailResponse,
  ServerDisconnResponse,
  UnknownCommand,
} from './types.js';
export * from './tables.js';
export {
  HeaderOffset,
  HEADER_SIZE,
  EXTENDED_HEADER_SIZE,
  EXTENDED_MARKER,
  STANDARD_LIMIT,
  LEGACY_MAX_PAYLOAD,
  readHeader,
  headerFault,
  headerFaultMessage,
} from './header.js';
export type { CaHeader, HeaderFaultCode } from './header.js';
export { MetaOffset, LIMIT_FIELDS, EventAddPayload, SearchReplyPayload, SEARCH_ADDRESS_USE_SOURCE } from './layout.js';
export { encodeMessage, encodeDbr, encodeString, concatBytes, build } from './encode.js';
export type {
  MessageFields,
  EncodeMessageOptions,
  EncodeDbrOptions,
  DataFields,
  ErrorOriginal,
  Ipv4,
} from './encode.js';
export {
  Deframer,
  deframeDatagram,
  DEFAULT_MAX_PAYLOAD_SIZE,
  DEFAULT_OVERSIZE_PREFIX,
  FAULT_SAMPLE_SIZE,
  ANOMALY_DC16,
  ANOMALY_OVER_CAP,
  ANOMALY_CUT,
  HAND_OVER_MIN,
} from './deframer.js';
export type { DeframerOptions, DatagramOptions, FrameCallback, FaultCallback } from './deframer.js';
export { decodeDbr, readCString } from './dbr.js';
export type { DecodeDbrOptions } from './dbr.js';
export { decodeCommand, commandClassName } from './commands.js';
export type { DecodeCommandOptions } from './commands.js';
export { oneSidedRole, guessRole } from './role.js';
export type { RoleGuess } from './role.js';
