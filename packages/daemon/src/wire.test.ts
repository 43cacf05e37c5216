import { fileURLToPath } from 'node:url';
import { type LiveRecord, summarizeFields } from '@ca-shark/analysis/summary';
import { shark } from '@ca-shark/decoder';
import { describe, expect, it } from 'vitest';
import { toWire } from './engine.js';

const FIXTURE = fileURLToPath(new URL('../../packet/fixtures/ca_monitor.pcapng', import.meta.url));

describe('toWire', () => {
  it('uses the summary the caller already made, and makes the same one itself otherwise', async () => {
    let n = 0;
    for await (const r of shark(FIXTURE)) {
      n += 1;
      expect((JSON.parse(toWire(r, n, undefined, undefined, 'given')) as LiveRecord).summary).toBe('given');
      expect(toWire(r, n)).toBe(toWire(r, n, undefined, undefined, summarizeFields(r.command)));
    }
    expect(n).toBeGreaterThan(0);
  });
});
