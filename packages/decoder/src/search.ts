import type { PacketInfo } from '@ca-shark/packet';
import { Command, ipv4ToString } from '@ca-shark/protocol';
import type { CaFrame } from '@ca-shark/protocol';
import type { StateLimits } from './options.js';
import type { CaRecord } from './record.js';
import { makeRef, payloadString } from './channels.js';
import { BoundedMap } from './bounded-map.js';
import { capMap, keptKey, searchIpKey } from './state.js';
import type { ConversationState, SearchInfo } from './state.js';
import { ADDRESS_FROM_SOURCE } from './wire.js';

/** Servers remembered per search entry. */
const MAX_ANSWERS = 16;

/**
 * The `answeredBy` of every search nobody answered yet (most of the state's entries): frozen and shared, so
 * such an entry holds no array of its own; the first answer gives it one of the right size (a push onto an
 * empty array would allocate room for 17).
 */
const NO_ANSWERS: string[] = [];
Object.freeze(NO_ANSWERS);

/** Searched names remembered so that the entries of one name share its string (the oldest go first). */
const SHARED_NAMES = 4096;

/** Called when a search reply or a beacon names a server endpoint the state did not know. */
export type ServerLearned = (ip: string, port: number, packet: PacketInfo) => void;

/**
 * SEARCH / NOT_FOUND bookkeeping, for UDP and for TCP to a name server. Requests are keyed by client
 * socket and CID. Retries reuse the CID: the reply's `request` is the LATEST request before it, so
 * `latency` is the server's reply time; charging it the client's back-off between retries would make a
 * 2 ms IOC look minutes slow. The client's wait (first request to first reply) stays in the state's
 * SearchInfo.
 */
export class SearchBook {
  /**
   * One string per searched name for the entries: each SEARCH decodes its own copy, and clients search the
   * same few names under ever new CIDs (18,708 entries of 422 names at the end of a 1 GB realistic capture).
   */
  private readonly names = new BoundedMap<string, string>(SHARED_NAMES);

  constructor(
    private readonly st: ConversationState,
    private readonly limits: StateLimits,
    private readonly serverLearned: ServerLearned,
  ) {}

  /**
   * Books a SEARCH request or a SEARCH / NOT_FOUND reply and sets `record.pv` and `record.request`.
   * `sourceIp` is the datagram's source (null over TCP), `sequence` the datagram's VERSION sequence
   * number. `pv`: a request's name when the caller has decoded it already (it is read from the payload
   * otherwise). Returns a reply's server TCP endpoint "ip:port".
   */
  search(
    packet: PacketInfo,
    frame: CaFrame,
    record: CaRecord,
    clientAddr: string,
    serverAddr: string,
    sourceIp: string | null,
    sequence: number | null,
    pv?: string,
  ): string | undefined {
    if (frame.command === Command.SEARCH && record.role === 'request') {
      this.request(packet, frame, record, clientAddr, sequence, pv ?? payloadString(frame));
      return undefined;
    }
    return this.reply(packet, frame, record, clientAddr, serverAddr, sourceIp);
  }

  /**
   * A SEARCH request. Apart from {@link reply} on purpose: a search storm (thousands of requests at the
   * start of a capture, few replies) makes this path hot long before the replies', and each half compiles
   * on its own with only its own fields' feedback.
   */
  private request(
    packet: PacketInfo,
    frame: CaFrame,
    record: CaRecord,
    clientAddr: string,
    sequence: number | null,
    pv: string,
  ): void {
    const st = this.st;
    const now = packet.timestamp;
    const cid = frame.parameter1;
    const key = `${clientAddr}/${cid}`;
    const ref = makeRef(packet, 'SearchRequest');
    const cl = st.client(clientAddr, now);
    cl.searches++;
    if (cl.minor === null) cl.minor = frame.dataCount;
    let s = st.searches.get(key);
    if (s && s.pv === pv) {
      s.requests++;
      s.last = ref;
      s.lastSequence = sequence;
      st.searched(key, s, true);
    } else {
      let name = this.names.get(pv);
      if (name === undefined) this.names.set(pv, (name = pv));
      s = {
        // The client's own address string: this datagram's is a copy of it.
        client: cl.address,
        cid,
        pv: name,
        first: ref,
        last: ref,
        requests: 1,
        firstSequence: sequence,
        lastSequence: sequence,
        answeredBy: NO_ANSWERS,
        firstReply: null,
        notFound: 0,
      };
      st.searches.delete(key);
      const kept = keptKey(cl.address, cid);
      st.searches.set(kept, s);
      st.searched(kept, s, false);
      st.searchesByIpCid.set(searchIpKey(clientAddr, cid), s);
      st.statistics.evicted.searches += capMap(st.searches, this.limits.maxSearches);
      capMap(st.searchesByIpCid, this.limits.maxSearches);
    }
    record.pv = pv;
  }

  /** A SEARCH or NOT_FOUND reply; returns a SEARCH reply's server TCP endpoint. */
  private reply(
    packet: PacketInfo,
    frame: CaFrame,
    record: CaRecord,
    clientAddr: string,
    serverAddr: string,
    sourceIp: string | null,
  ): string | undefined {
    const st = this.st;
    // Reply: SEARCH carries the CID in p2, NOT_FOUND in p1 (= p2).
    const cid = frame.command === Command.SEARCH ? frame.parameter2 : frame.parameter1;
    const s: SearchInfo | undefined = st.searches.get(`${clientAddr}/${cid}`);
    if (s) {
      record.pv = s.pv;
      record.request = s.last;
    }
    if (frame.command === Command.NOT_FOUND) {
      if (s) s.notFound++;
      return undefined;
    }
    // The server's TCP endpoint: port in dt, address in p1 (0xFFFFFFFF = this datagram's source).
    const ip =
      frame.parameter1 === ADDRESS_FROM_SOURCE || frame.parameter1 === 0
        ? (sourceIp ?? hostOf(serverAddr))
        : ipv4ToString(frame.parameter1);
    const port = frame.dataType;
    const known = st.servers.has(`${ip}:${port}`);
    const srv = st.server(ip, port, packet.timestamp);
    srv.learnedFrom.search = true;
    srv.searchReplies++;
    if (frame.payload.length >= 2) srv.minor = (frame.payload[0] << 8) | frame.payload[1];
    if (s) {
      if (s.answeredBy === NO_ANSWERS) s.answeredBy = [srv.address];
      else if (!s.answeredBy.includes(srv.address) && s.answeredBy.length < MAX_ANSWERS) s.answeredBy.push(srv.address);
      s.firstReply ??= makeRef(packet, 'SearchResponse');
    }
    if (!known) this.serverLearned(ip, port, packet);
    return srv.address;
  }
}

/** The host part of "ip:port". */
function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}
