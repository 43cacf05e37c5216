/**
 * Link-layer decoding: find the network-layer payload of a frame and what protocol it carries.
 * `locateNetwork` is the allocation-free hot path; `linkRecord` builds the public record on demand.
 */
import { hwAddress } from './format.js';
import { LINKTYPE } from './linktypes.js';
import type { LinkRecord } from './types.js';
import { viewOf } from './view.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_QINQ_OLD2 = 0x9200;
/** Values below this in the Ethernet type field are 802.3 lengths, not EtherTypes. */
const ETHERTYPE_MIN = 0x0600;

const ETH_OFF_DST = 0;
const ETH_OFF_SRC = 6;
const ETH_OFF_TYPE = 12;
const ETH_HEADER_LEN = 14;
const MAC_LEN = 6;
const VLAN_TAG_LEN = 4;
const VLAN_ID_MASK = 0x0fff;
/** More tags than this is not a real frame. */
const MAX_VLAN_TAGS = 4;

const SLL_OFF_PKTTYPE = 0;
const SLL_OFF_ADDRLEN = 4;
const SLL_OFF_ADDR = 6;
const SLL_OFF_PROTOCOL = 14;
const SLL_HEADER_LEN = 16;
const SLL2_OFF_PROTOCOL = 0;
const SLL2_OFF_IFINDEX = 4;
const SLL2_OFF_PKTTYPE = 10;
const SLL2_OFF_ADDRLEN = 11;
const SLL2_OFF_ADDR = 12;
const SLL2_HEADER_LEN = 20;
const SLL_MAX_ADDR = 8;

/**
 * The most bytes from a frame's start that {@link linkRecord} reads: the longest link header (Linux SLL2)
 * and its VLAN tags. shark()'s packet thread ships only these to the thread that makes the records.
 */
export const LINK_RECORD_MAX_BYTES = SLL2_HEADER_LEN + MAX_VLAN_TAGS * VLAN_TAG_LEN;

const NULL_HEADER_LEN = 4;
const AF_INET = 2;
/** AF_INET6 differs between BSDs (24, 28, 30) and Linux (10). */
const AF_INET6 = new Set([10, 24, 28, 30]);
/** The largest address family taken as real in a NULL/LOOP header: families are small (AF_MAX < 64). */
const MAX_ADDRESS_FAMILY = 255;

const IP_VERSION_4 = 4;
const IP_VERSION_6 = 6;

/** Result of {@link locateNetwork}: where the network layer starts and what it is. */
export interface NetworkLocation {
  /** Offset of the network-layer header in the frame, or -1 when the frame is too short for its link header. */
  offset: number;
  /** EtherType of the payload (0x0800 IPv4, 0x86dd IPv6, other values: not IP; 0 when unknown). */
  ethertype: number;
}

/**
 * Find the network layer of the frame `data[start, end)`. Returns false for link types the layer does not
 * decode (then `out` is untouched). `out.offset` is absolute (an index into `data`), or -1 when the frame
 * is too short for its link header. Allocation-free; `out` is reused by the caller.
 */
export function locateNetwork(
  linktype: number,
  data: Uint8Array,
  start: number,
  end: number,
  out: NetworkLocation,
): boolean {
  const n = end - start;
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      if (n < ETH_HEADER_LEN) tooShort(out);
      else skipVlanTags(data, start + ETH_HEADER_LEN, end, u16(data, start + ETH_OFF_TYPE), out);
      return true;
    case LINKTYPE.LINUX_SLL:
      if (n < SLL_HEADER_LEN) tooShort(out);
      else skipVlanTags(data, start + SLL_HEADER_LEN, end, u16(data, start + SLL_OFF_PROTOCOL), out);
      return true;
    case LINKTYPE.LINUX_SLL2:
      if (n < SLL2_HEADER_LEN) tooShort(out);
      else skipVlanTags(data, start + SLL2_HEADER_LEN, end, u16(data, start + SLL2_OFF_PROTOCOL), out);
      return true;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      if (n < NULL_HEADER_LEN) tooShort(out);
      else {
        out.offset = start + NULL_HEADER_LEN;
        out.ethertype = familyToEthertype(addressFamily(data, start));
      }
      return true;
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_12:
    case LINKTYPE.RAW_14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      if (n < 1) {
        tooShort(out);
        return true;
      }
      const version = data[start] >> 4;
      out.offset = start;
      out.ethertype = version === IP_VERSION_4 ? ETHERTYPE_IPV4 : version === IP_VERSION_6 ? ETHERTYPE_IPV6 : 0;
      return true;
    }
    default:
      return false;
  }
}

function tooShort(out: NetworkLocation): void {
  out.offset = -1;
  out.ethertype = 0;
}

function u16(data: Uint8Array, at: number): number {
  return (data[at] << 8) | data[at + 1];
}

