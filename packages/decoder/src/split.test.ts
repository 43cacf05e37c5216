import { describe, expect, it } from 'vitest';
import { concatBytes } from '@ca-shark/protocol';
import type { CaRecord } from './record.js';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { CLIENT, SERVER, T0, decode, workedCircuit } from './test-support/scenario.js';

/** Everything of a record that must not depend on segmentation (frame numbers do). */
function key(r: CaRecord): string {
  const { name, ...fields } = r.command;
  return JSON.stringify([
    name,
    fields,
    r.pv,
    r.role,
    r.role_certainty,
    r.request?.command,
    r.latency,
    r.size,
    r.timestamp,
  ]);
}

const { client, server } = workedCircuit();
const clientStream = concatBytes(client);
const serverStream = concatBytes(server);

/** The circuit with each direction's stream cut at the given offsets (one segment per piece). */
function capture(clientCuts: number[], serverCuts: number[], port = 5064, handshake = true): Uint8Array {
  const b = new PcapWriter();
  const c = new TcpConversation(b, CLIENT, 45000, SERVER, port);
  if (handshake) c.open(T0);
  const pieces = (s: Uint8Array, cuts: number[]) => {
    const out: Uint8Array[] = [];
    let o = 0;
    for (const k of [...cuts, s.length]) {
      if (k > o) out.push(s.subarray(o, k));
      o = Math.max(o, k);
    }
    return out;
  };
  for (const p of pieces(clientStream, clientCuts)) c.send(T0 + 1, true, p);
  for (const p of pieces(serverStream, serverCuts)) c.send(T0 + 2, false, p);
  return b.bytes();
}

describe('split at every offset (CA layer over the packet pipeline)', () => {
  it('gives the same records whatever the segmentation, on a known port', async () => {
    const expected = (await decode(capture([], []))).map(key);
    expect(expected.length).toBe(client.length + server.length + 5); // 4 + 3 messages in the opening segments
    const n = Math.max(clientStream.length, serverStream.length);
    for (let k = 1; k < n; k++) {
      const got = (await decode(capture([k % clientStream.length], [k % serverStream.length]))).map(key);
      expect(got, `cut at ${k}`).toEqual(expected);
    }
  });

  it('gives the same records with two cuts everywhere in the opening segments', async () => {
    const expected = (await decode(capture([], []))).map(key);
    const first = client[0].length;
    for (let i = 1; i < first; i++) {
      for (let j = i + 1; j < first; j += 3) {
        const got = (await decode(capture([i, j], [j % serverStream.length]))).map(key);
        expect(got, `cuts at ${i}, ${j}`).toEqual(expected);
      }
    }
  });

  it('gives the same records one byte per segment', async () => {
    const expected = (await decode(capture([], []))).map(key);
    const every = (s: Uint8Array) => Array.from({ length: s.length - 1 }, (_, i) => i + 1);
    expect((await decode(capture(every(clientStream), every(serverStream)))).map(key)).toEqual(expected);
  });

  it('recognises the circuit on an unknown port whatever the segmentation of its opening', async () => {
    const expected = (await decode(capture([], [], 50421))).map(key);
    expect(expected.length).toBe(client.length + server.length + 5);
    for (let k = 1; k < client[0].length + 8; k++) {
      const got = (await decode(capture([k], [k % serverStream.length], 50421))).map(key);
      expect(got, `cut at ${k}`).toEqual(expected);
    }
  });
});
