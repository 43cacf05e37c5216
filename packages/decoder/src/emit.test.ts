import { describe, expect, it } from 'vitest';
import { samplePacketInfo } from '@ca-shark/packet';
import type { CaCommand } from '@ca-shark/protocol';
import { RecordEmitter } from './emit.js';
import type { CaRecord } from './record.js';
import { DEFAULT_LIMITS } from './options.js';
import { ConversationState } from './state.js';

/** A command of `name` (only the name matters to the counts). */
function command(name: string): CaCommand {
  return { name, id: 23 } as unknown as CaCommand;
}

describe('RecordEmitter command counts', () => {
  it('counts names that share a cache slot, in first-seen order, as a plain enumerable byCommand', () => {
    const st = new ConversationState(DEFAULT_LIMITS);
    const out: CaRecord[] = [];
    const emitter = new RecordEmitter(st.statistics, false, { onRecord: (r) => out.push(r) }, st.commandCounts);
    const packet = samplePacketInfo(false);
    // CreateChanRequest and ClientNameRequest hash to one slot (length 17, 'C'); so do EventAddRequest and
    // EventsOnRequest. Alternating them makes every count miss the slot and go through the map.
    const names = ['ClientNameRequest', 'CreateChanRequest', 'EventAddRequest', 'EventsOnRequest', 'CreateChanRequest'];
    for (let round = 0; round < 3; round++) {
      for (const name of names) emitter.sendFrameless(emitter.draft(packet, 'request', 'certain'), command(name));
    }
    const expected = { ClientNameRequest: 3, CreateChanRequest: 6, EventAddRequest: 3, EventsOnRequest: 3 };
    expect(st.statistics.byCommand).toEqual(expected);
    expect(Object.keys(st.statistics.byCommand)).toEqual(Object.keys(expected));
    // Seen by spreads and JSON as the data property it was.
    expect({ ...st.statistics }.byCommand).toEqual(expected);
    expect(JSON.parse(JSON.stringify(st.statistics)).byCommand).toEqual(expected);
    expect(Object.keys(st.statistics)[4]).toBe('byCommand');
    // A snapshot per read: later records do not change an object already read.
    const before = st.statistics.byCommand;
    emitter.sendFrameless(emitter.draft(packet, 'request', 'certain'), command('ClientNameRequest'));
    expect(before.ClientNameRequest).toBe(3);
    expect(st.statistics.byCommand.ClientNameRequest).toBe(4);
    expect(st.statistics.records).toBe(16);
    expect(out).toHaveLength(16);
  });
});
