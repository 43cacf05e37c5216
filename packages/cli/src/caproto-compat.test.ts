/**
 * `ca-shark` against caproto-shark's real output (issue 14): on every shared capture, each message
 * caproto-shark prints must be printed identically by ca-shark (its trailing `pv=` aside), or differ only
 * as one of the documented deviations, with the counts below. The expected outputs were printed by
 * caproto-shark 1.3.0 (Python 3.11, numpy 1.24, dpkt 1.9.8) and are regenerated and re-checked by
 * scripts/caproto-compare.sh; fixtures/caproto/README.md says where each input comes from.
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
  'example_tcp_data.pcap': { messages: 14, identical: 12, deviations: { 'request-or-response': 2 }, missed: 8 },
  'example_udp_data.pcap': { messages: 16, identical: 16, deviations: {}, missed: 0 },
  'catest.pcap.ether.pcap': {
    messages: 133,
    identical: 103,
    deviations: { 'version-direction': 16, 'request-or-response': 14 },
    missed: 15,
  },
  'ca_arrays.pcapng.ether.pcap': {
    messages: 70,
    identical: 53,
    deviations: { 'version-direction': 6, 'request-or-response': 11 },
    missed: 0,
  },
  'ca_monitor.pcapng.ether.pcap': {
    messages: 15,
    identical: 12,
    deviations: { 'version-direction': 2, 'request-or-response': 1 },
    missed: 0,
  },
  'ca_monitor2.pcapng.ether.pcap': {
    messages: 33,
    identical: 29,
    deviations: { 'version-direction': 2, 'request-or-response': 2 },
    missed: 0,
  },
  'cabeacon.cap.ether.pcap': { messages: 8, identical: 8, deviations: {}, missed: 0 },
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
  it('accepts only the documented deviations, and only with the rest of the line identical', () => {
    const ours = `${c2s} EventAddRequest(sid=1, mask=5, pv='p')\n${s2c} VersionResponse(version=13)\n`;
    const theirs = `${c2s} EventAddRequestOrResponse(sid=1, mask=5)\n${s2c} VersionRequest(priority=0, version=13)\n`;
    expect(compareWithCaproto(theirs, ours).deviations).toEqual({ 'request-or-response': 1, 'version-direction': 1 });
    expect(compareWithCaproto(`${c2s} EventAddRequestOrResponse(sid=2, mask=5)\n`, ours).unmatched).toHaveLength(1);
    expect(compareWithCaproto(`${s2c} VersionRequest(priority=0, version=12)\n`, ours).unmatched).toHaveLength(1);
  });
});
