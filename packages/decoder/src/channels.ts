import type { PacketInfo } from '@ca-shark/packet';
import { Command, HEADER_SIZE, HeaderOffset, readCString } from '@ca-shark/protocol';
import type { CaFrame } from '@ca-shark/protocol';
import type { StateLimits } from './options.js';
import type { CaRecord, RequestRef } from './record.js';
import { ADDRESS_FROM_SOURCE, EVENT_ADD_MASK_OFFSET } from './wire.js';
import { capMap, searchIpKey } from './state.js';
import type { ChannelInfo, CircuitInfo, ConversationState, SubscriptionInfo } from './state.js';

/** An end of a TCP flow: `a` sent the first packet seen. */
export type Side = 'a' | 'b';
export const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

/**
 * Per-command channel bookkeeping of a circuit: channels by CID and SID, pending creates, reads, writes,
 * subscriptions and clears. Each handler takes the circuit, the message and the record drafted for it;
 * it returns the channel the message is about and sets `record.request` when the message answers a
 * request it knows.
 */
export class ChannelBook {
  constructor(
    private readonly st: ConversationState,
    private readonly limits: StateLimits,
  ) {}

  createRequest(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const cid = frame.parameter1;
    const pv = payloadString(frame);
    const ref = makeRef(packet, 'CreateChanRequest');
    let channel = c.channelsByCid.get(cid) ?? null;
    // A CID seen before (reused after a clear, or a repeat) starts a new channel.
    if (channel && (channel.sid !== null || (channel.pv !== null && channel.pv !== pv))) {
      this.st.unindexChannel(channel);
      channel = null;
    }
    channel ??= this.channelByCid(c, cid);
    channel.pv = pv;
    channel.status = 'creating';
    channel.created = ref;
    c.pendingCreates.set(cid, { pv, request: ref });
    this.st.statistics.evicted.pending += capMap(c.pendingCreates, this.limits.maxPendingPerCircuit);
    if (c.clientMinor === null) c.clientMinor = frame.parameter2;
    return channel;
  }

  createReply(c: CircuitInfo, frame: CaFrame, packet: PacketInfo, record: CaRecord): ChannelInfo {
    const cid = frame.parameter1;
    const pend = c.pendingCreates.get(cid);
    if (pend) {
      record.request = pend.request;
      c.pendingCreates.delete(cid);
    }
    const channel = this.linkSid(c, this.channelByCid(c, cid), frame.parameter2);
    if (channel.pv === null && pend) channel.pv = pend.pv;
    channel.nativeType = frame.dataType;
    channel.nativeCount = frame.dataCount;
    channel.status = 'connected';
    channel.connectedAt = packet.timestamp;
    if (pend) channel.connectLatency = packet.timestamp - pend.request.timestamp;
    return channel;
  }

  /** ACCESS_RIGHTS: `p1` = CID, `p2` = the rights. */
  accessRights(c: CircuitInfo, frame: CaFrame): ChannelInfo {
    const channel = this.channelByCid(c, frame.parameter1);
    channel.accessRights = frame.parameter2;
    return channel;
  }

  /** CREATE_CH_FAIL (answers a create) or SERVER_DISCONN: the channel of `p1` = CID ends. */
  channelGone(c: CircuitInfo, frame: CaFrame, packet: PacketInfo, record: CaRecord): ChannelInfo {
    const cid = frame.parameter1;
    const failed = frame.command === Command.CREATE_CH_FAIL;
    const pend = failed ? c.pendingCreates.get(cid) : undefined;
    if (pend) {
      record.request = pend.request;
      c.pendingCreates.delete(cid);
    }
    const channel = this.channelByCid(c, cid);
    if (channel.pv === null && pend) channel.pv = pend.pv;
    channel.status = failed ? 'failed' : 'disconnected';
    channel.endedAt = packet.timestamp;
    this.st.channelEnded(channel);
    this.st.unindexChannel(channel);
    return channel;
  }

