import { describe, expect, it } from 'vitest';
import type { CircuitInfo } from './state.js';
import type { CaRecord } from './record.js';
import { SECOND_PASS_BYTES, warmUpCapture, warmUpDecoder } from './warmup.js';
import { decode } from './test-support/scenario.js';

describe('JIT warm-up capture', () => {
  it('decodes without a fault and takes the paths real captures meet late', async () => {
    const closes: CircuitInfo[] = [];
    const records = await decode(warmUpCapture(), { onCircuitClose: (c) => closes.push(c) });
    const names = new Set(records.map((r) => r.command.name));
    expect(records.filter((r) => r.command.id === -1)).toEqual([]);
    expect(records.every((r) => r.role_certainty === 'certain' || r.circuit === undefined)).toBe(true);
    for (const name of [
      'SearchRequest',
      'SearchResponse',
      'Beacon',
      'RepeaterConfirmResponse',
      'CreateChanResponse',
      'ReadNotifyResponse',
      'EventAddResponse',
      'EventCancelResponse',
      'WriteRequest',
      'WriteNotifyResponse',
      'ErrorResponse',
      'ClearChannelResponse',
      'CreateChFailResponse',
      'ServerDisconnResponse',
    ]) {
      expect(names, name).toContain(name);
    }
    const data = (r: CaRecord): unknown => ('data' in r.command ? r.command.data : undefined);
    // A waveform past the 16-bit payload size (extended header), split over TCP segments, as a typed array.
    const waveform = records.find((r) => r.command.name === 'EventAddResponse' && r.size > 0xffff);
    expect(data(waveform as CaRecord)).toBeInstanceOf(Float64Array);
    // An empty update of a live subscription, and ENUM values labelled from the CTRL_ENUM strings.
    expect(records.some((r) => r.command.name === 'EventAddResponse' && r.size === 16)).toBe(true);
    expect(records.some((r) => 'enum_labels' in r.command && r.command.enum_labels?.[0] === 'Off')).toBe(true);
    expect(closes.map((c) => c.closeReason).sort()).toEqual(['fin', 'rst', 'timeout']);
    // Commands of five shapes or more in extended headers (marking them compiles to a generic store).
    const extendedShapes = new Set(
      records.filter((r) => 'extended' in r.command).map((r) => Object.keys(r.command).join()),
    );
    expect(extendedShapes.size).toBeGreaterThanOrEqual(5);
    // And cut by the snapshot length (`truncated`).
    const cutShapes = new Set(records.filter((r) => r.truncated).map((r) => Object.keys(r.command).join()));
    expect(cutShapes.size).toBeGreaterThanOrEqual(5);
  });

  it('decodes the capture, then its start again, with decoders of its own', async () => {
    const capture = warmUpCapture();
    const whole = (await decode(capture)).length;
    const start = (await decode(capture.subarray(0, SECOND_PASS_BYTES))).length;
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThan(whole);
    expect(warmUpDecoder()).toBe(whole + start);
  });
});
