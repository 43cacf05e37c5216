import { describe, expect, it } from 'vitest';
import type { CommandFields } from '@ca-shark/protocol';
import { caprotoCommand, CaprotoRepr, payloadSize } from './caproto-names.js';
import { renderCommand } from './render.js';

/** Record sizes of a message with a standard header and a payload of `n` bytes. */
const size = (n: number): number => 16 + n;
const DOUBLE = { data_type: 6, data_type_name: 'DOUBLE' };

describe("caprotoCommand: caproto-shark's class from the header", () => {
  it('names VERSION by p1 and prints the header data type as the priority, also on UDP and in replies', () => {
    const rsrvReply: CommandFields = { name: 'VersionResponse', id: 0, priority: 0, version: 13, parameter1: 0 };
    expect(renderCommand(rsrvReply, null, 16)).toBe('VersionRequest(priority=0, version=13)');
    const caprotoReply: CommandFields = { name: 'VersionResponse', id: 0, priority: 1, version: 13, parameter1: 1 };
    expect(caprotoCommand(caprotoReply, 16)).toBe(caprotoReply);
    const udpFirst: CommandFields = { name: 'VersionRequest', id: 0, version: 13, flag: 1, sequence: 0 };
    expect(renderCommand(udpFirst, null, 16)).toBe('VersionRequest(priority=1, version=13)');
    const udpSecond: CommandFields = { name: 'VersionRequest', id: 0, version: 13, flag: 1, sequence: 1 };
    expect(renderCommand(udpSecond, null, 16)).toBe('VersionResponse(version=13)');
  });
  it("keeps ca-shark's VERSION where caproto-shark decodes none (p1 other than 0 and 1)", () => {
    const third: CommandFields = { name: 'VersionRequest', id: 0, version: 13, flag: 1, sequence: 2 };
    expect(caprotoCommand(third, 16)).toBe(third);
  });
  it('prints CLEAR_CHANNEL, ECHO and READ_SYNC without direction, with the same fields', () => {
    expect(renderCommand({ name: 'ClearChannelResponse', id: 12, sid: 3, cid: 4 }, 'p', 16)).toBe(
      "ClearChannelRequestOrResponse(sid=3, cid=4, pv='p')",
    );
    expect(renderCommand({ name: 'EchoRequest', id: 23 }, null, 16)).toBe('EchoRequestOrResponse()');
    expect(renderCommand({ name: 'ReadSyncResponse', id: 10 }, null, 16)).toBe('ReadSyncRequest()');
  });
  it('names a 16-byte EVENT_ADD request by its sid, counting an extended header', () => {
    const request = (sid: number, extended?: true): CommandFields => ({
      name: 'EventAddRequest',
      id: 1,
      ...DOUBLE,
      data_count: 1,
      sid,
      subscriptionid: 2,
      low: 0,
      high: 0,
      to: 0,
      mask: 5,
      extended,
    });
    expect(caprotoCommand(request(60), size(16)).name).toBe('EventAddRequestOrResponse');
    expect(caprotoCommand(request(61), size(16)).name).toBe('EventAddRequest');
    expect(caprotoCommand(request(1, true), 24 + 16).name).toBe('EventAddRequestOrResponse');
    expect(payloadSize(request(1, true), 40)).toBe(16);
    // Without the record's size the classes chosen by payload size stay ca-shark's.
    expect(caprotoCommand(request(1), undefined).name).toBe('EventAddRequest');
  });
  it("prints RSRV's cancel confirmation that keeps the count as caproto-shark's empty update", () => {
    const cancel: CommandFields = {
      name: 'EventCancelResponse',
      id: 1,
      ...DOUBLE,
      data_count: 5,
      sid: 1,
      subscriptionid: 3,
    };
    const text = renderCommand(cancel, null, 16);
    expect(text).toMatch(
      /^EventAddResponse\(data=\(repr: tuple index out of range\), data_type=<ChannelType.DOUBLE: 6>, data_count=5, status=CAStatusCode\(name='ECA_NORMAL'.*, subscriptionid=3, metadata=\(repr: tuple index out of range\)\)$/,
    );
    expect(caprotoCommand({ ...cancel, data_count: 0 }, 16).name).toBe('EventCancelResponse');
  });
  it('reads payload-less replies as requests and a payload-less WRITE_NOTIFY as a reply, p1 moved', () => {
    const ok = { status: 1, status_name: 'ECA_NORMAL', severity: 'SUCCESS' };
    expect(
      renderCommand(
        { name: 'ReadNotifyResponse', id: 15, ...DOUBLE, data_count: 0, ...ok, ioid: 9, data: [] },
        null,
        16,
      ),
    ).toBe('ReadNotifyRequest(data_type=<ChannelType.DOUBLE: 6>, data_count=0, sid=1, ioid=9)');
    expect(
      renderCommand({ name: 'ReadResponse', id: 3, ...DOUBLE, data_count: 0, sid: 4, ioid: 10, data: [] }, null, 16),
    ).toBe('ReadRequest(data_type=<ChannelType.DOUBLE: 6>, data_count=0, sid=4, ioid=10)');
    expect(
      renderCommand(
        { name: 'WriteNotifyRequest', id: 19, ...DOUBLE, data_count: 0, sid: 4, ioid: 10, data: [] },
        null,
        16,
      ),
    ).toBe('WriteNotifyResponse(data_type=<ChannelType.DOUBLE: 6>, data_count=0, status=(repr: 4), ioid=10)');
    const update = { name: 'ReadNotifyResponse', id: 15, ...DOUBLE, data_count: 1, ...ok, ioid: 9, data: [1] };
    expect(caprotoCommand(update, size(8))).toBe(update);
  });
  it("prints a TCP search reply's missing version as caproto-shark's failed read", () => {
    const reply: CommandFields = { name: 'SearchResponse', id: 6, port: 5064, ip: '255.255.255.255', cid: 7 };
    const view = caprotoCommand(reply, 16);
    expect(view.version).toBeInstanceOf(CaprotoRepr);
    expect(renderCommand(reply, null, 16)).toBe(
      "SearchResponse(port=5064, ip='255.255.255.255', cid=7, version=(repr: Buffer size too small (0 instead of at least 2 bytes)))",
    );
  });
  it("keeps ca-shark's class where caproto-shark misreads the payload (a 16-byte update)", () => {
    const update: CommandFields = {
      name: 'EventAddResponse',
      id: 1,
      data_type: 19,
      data_type_name: 'TIME_LONG',
      data_count: 1,
      status: 1,
      subscriptionid: 2,
      data: [7],
    };
    expect(caprotoCommand(update, size(16))).toBe(update);
  });
});
