/** Helpers that run frames or captures through a pipeline and collect what comes out. */
import { PacketPipeline, type PacketPipelineOptions } from '../pipeline.js';
import type { PacketEvent, PacketProblem } from '../types.js';

export interface LiveFrame {
  linktype: number;
  data: Uint8Array;
  ts?: number;
  origlen?: number;
}

export function runFrames(
  frames: LiveFrame[],
  options: Omit<PacketPipelineOptions, 'onEvent'> = {},
): { events: PacketEvent[]; pipeline: PacketPipeline; problems: PacketProblem[] } {
  const events: PacketEvent[] = [];
  const pipeline = new PacketPipeline({ ...options, onEvent: (e) => events.push(e) });
  frames.forEach((f, i) => pipeline.pushFrame(f.linktype, f.ts ?? 1000 + i * 0.001, f.data, f.origlen));
  pipeline.end();
  return { events, pipeline, problems: events.filter((e): e is PacketProblem => e.type === 'problem') };
}

/** Run a capture pushed in chunks of `size` bytes (0: at once). */
export function runCapture(
  capture: Uint8Array,
  size = 0,
  options: Omit<PacketPipelineOptions, 'onEvent'> = {},
): { events: PacketEvent[]; pipeline: PacketPipeline } {
  const events: PacketEvent[] = [];
  const pipeline = new PacketPipeline({ ...options, onEvent: (e) => events.push(e) });
  const step = size > 0 ? size : Math.max(1, capture.length);
  for (let i = 0; i < capture.length; i += step) pipeline.pushCapture(capture.slice(i, i + step));
  pipeline.end();
  return { events, pipeline };
}

/** A comparable digest of an event (bytes as hex, the packet by frame number). */
export function digest(e: PacketEvent): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  switch (e.type) {
    case 'udp':
      return `udp ${e.packet.frame} ${e.packet.src}:${e.packet.transport.sport}>${e.packet.dst}:${e.packet.transport.dport} ${hex(e.payload)}`;
    case 'tcp-data':
      return `data ${e.packet.frame} #${e.flow.id} ${e.from} ${hex(e.data)}`;
    case 'tcp-gap':
      return `gap ${e.packet.frame} #${e.flow.id} ${e.from} ${e.length}`;
    case 'tcp-open':
      return `open ${e.packet.frame} #${e.flow.id} ${JSON.stringify(e.flow)}`;
    case 'tcp-close':
      return `close ${e.packet.frame} #${e.flow.id} ${e.reason}`;
    case 'problem':
      return `problem ${e.frame} ${e.code} ${e.message}`;
  }
}

/** Concatenated stream bytes per flow id and side, gaps written as `<gap N>` markers. */
export function streams(events: PacketEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of events) {
    if (e.type !== 'tcp-data' && e.type !== 'tcp-gap') continue;
    const key = `${e.flow.id}${e.from}`;
    const add = e.type === 'tcp-data' ? Buffer.from(e.data).toString('latin1') : `<gap ${e.length}>`;
    out.set(key, (out.get(key) ?? '') + add);
  }
  return out;
}