  /** READ_NOTIFY / READ / WRITE_NOTIFY request: `p1` = SID, `p2` = IOID. */
  ioRequest(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const ioid = frame.parameter2;
    c.pendingIo.set(ioid, {
      ioid,
      kind: frame.command === Command.WRITE_NOTIFY ? 'write' : 'read',
      channel,
      dataType: frame.dataType,
      dataCount: frame.dataCount,
      request: makeIoRef(packet, requestName(frame.command)),
      side,
    });
    this.st.statistics.evicted.pending += c.pendingIo.trimTo(this.limits.maxPendingPerCircuit);
    return channel;
  }

  /** Their reply: `p2` = IOID. */
  ioReply(c: CircuitInfo, frame: CaFrame, record: CaRecord): ChannelInfo | null {
    const ioid = frame.parameter2;
    const p = c.pendingIo.take(ioid);
    if (p) {
      record.request = p.request;
      return p.channel;
    }
    // libca refreshes monitors with a READ_NOTIFY reusing the subscription id.
    return c.subscriptions.get(ioid)?.channel ?? null;
  }

  /** WRITE (no reply): `p1` = SID. */
  write(c: CircuitInfo, frame: CaFrame): ChannelInfo {
    return this.channelBySid(c, frame.parameter1);
  }

  eventAddRequest(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const pl = frame.payload;
    const mask =
      pl.length >= EVENT_ADD_MASK_OFFSET + 2 ? (pl[EVENT_ADD_MASK_OFFSET] << 8) | pl[EVENT_ADD_MASK_OFFSET + 1] : 0;
    const sub: SubscriptionInfo = {
      subscriptionid: frame.parameter2,
      channel,
      mask,
      dataType: frame.dataType,
      dataCount: frame.dataCount,
      request: makeRef(packet, 'EventAddRequest'),
      firstUpdate: null,
      updates: 0,
      cancel: null,
      side,
    };
    c.subscriptions.set(frame.parameter2, sub);
    this.st.statistics.evicted.pending += capMap(c.subscriptions, this.limits.maxPendingPerCircuit);
    return channel;
  }

  /**
   * Whether an ID-1 reply with no payload confirms a cancel: it answers one; or, with no live
   * subscription or with elements but no payload, it confirms a cancel we did not see (p1 = SID). Only
   * a known subscription's count-0 reply is an empty 4.13 update. To be asked before {@link eventAddReply}.
   */
  isCancelConfirmation(c: CircuitInfo, frame: CaFrame): boolean {
    if (frame.payloadSize !== 0) return false;
    const sub = c.subscriptions.get(frame.parameter2);
    return !sub || sub.cancel !== null || frame.dataCount !== 0;
  }

  /** ID 1 from the server: a monitor update, or (no payload) the confirmation of a cancel. */
  eventAddReply(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo, record: CaRecord): ChannelInfo | null {
    const subid = frame.parameter2;
    let sub = c.subscriptions.get(subid);
    if (this.isCancelConfirmation(c, frame)) {
      if (sub?.cancel) record.request = sub.cancel;
      if (sub) c.subscriptions.delete(subid);
      return sub?.channel ?? c.channelsBySid.get(frame.parameter1) ?? null;
    }
    if (!sub) {
      // Capture began after the EVENT_ADD: group the updates by subscription id.
      sub = {
        subscriptionid: subid,
        channel: null,
        mask: 0,
        dataType: frame.dataType,
        dataCount: frame.dataCount,
        request: null,
        firstUpdate: null,
        updates: 0,
        cancel: null,
        side: other(side),
      };
      c.subscriptions.set(subid, sub);
      this.st.statistics.evicted.pending += capMap(c.subscriptions, this.limits.maxPendingPerCircuit);
    }
    sub.updates++;
    if (!sub.firstUpdate) {
      sub.firstUpdate = makeRef(packet, 'EventAddResponse');
      if (sub.request) record.request = sub.request;
    }
    return sub.channel;
  }

  eventCancel(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const sub = c.subscriptions.get(frame.parameter2);
    if (sub) {
      sub.cancel = makeRef(packet, 'EventCancelRequest');
      if (sub.channel === null) sub.channel = channel;
    }
    return channel;
  }

