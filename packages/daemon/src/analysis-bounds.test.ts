import { DEFAULT_REPORT_ROWS } from '@ca-shark/analysis';
import { CaptureReader, PcapWriter, TcpConversation } from '@ca-shark/packet';
import { build } from '@ca-shark/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';

const T0 = 1_700_000_000;

/** One circuit toggling EVENTS_OFF / EVENTS_ON `n` times: `n` flow-control periods. */
function flowControlFlood(n: number): Uint8Array {
  const b = new PcapWriter();
  const c = new TcpConversation(b, '10.0.0.5', 45000, '10.0.0.9', 5064).open(T0);
  c.send(T0, true, build.versionRequest({ priority: 0, version: 13 }));
  c.send(T0, false, build.versionResponse({ version: 13 }));
  for (let i = 0; i < n; i++) {
    c.send(T0 + 1 + i * 1e-3, true, build.eventsOffRequest());
    c.send(T0 + 1 + i * 1e-3 + 5e-4, true, build.eventsOnRequest());
  }
  return b.bytes();
}

describe("the daemon's live analysis", () => {
  it('obeys the report bounds: the latest flow-control periods and a count of the others', () => {
    const engine = new Engine({
      describe: () => ({ kind: 'file', file: 'flood.pcap' }),
      counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
      publish: () => undefined,
      hubStats: () => ({ clients: 0, dropped: 0 }),
      logger: pino({ level: 'silent' }),
    });
    const n = DEFAULT_REPORT_ROWS + 2_500;
    const reader = new CaptureReader({
      frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
      problem: () => undefined,
    });
    reader.push(flowControlFlood(n));
    reader.end();
    const report = engine.report(['monitors']);
    expect(report.flow_control).toHaveLength(DEFAULT_REPORT_ROWS);
    expect(report.omitted).toEqual({ flow_control: n - DEFAULT_REPORT_ROWS });
    expect(report.flow_control!.at(-1)!.start).toBeCloseTo(T0 + 1 + (n - 1) * 1e-3, 3);
  });
});
