import { describe, expect, it } from 'vitest';
import { createDecoder } from './decoder.js';
import type { CaRecord } from './record.js';
import type { CircuitInfo } from './state.js';
import { CLIENT, SERVER, workedExample } from './test-support/scenario.js';

describe('onCircuitClose', () => {
  it('reports the end of a circuit once, after its last record, with time and reason', () => {
    const events: string[] = [];
    let closed: CircuitInfo | undefined;
    const d = createDecoder({
      onRecord: (r: CaRecord) => events.push(r.command.name),
      onCircuitClose: (c) => {
        events.push('close');
        closed = c;
      },
    });
    d.pushCapture(workedExample().bytes());
    d.end();
    expect(events.filter((e) => e === 'close')).toHaveLength(1);
    expect(events.at(-1)).toBe('close');
    expect(events.at(-2)).toBe('ClearChannelResponse');
    expect(closed).toMatchObject({ client: `${CLIENT}:45000`, server: `${SERVER}:5064`, closeReason: 'fin' });
    expect(closed?.closedAt).toBeGreaterThan(0);
  });
});

describe('shark() onCircuitClose', () => {
  it("calls back after the circuit's last record was yielded, even when one chunk holds the whole capture", async () => {
    const { shark } = await import('./shark.js');
    const events: string[] = [];
    for await (const r of shark(workedExample().bytes(), {
      onCircuitClose: (c) => events.push(`close ${c.closeReason}`),
    })) {
      events.push(r.command.name);
    }
    expect(events.indexOf('close fin')).toBe(events.length - 1);
    expect(events.at(-2)).toBe('ClearChannelResponse');
  });
});