  /** CLEAR_CHANNEL both ways: `p1` = SID, `p2` = CID (which also links the two for mid-circuit captures). */
  clearChannel(c: CircuitInfo, frame: CaFrame, packet: PacketInfo, record: CaRecord): ChannelInfo {
    const sid = frame.parameter1;
    const channel = this.linkCid(c, this.channelBySid(c, sid), frame.parameter2);
    if (record.role === 'request') {
      channel.status = 'clearing';
      c.pendingClears.set(sid, makeRef(packet, 'ClearChannelRequest'));
      this.st.statistics.evicted.pending += capMap(c.pendingClears, this.limits.maxPendingPerCircuit);
    } else {
      record.request = c.pendingClears.get(sid);
      c.pendingClears.delete(sid);
      channel.status = 'cleared';
      channel.endedAt = packet.timestamp;
      this.st.channelEnded(channel);
      this.st.unindexChannel(channel);
    }
    return channel;
  }

  /** ECHO / READ_SYNC: a request waits for the next reply (there is no ID to pair them by). */
  echo(c: CircuitInfo, frame: CaFrame, packet: PacketInfo, record: CaRecord): void {
    if (record.role === 'request') c.pendingEcho = makeRef(packet, requestName(frame.command));
    else if (c.pendingEcho) {
      record.request = c.pendingEcho;
      c.pendingEcho = null;
    }
  }

  /** ERROR (§3.15): `p1` = CID, the payload starts with the failed request's header. */
  errorContext(c: CircuitInfo, frame: CaFrame, record: CaRecord): ChannelInfo | null {
    let channel: ChannelInfo | null =
      frame.parameter1 !== ADDRESS_FROM_SOURCE ? (c.channelsByCid.get(frame.parameter1) ?? null) : null;
    let request: RequestRef | undefined;
    const pl = frame.payload;
    if (pl.length >= HEADER_SIZE) {
      const cmd = (pl[HeaderOffset.COMMAND] << 8) | pl[HeaderOffset.COMMAND + 1];
      const id2 = readU32(pl, HeaderOffset.PARAMETER2);
      const id1 = readU32(pl, HeaderOffset.PARAMETER1);
      if (cmd === Command.READ_NOTIFY || cmd === Command.WRITE_NOTIFY || cmd === Command.READ) {
        const p = c.pendingIo.take(id2);
        if (p) {
          request = p.request;
          channel ??= p.channel;
        }
      } else if (cmd === Command.EVENT_ADD || cmd === Command.EVENT_CANCEL) {
        const s = c.subscriptions.get(id2);
        if (s) {
          request = s.cancel ?? s.request ?? undefined;
          channel ??= s.channel;
          if (cmd === Command.EVENT_ADD) c.subscriptions.delete(id2);
        }
      } else if (cmd === Command.CREATE_CHAN) {
        const p = c.pendingCreates.get(id1);
        if (p) {
          request = p.request;
          c.pendingCreates.delete(id1);
          channel ??= c.channelsByCid.get(id1) ?? null;
        }
      }
      if (!channel && (cmd === Command.WRITE || cmd === Command.READ_NOTIFY || cmd === Command.EVENT_ADD)) {
        channel = c.channelsBySid.get(id1) ?? null;
      }
    }
    record.request = request;
    return channel;
  }

  /** The circuit ended: its channels end with it (cleared unless they failed or were lost) and nothing stays pending. */
  circuitEnded(c: CircuitInfo, now: number): void {
    for (const ch of c.channelsByCid.values()) endChannel(this.st, ch, now);
    for (const ch of c.channelsBySid.values()) endChannel(this.st, ch, now);
    c.pendingIo.clear();
    c.subscriptions.clear();
    c.pendingCreates.clear();
    c.pendingClears.clear();
  }

  private channelByCid(c: CircuitInfo, cid: number): ChannelInfo {
    let ch = c.channelsByCid.get(cid);
    if (!ch) {
      ch = this.st.newChannel(c);
      ch.cid = cid;
      c.channelsByCid.set(cid, ch);
      this.nameFromSearch(c, ch);
    }
    return ch;
  }

  private channelBySid(c: CircuitInfo, sid: number): ChannelInfo {
    let ch = c.channelsBySid.get(sid);
    if (!ch) {
      ch = this.st.newChannel(c);
      ch.sid = sid;
      ch.status = 'connected';
      c.channelsBySid.set(sid, ch);
    }
    return ch;
  }

