/** Long UDP search traffic, for the tests of what the decoder's state keeps over long captures. */
import { build, concatBytes } from '@ca-shark/protocol';
import { PcapWriter } from '@ca-shark/packet';
import { CLIENT, SERVER, T0 } from './scenario.js';

/** Client UDP port of {@link searchTraffic}; the server answers from 5064. */
export const SEARCH_CLIENT_PORT = 40000;

/**
 * `seconds` capture seconds of searching, as a 4.11+ client does it: once a second one datagram led by a
 * sequence-numbered VERSION with `perSecond` SEARCHes of new CIDs (PV names repeat every 1000 CIDs), and
 * the server's reply datagram (VERSION with the same sequence number) answering every other one of them.
 */
export function searchTraffic(seconds: number, perSecond = 10): Uint8Array {
  const b = new PcapWriter();
  for (let s = 0; s < seconds; s++) {
    const t = T0 + s;
    const requests: Uint8Array[] = [build.versionRequest({ sequence: s })];
    const replies: Uint8Array[] = [build.versionResponse({ sequence: s })];
    for (let k = 0; k < perSecond; k++) {
      const cid = s * perSecond + k;
      requests.push(build.searchRequest({ name: `search:${cid % 1000}`, cid }));
      if (k % 2 === 0) replies.push(build.searchResponse({ cid }));
    }
    b.udp(t, CLIENT, SEARCH_CLIENT_PORT, SERVER, 5064, concatBytes(requests));
    b.udp(t + 0.001, SERVER, 5064, CLIENT, SEARCH_CLIENT_PORT, concatBytes(replies));
  }
  return b.bytes();
}
