/**
 * `ca-shark` against caproto-shark's real output (issue 14): on every shared capture, each message
 * caproto-shark prints must be printed identically by ca-shark (its trailing `pv=` aside). On
 * libca-sim.pcap (libca's monitors of 16-byte TIME_ENUM / TIME_LONG updates) and caproto-names.pcap (made
 * to hold every message caproto-shark names differently from its direction), the one documented deviation
 * is counted: a 16-byte EVENT_ADD update, whose value caproto-shark reads as a request's deadbands. The expected
 * outputs were printed by caproto-shark 1.3.0 (Python 3.11, numpy 1.24, dpkt 1.9.8) and are regenerated
 * and re-checked by scripts/caproto-compare.sh; fixtures/caproto/README.md says where each input comes from.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { caprotoMessages, compareWithCaproto, withoutPv, type Deviation } from './caproto-compare.js';
import { ensureBuilt, runCli } from './test-support/cli.js';

vi.setConfig({ testTimeout: 60_000 });
const BUILD_TIMEOUT = 180_000;

const DIR = new URL('../fixtures/caproto/', import.meta.url);

/**
 * Per input: caproto-shark's message count, how many ca-shark prints identically, the deviations, and
 * how many of ca-shark's messages caproto-shark loses (split TCP messages, and everything from a sender
 * after a message it cannot parse).
 */
const EXPECTED: Record<
  string,
  { messages: number; identical: number; deviations: Partial<Record<Deviation, number>>; missed: number }
> = {
  'example_tcp_data.pcap': { messages: 14, identical: 14, deviations: {}, missed: 8 },
  'example_udp_data.pcap': { messages: 16, identical: 16, deviations: {}, missed: 0 },
  'catest.pcap.ether.pcap': { messages: 133, identical: 133, deviations: {}, missed: 15 },
  'ca_arrays.pcapng.ether.pcap': { messages: 70, identical: 70, deviations: {}, missed: 0 },
  'ca_monitor.pcapng.ether.pcap': { messages: 15, identical: 15, deviations: {}, missed: 0 },
  'ca_monitor2.pcapng.ether.pcap': { messages: 33, identical: 33, deviations: {}, missed: 0 },
  'cabeacon.cap.ether.pcap': { messages: 8, identical: 8, deviations: {}, missed: 0 },
  'libca-sim.pcap': {
    messages: 77,
    identical: 64,
    deviations: { 'event-add-reply-as-request': 13 },
    missed: 20,
  },
  'caproto-names.pcap': {
    messages: 26,
    identical: 25,
    deviations: { 'event-add-reply-as-request': 1 },
    missed: 0,
  },
};

beforeAll(ensureBuilt, BUILD_TIMEOUT);

describe('ca-shark prints every message caproto-shark decodes as caproto-shark does', () => {
  it.each(Object.entries(EXPECTED))('%s', async (input, expected) => {
    const caproto = readFileSync(new URL(`${input}.caproto.txt`, DIR), 'utf8');
    const r = await runCli([new URL(input, DIR).pathname]);
    expect(r.code).toBe(0);
    const result = compareWithCaproto(caproto, r.stdout);
    expect(result.unmatched).toEqual([]);
    expect({
      messages: result.caprotoMessages,
      identical: result.identical,
      deviations: result.deviations,
      missed: result.missedByCaproto,
    }).toEqual(expected);
  });
});

describe('the comparison', () => {
  const c2s = '1.5 10.0.0.1:40000->10.0.0.2:5064';
  const s2c = '1.5 10.0.0.2:5064->10.0.0.1:40000';
  it("joins numpy's wrapped lines back into one message, keeping the items' padding", () => {
    const text = `${s2c} X(data=array([  1,   2,\n       300,   4]), n=1)\n${s2c} Y(data=array([1, 2],\n      dtype=int16))\n`;
    expect(caprotoMessages(text)).toEqual([
      `${s2c} X(data=array([  1,   2, 300,   4]), n=1)`,
      `${s2c} Y(data=array([1, 2], dtype=int16))`,
    ]);
  });
  it("drops only ca-shark's trailing pv field", () => {
    expect(withoutPv(`${c2s} A(cid=1, pv='x:y')`)).toBe(`${c2s} A(cid=1)`);
    expect(withoutPv(`${c2s} EchoRequest(pv='x')`)).toBe(`${c2s} EchoRequest()`);
    expect(withoutPv(`${c2s} A(name='pv=1')`)).toBe(`${c2s} A(name='pv=1')`);
  });
  it('fails on any other difference, and on a message ca-shark does not print', () => {
    const ours = `${s2c} R(data=array([1.]), cid=1, pv='p')\n${s2c} Q(cid=2)\n`;
    expect(compareWithCaproto(`${s2c} R(data=array([1.]), cid=1)\n${s2c} Q(cid=2)\n`, ours).identical).toBe(2);
    const changed = compareWithCaproto(`${s2c} R(data=array([1.0]), cid=1)\n`, ours);
    expect(changed.unmatched).toHaveLength(1);
    expect(changed.unmatched[0].nearest).toBe(`${s2c} R(data=array([1.]), cid=1)`);
    expect(compareWithCaproto(`${s2c} Z()\n`, ours).unmatched).toHaveLength(1);
  });
  it('accepts only the documented deviation, and only with the same header fields', () => {
    const type = '<ChannelType.TIME_LONG: 19>';
    const ours =
      `${s2c} EventAddResponse(data=array([7], dtype=int32), data_type=${type}, data_count=1, ` +
      `status=CAStatusCode(name='ECA_NORMAL'), subscriptionid=2, metadata=DBR_TIME_LONG(), pv='p')\n`;
    const theirs = (sub: number, cls = 'EventAddRequestOrResponse'): string =>
      `${s2c} ${cls}(data_type=${type}, data_count=1, sid=1, subscriptionid=${sub}, low=0.0, high=0.0, to=0.0, mask=0)\n`;
    expect(compareWithCaproto(theirs(2), ours).deviations).toEqual({ 'event-add-reply-as-request': 1 });
    expect(compareWithCaproto(theirs(2, 'EventAddRequest'), ours).deviations).toEqual({
      'event-add-reply-as-request': 1,
    });
    expect(compareWithCaproto(theirs(3), ours).unmatched).toHaveLength(1);
    // The directions caproto-shark cannot tell are no deviation: ca-shark prints caproto-shark's class.
    const clear = `${c2s} ClearChannelRequest(sid=1, cid=2, pv='p')\n`;
    expect(compareWithCaproto(`${c2s} ClearChannelRequestOrResponse(sid=1, cid=2)\n`, clear).unmatched).toHaveLength(1);
  });
});
