export { CaptureReader, } from './reader.js';
export { PacketPipeline } from './pipeline.js';
export { readCapture, readPackets, captureChunks } from './input.js';
export { TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK } from './tcp.js';
export {} from './fragments.js';
export { LINKTYPE, linktypeName, isSupportedLinktype } from './linktypes.js';
export { dottedQuad } from './format.js';
//# sourceMappingURL=index.js.map