import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import type { LiveRecord } from '@ca-shark/analysis/summary';
import { describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { runEngine } from './test-support/engine.js';
import { learnDisplay } from './channel-display.js';

const T0 = 1_700_000_000;

/**
 * One circuit: a FLOAT and an ENUM channel, each read once with CTRL (precision, units, enum strings),
 * then updated by a plain-type monitor that carries only the number.
 */
function capture(): Uint8Array {
  const w = new PcapWriter();
  const c = new TcpConversation(w, '10.0.0.5', 45000, '10.0.0.9', 5064).open(T0);
  const client = [
    concatBytes([
      build.versionRequest({ priority: 0, version: 13 }),
      build.createChanRequest({ name: 'sim:float', cid: 1, version: 13 }),
      build.createChanRequest({ name: 'sim:enum', cid: 2, version: 13 }),
    ]),
    concatBytes([
      build.readNotifyRequest({ data_type: DbrType.CTRL_FLOAT, data_count: 1, sid: 11, ioid: 1 }),
      build.readNotifyRequest({ data_type: DbrType.CTRL_ENUM, data_count: 1, sid: 12, ioid: 2 }),
    ]),
    concatBytes([
      build.eventAddRequest({ data_type: DbrType.FLOAT, data_count: 1, sid: 11, subscriptionid: 3, mask: 5 }),
      build.eventAddRequest({ data_type: DbrType.ENUM, data_count: 1, sid: 12, subscriptionid: 4, mask: 5 }),
    ]),
  ];
  const server = [
    concatBytes([
      build.versionResponse({ version: 13 }),
      build.createChanResponse({ data_type: DbrType.FLOAT, data_count: 1, cid: 1, sid: 11 }),
      build.createChanResponse({ data_type: DbrType.ENUM, data_count: 1, cid: 2, sid: 12 }),
    ]),
    concatBytes([
      build.readNotifyResponse({
        data_type: DbrType.CTRL_FLOAT,
        data: [21.5],
        ioid: 1,
        metadata: { precision: 1, units: 'degC' },
      }),
      build.readNotifyResponse({
        data_type: DbrType.CTRL_ENUM,
        data: [0],
        ioid: 2,
        metadata: { enumStrings: ['Off', 'On', 'Fault'] },
      }),
    ]),
    concatBytes([
      build.eventAddResponse({ data_type: DbrType.FLOAT, data: [42.26], subscriptionid: 3 }),
      build.eventAddResponse({ data_type: DbrType.ENUM, data: [1], subscriptionid: 4 }),
    ]),
  ];
  for (let i = 0; i < client.length; i++) {
    c.send(T0 + 1 + i, true, client[i]);
    c.send(T0 + 1 + i + 0.01, false, server[i]);
  }
  return w.bytes();
}

describe('channel display', () => {
  it('remembers precision, units and enum strings per channel and shows later plain updates with them', () => {
    const live: LiveRecord[] = [];
    let id = 0;
    const engine = runEngine(
      capture(),
      { publish: (record, channel) => live.push(JSON.parse(toWire(record, ++id, channel)) as LiveRecord) },
      false,
    );
    const updates = live.filter((r) => r.cmd === 'EventAddResponse').map((r) => `${r.pv}: ${r.summary}`);
    // The FLOAT update has no metadata: the CTRL read taught precision 1 and the units.
    expect(updates).toEqual([
      'sim:float: 42.3 degC data_type=FLOAT data_count=1 subscriptionid=3',
      'sim:enum: On data_type=ENUM data_count=1 subscriptionid=4',
    ]);
    const channels = Object.fromEntries(engine.channels().map((c) => [c.pv, c]));
    expect(channels['sim:float'].display).toEqual({ precision: 1, units: 'degC' });
    expect(channels['sim:float'].nativeType).toBe('FLOAT');
    expect(channels['sim:enum'].display).toEqual({ enumStrings: ['Off', 'On', 'Fault'] });
    expect(channels['sim:enum'].lastValue).toEqual([1]);
  });

  it('learns only from GR and CTRL replies, keeping what an earlier one taught', () => {
    const known = learnDisplay(null, DbrType.GR_DOUBLE, { precision: 3, units: 'mm' });
    expect(known).toEqual({ precision: 3, units: 'mm' });
    expect(learnDisplay(known, DbrType.TIME_DOUBLE, { precision: 9 })).toBe(known);
    // An archiver's CTRL monitor repeats the same metadata in every update: nothing new, nothing allocated.
    expect(learnDisplay(known, DbrType.CTRL_DOUBLE, { precision: 3, units: 'mm', upperDispLimit: 10 })).toBe(known);
    const states = learnDisplay(null, DbrType.CTRL_ENUM, { enumStrings: ['Off', 'On'] });
    expect(learnDisplay(states, DbrType.CTRL_ENUM, { enumStrings: ['Off', 'On'] })).toBe(states);
    expect(learnDisplay(states, DbrType.CTRL_ENUM, { enumStrings: ['Off', 'On', 'Fault'] })).toEqual({
      enumStrings: ['Off', 'On', 'Fault'],
    });
    expect(learnDisplay(known, DbrType.CTRL_DOUBLE, { precision: 2 })).toEqual({ precision: 2, units: 'mm' });
    expect(learnDisplay(null, 'CTRL_DOUBLE', { precision: 2 })).toBeNull();
  });
});
