/**
 * @ca-shark/packet: capture formats (pcap, pcapng) and packet layers (link, IPv4, UDP, TCP reassembly).
 * No Channel Access knowledge lives here.
 */
export type * from './types.js';
export {
  CaptureReader,
  type CaptureFrame,
  type CaptureHandler,
  type CaptureHeader,
  type CaptureInterface,
  type CaptureReaderOptions,
  type RawFrameSink,
} from './reader.js';
export {
  PacketPipeline,
  makePacketInfo,
  samplePacketInfo,
  PACKET_INFO_L4_BYTES,
  type PacketInfoMaker,
  type PacketPipelineOptions,
  type PacketStats,
} from './pipeline.js';
export { LINK_RECORD_MAX_BYTES } from './link.js';
export { readCapture, readPackets, captureChunks, type CaptureInput, type CaptureItem } from './input.js';
export {
  DESCRIPTOR_CHUNK_BYTES,
  DescriptorChunks,
  DescriptorReader,
  STDIN_FD,
  examineDescriptor,
  type DescriptorInfo,
  type DescriptorKind,
  type DescriptorReaderHandler,
} from './stdin-reader.js';
export { type TcpOptions, type TcpStats, TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK } from './tcp.js';
export { type FragmentOptions } from './fragments.js';
export { LINKTYPE, linktypeName, isSupportedLinktype } from './linktypes.js';
export { dottedQuad } from './format.js';
export { PcapWriter, TcpConversation } from './writer.js';
export { MessageFrames, SpanningMessages, type MessageFramesOptions, type TrackedMessage } from './message-frames.js';
export { PcapngChunks, PcapngWriter, PCAPNG_BLOCK, TSRESOL, type PcapngInterface } from './pcapng-writer.js';
export {
  STDIN_LABEL,
  UNREADABLE_INPUT_CODES,
  describeOpenError,
  inputErrorLine,
  isUnreadableInput,
  problemText,
  stopsInput,
  unsupportedLinktypeMessage,
} from './input-errors.js';
