/**
 * IPv4 fragment reassembly, bounded in datagrams, bytes and (capture) time. Overlapping fragments keep the
 * bytes that arrived first.
 */
import { dottedQuad } from './format.js';

/** Limits of the fragment reassembler. */
export interface FragmentOptions {
  /** Datagrams being reassembled at once (default 256); beyond it the oldest is dropped. */
  maxDatagrams?: number;
  /** Fragment bytes held in total (default 4 MiB); beyond it the oldest datagrams are dropped. */
  maxBytes?: number;
  /** Seconds of capture time a datagram may stay incomplete (default 30, as Linux's ipfrag_time). */
  timeout?: number;
}

const IP_OFF_TOTAL_LEN = 2;
const IP_OFF_FRAG = 6;
const IP_MAX_LEN = 65535;

interface Piece {
  start: number;
  end: number;
  data: Uint8Array;
}

interface Datagram {
  key: string;
  src: number;
  dst: number;
  id: number;
  started: number;
  /** Header of the offset-0 fragment (copied), once seen. */
  header: Uint8Array | undefined;
  /** Payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number;
  pieces: Piece[];
  bytes: number;
}

/** Receives problems found while reassembling. */
export type FragmentProblemSink = (code: string, message: string) => void;

export class FragmentReassembler {
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  private readonly timeout: number;
  /** Insertion order = age order, which eviction and expiry rely on. */
  private readonly pending = new Map<string, Datagram>();
  private bytes = 0;

  constructor(
    options: FragmentOptions,
    private readonly onProblem: FragmentProblemSink,
  ) {
    this.maxDatagrams = options.maxDatagrams ?? 256;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.timeout = options.timeout ?? 30;
  }

  /** Datagrams currently incomplete. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Fragment bytes currently held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Add one fragment: `buf[ip, ip+hl)` is its header, `buf[ip+hl, end)` its payload, `offset` the fragment
   * offset in bytes. Returns the whole datagram (header + payload, total length and fragment fields fixed)
   * when this fragment completed it, else undefined.
   */
  add(
    buf: Uint8Array,
    ip: number,
    hl: number,
    end: number,
    src: number,
    dst: number,
    id: number,
    proto: number,
    offset: number,
    more: boolean,
    now: number,
  ): Uint8Array | undefined {
    this.expire(now);
    const len = end - ip - hl;
    if (offset + len > IP_MAX_LEN - hl || (more && len % 8 !== 0) || (more && len === 0)) {
      this.onProblem(
        'bad-fragment',
        `IPv4 fragment id ${id} from ${dottedQuad(src)} to ${dottedQuad(dst)} at offset ${offset} with ${len} bytes is malformed; dropped`,
      );
      return undefined;
    }
    const key = `${src}/${dst}/${id}/${proto}`;
    let d = this.pending.get(key);
    if (d === undefined) {
      d = { key, src, dst, id, started: now, header: undefined, total: -1, pieces: [], bytes: 0 };
      this.pending.set(key, d);
    }
    if (!more) {
      const total = offset + len;
      if (d.total >= 0 && d.total !== total) {
        this.onProblem(
          'bad-fragment',
          `IPv4 datagram id ${id} from ${dottedQuad(src)}: last fragments disagree on its length (${d.total} vs ${total})`,
        );
      }
      if (d.total < 0) d.total = total;
    }
    if (offset === 0 && d.header === undefined) d.header = buf.slice(ip, ip + hl);
    this.insert(d, offset, offset + len, buf.subarray(ip + hl, end));
    this.bound(d);
    if (!this.pending.has(key)) return undefined;
    return this.complete(d);
  }

  /** Drop datagrams older than the timeout (capture time `now`), reporting each. */
  expire(now: number): void {
    for (const d of this.pending.values()) {
      if (now - d.started <= this.timeout) break;
      this.drop(d, 'fragment-timeout', `incomplete after ${this.timeout} s`);
    }
  }

  /** End of input: report and drop every incomplete datagram. */
  flush(): void {
    for (const d of this.pending.values())
      this.drop(d, 'fragment-incomplete', 'capture ended before all fragments arrived');
  }

  private insert(d: Datagram, start: number, end: number, data: Uint8Array): void {
    // Keep earlier bytes: only the parts of [start, end) not yet covered are added.
    const pieces = d.pieces;
    let s = start;
    let i = 0;
    while (s < end) {
      while (i < pieces.length && pieces[i].end <= s) i++;
      const next = i < pieces.length ? pieces[i] : undefined;
      if (next !== undefined && next.start <= s) {
        s = next.end;
        continue;
      }
      const e = next === undefined ? end : Math.min(end, next.start);
      pieces.splice(i, 0, { start: s, end: e, data: data.slice(s - start, e - start) });
      d.bytes += e - s;
      this.bytes += e - s;
      i++;
      s = e;
    }
  }

  private bound(current: Datagram): void {
    while (this.pending.size > this.maxDatagrams || this.bytes > this.maxBytes) {
      const oldest = this.pending.values().next().value as Datagram;
      this.drop(
        oldest,
        'fragment-overflow',
        `reassembly limits reached (${this.maxDatagrams} datagrams, ${this.maxBytes} bytes)`,
      );
      if (oldest === current) break;
    }
  }

  private drop(d: Datagram, code: string, why: string): void {
    this.pending.delete(d.key);
    this.bytes -= d.bytes;
    const total = d.total >= 0 ? `${d.total}` : 'unknown';
    this.onProblem(
      code,
      `IPv4 datagram id ${d.id} from ${dottedQuad(d.src)} to ${dottedQuad(d.dst)} dropped: ${why}; had ${d.bytes} of ${total} bytes`,
    );
  }

  private complete(d: Datagram): Uint8Array | undefined {
    if (d.total < 0 || d.header === undefined) return undefined;
    let at = 0;
    for (const p of d.pieces) {
      if (p.start !== at) return undefined;
      at = p.end;
    }
    if (at < d.total) return undefined;
    this.pending.delete(d.key);
    this.bytes -= d.bytes;
    const hl = d.header.length;
    const out = new Uint8Array(hl + d.total);
    out.set(d.header, 0);
    for (const p of d.pieces) {
      // Bytes beyond the length the last fragment announced are dropped.
      const n = Math.min(p.end, d.total) - p.start;
      if (n > 0) out.set(n === p.data.length ? p.data : p.data.subarray(0, n), hl + p.start);
    }
    const total = hl + d.total;
    out[IP_OFF_TOTAL_LEN] = total >> 8;
    out[IP_OFF_TOTAL_LEN + 1] = total & 0xff;
    out[IP_OFF_FRAG] = 0;
    out[IP_OFF_FRAG + 1] = 0;
    return out;
  }
}
