import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { Engine, type EngineOptions } from '../engine.js';

/**
 * An in-process Engine fed a whole capture (what the decoding worker does), its input ended unless
 * `end` is false. `options` override the quiet defaults (no capture counters, records dropped).
 */
export function runEngine(bytes: Uint8Array, options: Partial<EngineOptions> = {}, end = true): Engine {
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: 'crafted.pcap' }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: () => undefined,
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const reader = new CaptureReader({
    frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(bytes);
  reader.end();
  if (end) engine.end();
  return engine;
}