  /** `ch` (known by CID) has SID `sid`: join it with a channel seen earlier by that SID. */
  private linkSid(c: CircuitInfo, ch: ChannelInfo, sid: number): ChannelInfo {
    const bySid = c.channelsBySid.get(sid);
    if (bySid && bySid !== ch) {
      if (bySid.cid === null) return this.merge(c, ch, bySid);
      // The SID was reused: the old channel is gone.
      this.st.unindexChannel(bySid);
    }
    ch.sid = sid;
    c.channelsBySid.set(sid, ch);
    return ch;
  }

  /** `ch` (known by SID) has CID `cid`. */
  private linkCid(c: CircuitInfo, ch: ChannelInfo, cid: number): ChannelInfo {
    if (ch.cid === cid) return ch;
    const byCid = c.channelsByCid.get(cid);
    if (byCid && byCid !== ch && (byCid.sid === null || byCid.sid === ch.sid)) return this.merge(c, byCid, ch);
    if (ch.cid === null) {
      ch.cid = cid;
      if (!byCid) c.channelsByCid.set(cid, ch);
      this.nameFromSearch(c, ch);
    }
    return ch;
  }

  /** Merges `gone` (seen by SID only) into `keep` (seen by CID) and repoints everything at `keep`. */
  private merge(c: CircuitInfo, keep: ChannelInfo, gone: ChannelInfo): ChannelInfo {
    keep.pv ??= gone.pv;
    keep.sid ??= gone.sid;
    keep.nativeType ??= gone.nativeType;
    keep.nativeCount ??= gone.nativeCount;
    keep.accessRights ??= gone.accessRights;
    keep.enumStrings ??= gone.enumStrings;
    keep.messages += gone.messages;
    if (keep.status === 'unknown') keep.status = gone.status;
    this.st.channels.delete(gone.id);
    if (keep.sid !== null) c.channelsBySid.set(keep.sid, keep);
    for (const p of c.pendingIo.values()) if (p.channel === gone) p.channel = keep;
    for (const s of c.subscriptions.values()) if (s.channel === gone) s.channel = keep;
    this.nameFromSearch(c, keep);
    return keep;
  }

  /** Names a channel known by CID from a search of the same client host answered by this server. */
  private nameFromSearch(c: CircuitInfo, ch: ChannelInfo): void {
    if (ch.pv !== null || ch.cid === null || c.client === null) return;
    const s = this.st.searchesByIpCid.get(searchIpKey(c.client, ch.cid));
    if (s && (c.server === null || s.answeredBy.includes(c.server))) ch.pv = s.pv;
  }
}

function endChannel(st: ConversationState, ch: ChannelInfo, now: number): void {
  if (ch.endedAt === null) {
    ch.endedAt = now;
    st.channelEnded(ch);
  }
  if (ch.status !== 'failed' && ch.status !== 'disconnected') ch.status = 'cleared';
}

/** The name a SEARCH, CREATE_CHAN, CLIENT_NAME or HOST_NAME carries (NUL-terminated, padded). */
export function payloadString(frame: CaFrame): string {
  return readCString(frame.payload, 0, frame.payload.length);
}

export function makeRef(packet: PacketInfo, command: string): RequestRef {
  return { frame: packet.frame, timestamp: packet.timestamp, command };
}

/**
 * {@link makeRef} for read/write-notify requests. A separate allocation site on purpose: these refs live
 * for a round trip, the others (creates, subscriptions) for the whole channel, and V8 decides per site
 * whether to allocate straight in old space; shared, the long-lived ones made every ref an old object.
 */
function makeIoRef(packet: PacketInfo, command: string): RequestRef {
  return { frame: packet.frame, timestamp: packet.timestamp, command };
}

function requestName(cmd: number): string {
  switch (cmd) {
    case Command.READ_NOTIFY:
      return 'ReadNotifyRequest';
    case Command.READ:
      return 'ReadRequest';
    case Command.WRITE_NOTIFY:
      return 'WriteNotifyRequest';
    case Command.ECHO:
      return 'EchoRequest';
    case Command.READ_SYNC:
      return 'ReadSyncRequest';
    default:
      return 'Request';
  }
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