function u32(data: Uint8Array, at: number): number {
  return ((data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]) >>> 0;
}

/**
 * Step over 802.1Q / 802.1ad tags starting at `off` (the type field before them read as `type`). Linux
 * cooked captures keep a tag when the driver did not strip it, so SLL and SLL2 go through here too.
 */
function skipVlanTags(data: Uint8Array, off: number, end: number, type: number, out: NetworkLocation): void {
  let tags = 0;
  while (isVlanType(type)) {
    if (off + VLAN_TAG_LEN > end || ++tags > MAX_VLAN_TAGS) {
      tooShort(out);
      return;
    }
    type = u16(data, off + 2);
    off += VLAN_TAG_LEN;
  }
  out.offset = off;
  out.ethertype = type < ETHERTYPE_MIN ? 0 : type;
}

function isVlanType(type: number): boolean {
  return (
    type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD || type === ETHERTYPE_QINQ_OLD2
  );
}

/** The 4-byte address family of NULL/LOOP, whichever byte order the capturing host used. */
function addressFamily(data: Uint8Array, at: number): number {
  const be = u32(data, at);
  // Address families are small numbers: a value with high bytes set was written in the other byte order.
  return be > 0xffff ? ((data[at + 3] << 24) | (data[at + 2] << 16) | (data[at + 1] << 8) | data[at]) >>> 0 : be;
}

/**
 * Why a frame that {@link locateNetwork} found to be neither IPv4 nor IPv6 cannot be what a capturing host
 * wrote, or null when it may be real non-IP traffic (ARP on Ethernet, AF_ISO on a BSD loopback, ...),
 * which is counted, not reported. Only link types whose header leaves no room for other traffic are judged:
 * a NULL/LOOP address family is a small positive number in either byte order (BSD's AF_MAX is below 64),
 * and a RAW link carries only IP. Anything else there is damage (a corrupt frame, or a capture whose link
 * type field was damaged) and would otherwise lose its CA messages without a word.
 */
export function implausibleLinkHeader(linktype: number, data: Uint8Array, start: number): string | null {
  switch (linktype) {
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      const af = addressFamily(data, start);
      if (af >= 1 && af <= MAX_ADDRESS_FAMILY) return null;
      const raw = u32(data, start).toString(16).padStart(8, '0');
      return `${linktypeLabel(linktype)} header names address family 0x${raw}, which no host writes`;
    }
    default:
      return isRawLink(linktype) ? `raw IP frame of IP version ${data[start] >> 4}` : null;
  }
}

/** Link types whose frames are a bare IP packet (IPv4 or IPv6). */
export function isRawLink(linktype: number): boolean {
  return (
    linktype === LINKTYPE.RAW ||
    linktype === LINKTYPE.RAW_12 ||
    linktype === LINKTYPE.RAW_14 ||
    linktype === LINKTYPE.IPV4 ||
    linktype === LINKTYPE.IPV6
  );
}

function linktypeLabel(linktype: number): string {
  return linktype === LINKTYPE.LOOP ? 'LOOP' : 'NULL';
}

function familyToEthertype(af: number): number {
  if (af === AF_INET) return ETHERTYPE_IPV4;
  if (AF_INET6.has(af)) return ETHERTYPE_IPV6;
  return 0;
}

/**
 * Build the public link record of the frame `data[start, end)` (by default the whole of `data`; the
 * frame must have passed {@link locateNetwork}). `ethertype` is what locateNetwork found, when the caller
 * has it, so the headers are not walked twice.
 */
