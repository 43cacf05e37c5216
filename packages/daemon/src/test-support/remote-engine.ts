import pino from 'pino';
import type { WireRecord } from '../engine.js';
import { Hub } from '../hub.js';
import type { SubscriptionFilter } from '../plugins/ws.js';
import { RemoteEngine, type RemoteEngineOptions } from '../remote-engine.js';
import { type SourceDescription, zeroCounters } from '../sources/types.js';

/**
 * Runs `body` with a real decoding worker behind a RemoteEngine, silent, on a source of `kind` that never
 * starts anything (the test feeds the engine itself, if at all), once it is ready; closed after.
 */
export async function withRemoteEngine<T>(
  kind: SourceDescription['kind'],
  options: Partial<RemoteEngineOptions>,
  body: (engine: RemoteEngine) => Promise<T>,
): Promise<T> {
  const engine = new RemoteEngine({
    source: {
      description: { kind },
      start: async () => undefined,
      stop: async () => undefined,
      counters: zeroCounters,
    },
    hub: new Hub<WireRecord, SubscriptionFilter>((r) => r),
    logger: pino({ level: 'silent' }),
    logLevel: 'silent',
    decoder: {},
    ...options,
  });
  try {
    await engine.ready();
    return await body(engine);
  } finally {
    await engine.close();
  }
}
