import { Deframer, deframeDatagram, type DeframerOptions } from '../deframer.js';
import type { CaFault, CaFrame } from '../types.js';
import { toHex } from './hex.js';

/** A frame copied into plain, comparable values. */
export interface FrameRecord {
  command: number;
  payloadSize: number;
  dataType: number;
  dataCount: number;
  parameter1: number;
  parameter2: number;
  headerSize: number;
  payload: string;
  bytes: string;
  truncated?: boolean;
  anomalies?: string[];
}

export function frameRecord(f: CaFrame): FrameRecord {
  const r: FrameRecord = {
    command: f.command,
    payloadSize: f.payloadSize,
    dataType: f.dataType,
    dataCount: f.dataCount,
    parameter1: f.parameter1,
    parameter2: f.parameter2,
    headerSize: f.headerSize,
    payload: toHex(f.payload),
    bytes: toHex(f.bytes),
  };
  if (f.truncated) r.truncated = true;
  if (f.anomalies) r.anomalies = [...f.anomalies];
  return r;
}

export interface FaultRecord {
  code: string;
  length: number;
  sample: string;
  offset?: number;
}

export function faultRecord(f: CaFault): FaultRecord {
  return { code: f.code, length: f.length, sample: toHex(f.sample), offset: f.offset };
}

/** Pushes the chunks (a `'gap'` entry calls gap()) then end(), and returns what came out, in order. */
export function deframeChunks(
  chunks: (Uint8Array | 'gap')[],
  options?: DeframerOptions,
): { frames: FrameRecord[]; faults: FaultRecord[]; events: string[]; maxBuffered: number } {
  const d = new Deframer(options);
  const frames: FrameRecord[] = [];
  const faults: FaultRecord[] = [];
  const events: string[] = [];
  let maxBuffered = 0;
  const onFrame = (f: CaFrame) => {
    frames.push(frameRecord(f));
    events.push(`frame ${f.command}`);
  };
  const onFault = (f: CaFault) => {
    faults.push(faultRecord(f));
    events.push(`fault ${f.code} ${f.length}`);
  };
  for (const c of chunks) {
    if (c === 'gap') d.gap();
    else d.push(c, onFrame, onFault);
    maxBuffered = Math.max(maxBuffered, d.bufferedBytes);
  }
  d.end(onFrame, onFault);
  return { frames, faults, events, maxBuffered };
}

export function deframeAll(bytes: Uint8Array, options?: DeframerOptions) {
  return deframeChunks([bytes], options);
}

export function datagram(bytes: Uint8Array, truncated = false) {
  const frames: FrameRecord[] = [];
  const faults: FaultRecord[] = [];
  const ok = deframeDatagram(
    bytes,
    (f) => frames.push(frameRecord(f)),
    (f) => faults.push(faultRecord(f)),
    { truncated },
  );
  return { ok, frames, faults };
}