export function linkRecord(
  linktype: number,
  data: Uint8Array,
  start = 0,
  end = data.length,
  ethertype?: number,
): LinkRecord {
  if (ethertype === undefined) {
    const loc: NetworkLocation = { offset: -1, ethertype: 0 };
    locateNetwork(linktype, data, start, end, loc);
    ethertype = loc.ethertype;
  }
  const n = end - start;
  switch (linktype) {
    case LINKTYPE.ETHERNET: {
      if (n < ETH_HEADER_LEN) return { type: 'ethernet', linktype, ethertype };
      if (!isVlanType(u16(data, start + ETH_OFF_TYPE))) return untaggedEthernet(data, start, ethertype);
      // One literal with the addresses: added one by one they moved the record through two more shapes.
      const rec: LinkRecord = {
        type: 'ethernet',
        linktype,
        ethertype,
        dst: hwAddress(data, start + ETH_OFF_DST, MAC_LEN),
        src: hwAddress(data, start + ETH_OFF_SRC, MAC_LEN),
      };
      addVlans(rec, data, start + ETH_HEADER_LEN, end, u16(data, start + ETH_OFF_TYPE));
      return rec;
    }
    case LINKTYPE.LINUX_SLL: {
      const rec: LinkRecord = { type: 'sll', linktype, ethertype };
      if (n >= SLL_HEADER_LEN) {
        rec.packetType = u16(data, start + SLL_OFF_PKTTYPE);
        const alen = Math.min(u16(data, start + SLL_OFF_ADDRLEN), SLL_MAX_ADDR);
        if (alen > 0) rec.src = hwAddress(data, start + SLL_OFF_ADDR, alen);
        addVlans(rec, data, start + SLL_HEADER_LEN, end, u16(data, start + SLL_OFF_PROTOCOL));
      }
      return rec;
    }
    case LINKTYPE.LINUX_SLL2: {
      const rec: LinkRecord = { type: 'sll2', linktype, ethertype };
      if (n >= SLL2_HEADER_LEN) {
        const at = start + SLL2_OFF_IFINDEX;
        rec.ifindex = ((u16(data, at) << 16) | u16(data, at + 2)) >>> 0;
        rec.packetType = data[start + SLL2_OFF_PKTTYPE];
        const alen = Math.min(data[start + SLL2_OFF_ADDRLEN], SLL_MAX_ADDR);
        if (alen > 0) rec.src = hwAddress(data, start + SLL2_OFF_ADDR, alen);
        addVlans(rec, data, start + SLL2_HEADER_LEN, end, u16(data, start + SLL2_OFF_PROTOCOL));
      }
      return rec;
    }
    case LINKTYPE.NULL:
      return { type: 'null', linktype, ethertype };
    case LINKTYPE.LOOP:
      return { type: 'loop', linktype, ethertype };
    default:
      return { type: 'raw', linktype, ethertype };
  }
}

/**
 * The records of the last two untagged Ethernet headers made, by their addresses (first 4 and last 2
 * bytes of destination and source) and EtherType. A capture's packets mostly pass between the same two
 * hosts, so a packet's header is that of the last packet or the one before (the other direction): those
 * packets share one record instead of an object and two address lookups each (one record per packet was
 * a tenth of the bytes the decoder allocated per packet). Records are shared anyway by the messages of a
 * packet; nothing changes them.
 */
let ethA: LinkRecord | null = null;
let ethADst = -1;
let ethADstLo = -1;
let ethASrc = -1;
let ethASrcLo = -1;
let ethB: LinkRecord | null = null;
let ethBDst = -1;
let ethBDstLo = -1;
let ethBSrc = -1;
let ethBSrcLo = -1;

/** The link record of an untagged Ethernet header at `start` (see {@link ethA}). */
function untaggedEthernet(data: Uint8Array, start: number, ethertype: number): LinkRecord {
  const d = start + ETH_OFF_DST;
  const s = start + ETH_OFF_SRC;
  // Each address as its first 4 bytes and its last 2 (see viewOf; linkRecord checked the 14 bytes are there).
  const v = viewOf(data);
  const dst = v.getUint32(d);
  const dstLo = v.getUint16(d + 4);
  const src = v.getUint32(s);
  const srcLo = v.getUint16(s + 4);
  const a = ethA;
  if (
    a !== null &&
    a.ethertype === ethertype &&
    dst === ethADst &&
    dstLo === ethADstLo &&
    src === ethASrc &&
    srcLo === ethASrcLo
  )
    return a;
  const b = ethB;
  if (
    b !== null &&
    b.ethertype === ethertype &&
    dst === ethBDst &&
    dstLo === ethBDstLo &&
    src === ethBSrc &&
    srcLo === ethBSrcLo
  )
    return b;
  const rec: LinkRecord = {
    type: 'ethernet',
    linktype: LINKTYPE.ETHERNET,
    ethertype,
    dst: hwAddress(data, d, MAC_LEN),
    src: hwAddress(data, s, MAC_LEN),
  };
  ethB = a;
  ethBDst = ethADst;
  ethBDstLo = ethADstLo;
  ethBSrc = ethASrc;
  ethBSrcLo = ethASrcLo;
  ethA = rec;
  ethADst = dst;
  ethADstLo = dstLo;
  ethASrc = src;
  ethASrcLo = srcLo;
  return rec;
}

/** Record the VLAN ids of the tags at `off` (outermost first); no `vlan` field when untagged. */
function addVlans(rec: LinkRecord, data: Uint8Array, off: number, end: number, type: number): void {
  let vlan: number[] | undefined;
  while (isVlanType(type) && off + VLAN_TAG_LEN <= end && (vlan === undefined || vlan.length < MAX_VLAN_TAGS)) {
    (vlan ??= []).push(((data[off] << 8) | data[off + 1]) & VLAN_ID_MASK);
    type = (data[off + 2] << 8) | data[off + 3];
    off += VLAN_TAG_LEN;
  }
  if (vlan !== undefined) rec.vlan = vlan;
}
