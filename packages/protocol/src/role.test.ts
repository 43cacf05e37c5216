import { describe, expect, it } from 'vitest';
import { build, encodeMessage } from './encode.js';
import { guessRole, oneSidedRole } from './role.js';
import { frameOf } from './test-support/frames.js';
import { hex } from './test-support/hex.js';

describe('oneSidedRole (§4.2)', () => {
  it.each([
    ['EVENT_CANCEL', 'request', build.eventCancelRequest({ data_type: 6, sid: 1, subscriptionid: 2 })],
    ['WRITE', 'request', build.writeRequest({ data_type: 6, data: [1], sid: 1, ioid: 2 })],
    ['EVENTS_OFF', 'request', build.eventsOffRequest()],
    ['EVENTS_ON', 'request', build.eventsOnRequest()],
    ['CLIENT_NAME', 'request', build.clientNameRequest({ name: 'a' })],
    ['HOST_NAME', 'request', build.hostNameRequest({ name: 'a' })],
    ['REPEATER_REGISTER', 'request', build.repeaterRegisterRequest()],
    ['CREATE_CHAN with name', 'request', build.createChanRequest({ name: 'pv', cid: 1 })],
    ['SEARCH with name', 'request', build.searchRequest({ name: 'pv', cid: 1 })],
    ['ERROR', 'response', build.error({ original: build.echoRequest(), cid: 0, status: 142, message: 'x' })],
    ['beacon', 'response', build.beacon({})],
    ['NOT_FOUND', 'response', build.notFoundResponse({ cid: 1 })],
    ['REPEATER_CONFIRM', 'response', build.repeaterConfirmResponse()],
    ['ACCESS_RIGHTS', 'response', build.accessRightsResponse({ cid: 1, access_rights: 3 })],
    ['CREATE_CH_FAIL', 'response', build.createChFailResponse({ cid: 1 })],
    ['SERVER_DISCONN', 'response', build.serverDisconnResponse({ cid: 1 })],
    ['CREATE_CHAN reply', 'response', build.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 2 })],
  ])('%s → %s', (_n, role, bytes) => {
    expect(oneSidedRole(frameOf(bytes))).toBe(role);
  });
  it.each([
    ['VERSION', build.versionRequest()],
    ['ECHO', build.echoRequest()],
    ['READ_SYNC', build.readSyncRequest()],
    ['CLEAR_CHANNEL', build.clearChannelRequest({ sid: 1, cid: 2 })],
    ['SEARCH reply', build.searchResponse({ cid: 1 })],
    ['READ_NOTIFY', build.readNotifyRequest({ data_type: 6, sid: 1, ioid: 1 })],
    ['EVENT_ADD', build.eventAddRequest({ data_type: 6, sid: 1, subscriptionid: 1 })],
  ])('%s is not revealing', (_n, bytes) => {
    expect(oneSidedRole(frameOf(bytes))).toBeUndefined();
  });
});

describe('guessRole (§4.4 recommended fallback)', () => {
  const g = (bytes: Uint8Array) => {
    const r = guessRole(frameOf(bytes));
    return r && [r.role, r.certainty, r.ambiguous ?? false];
  };
  it('defers to one-sided messages', () => {
    expect(g(build.accessRightsResponse({ cid: 1, access_rights: 1 }))).toEqual(['response', 'inferred', false]);
  });
  it('gives no direction for same-shape commands', () => {
    for (const b of [
      build.versionResponse(),
      build.echoResponse(),
      build.readSyncResponse(),
      build.clearChannelResponse({ sid: 1, cid: 1 }),
    ]) {
      expect(guessRole(frameOf(b))).toBeUndefined();
    }
  });
  it('reads SEARCH replies by dc 0 and ps 0 or 8, including a one-character name', () => {
    expect(g(build.searchResponse({ cid: 1 }))).toEqual(['response', 'guess', false]);
    expect(g(build.searchResponse({ cid: 1, tcp: true }))).toEqual(['response', 'guess', false]);
    // cashark reads a one-character name as a reply; dc ≠ 0 makes it a request.
    expect(g(build.searchRequest({ name: 'x', cid: 1 }))).toEqual(['request', 'inferred', false]);
  });
  it('reads WRITE_NOTIFY and CREATE_CHAN by payload', () => {
    expect(g(build.writeNotifyRequest({ data_type: 6, data: [1], sid: 1, ioid: 1 }))).toEqual([
      'request',
      'guess',
      false,
    ]);
    expect(g(build.writeNotifyResponse({ data_type: 6, ioid: 1 }))).toEqual(['response', 'guess', false]);
  });
  it('reads READ_NOTIFY by payload, flagging count-0 requests', () => {
    expect(g(build.readNotifyRequest({ data_type: 6, sid: 1, ioid: 1 }))).toEqual(['request', 'guess', false]);
    expect(g(build.readNotifyRequest({ data_type: 6, data_count: 0, sid: 1, ioid: 1 }))).toEqual([
      'request',
      'guess',
      true,
    ]);
    expect(g(build.readNotifyResponse({ data_type: 6, data: [1], ioid: 1 }))).toEqual(['response', 'guess', false]);
    expect(g(build.readRequest({ data_type: 6, sid: 1, ioid: 1 }))).toEqual(['request', 'guess', false]);
  });
  it('reads EVENT_ADD requests and updates, including the cases caproto and cashark get wrong', () => {
    // Real request with a small SID (caproto: undecided).
    expect(g(build.eventAddRequest({ data_type: 20, data_count: 1, sid: 3, subscriptionid: 1, mask: 5 }))).toEqual([
      'request',
      'guess',
      false,
    ]);
    // SID 1 = ECA_NORMAL, but a TIME_DOUBLE[1] update is 24 bytes, not 16.
    expect(g(build.eventAddRequest({ data_type: 20, data_count: 1, sid: 1, subscriptionid: 1, mask: 5 }))).toEqual([
      'request',
      'guess',
      false,
    ]);
    // LONG[4] = {0,0,0,0x50000}: request-shaped payload, but status ECA_NORMAL and 16-byte LONG[4] updates exist.
    expect(g(build.eventAddResponse({ data_type: 5, data: [0, 0, 0, 0x50000], subscriptionid: 1 }))).toEqual([
      'response',
      'guess',
      true,
    ]);
    // A 16-byte update with non-zero values.
    expect(g(build.eventAddResponse({ data_type: 6, data: [1.5, 2], subscriptionid: 1 }))).toEqual([
      'response',
      'guess',
      false,
    ]);
    // Any other size is an update; ps 0 is a confirmation or an empty update.
    expect(g(build.eventAddResponse({ data_type: 20, data: [1], subscriptionid: 1 }))).toEqual([
      'response',
      'guess',
      false,
    ]);
    expect(g(build.eventCancelResponse({ data_type: 20, sid: 1, subscriptionid: 1 }))).toEqual([
      'response',
      'guess',
      true,
    ]);
    // Mask 0 or > 255 is not a request.
    expect(
      g(
        encodeMessage(
          { command: 1, dataType: 6, dataCount: 1, parameter1: 99, parameter2: 1 },
          hex('00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00'),
        ),
      ),
    ).toEqual(['response', 'guess', false]);
  });
});
