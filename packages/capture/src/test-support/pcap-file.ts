/**
 * Just enough of a classic pcap reader to check tcpdump's output in tests: global header, then records.
 * (The packet package owns the real reader; this one exists so the capture tests do not depend on it.)
 */

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const GLOBAL_HEADER_LEN = 24;
const GLOBAL_LINKTYPE_OFFSET = 20;
const RECORD_HEADER_LEN = 16;
const RECORD_TS_SEC_OFFSET = 0;
const RECORD_TS_FRAC_OFFSET = 4;
const RECORD_INCL_LEN_OFFSET = 8;
const RECORD_ORIG_LEN_OFFSET = 12;

export interface PcapRecord {
  tsSec: number;
  /** Fraction of the second in nanoseconds, whatever the file's resolution. */
  tsNsec: number;
  caplen: number;
  origlen: number;
  data: Uint8Array;
}

export interface PcapFile {
  linktype: number;
  nano: boolean;
  records: PcapRecord[];
}

export function readPcapFile(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER_LEN) throw new Error(`pcap file too short: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  let nano: boolean;
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  if (magicLE === MAGIC_MICRO || magicLE === MAGIC_NANO) {
    little = true;
    nano = magicLE === MAGIC_NANO;
  } else if (magicBE === MAGIC_MICRO || magicBE === MAGIC_NANO) {
    little = false;
    nano = magicBE === MAGIC_NANO;
  } else {
    throw new Error(`not a classic pcap file (magic ${magicBE.toString(16)})`);
  }
  const linktype = view.getUint32(GLOBAL_LINKTYPE_OFFSET, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = GLOBAL_HEADER_LEN;
  // A trailing partial record (tcpdump killed mid-write) is ignored.
  while (off + RECORD_HEADER_LEN <= bytes.length) {
    const caplen = view.getUint32(off + RECORD_INCL_LEN_OFFSET, little);
    if (off + RECORD_HEADER_LEN + caplen > bytes.length) break;
    const frac = view.getUint32(off + RECORD_TS_FRAC_OFFSET, little);
    records.push({
      tsSec: view.getUint32(off + RECORD_TS_SEC_OFFSET, little),
      tsNsec: nano ? frac : frac * 1000,
      caplen,
      origlen: view.getUint32(off + RECORD_ORIG_LEN_OFFSET, little),
      data: bytes.subarray(off + RECORD_HEADER_LEN, off + RECORD_HEADER_LEN + caplen),
    });
    off += RECORD_HEADER_LEN + caplen;
  }
  return { linktype, nano, records };
}
