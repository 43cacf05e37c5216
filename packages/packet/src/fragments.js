/**
 * IPv4 fragment reassembly, bounded in datagrams, bytes and (capture) time. Overlapping fragments keep the
 * bytes that arrived first.
 */
import { dottedQuad } from './format.js';
const IP_OFF_TOTAL_LEN = 2;
const IP_OFF_FRAG = 6;
const IP_MAX_LEN = 65535;
export class FragmentReassembler {
    onProblem;
    maxDatagrams;
    maxBytes;
    timeout;
    /** Insertion order = age order, which eviction and expiry rely on. */
    pending = new Map();
    bytes = 0;
    constructor(options, onProblem) {
        this.onProblem = onProblem;
        this.maxDatagrams = options.maxDatagrams ?? 256;
        this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
        this.timeout = options.timeout ?? 30;
    }
    /** Datagrams currently incomplete. */
    get inFlight() {
        return this.pending.size;
    }
    /** Fragment bytes currently held. */
    get heldBytes() {
        return this.bytes;
    }
    /**
     * Add one fragment: `buf[ip, ip+hl)` is its header, `buf[ip+hl, end)` its payload, `offset` the fragment
     * offset in bytes. Returns the whole datagram (header + payload, total length and fragment fields fixed)
     * when this fragment completed it, else undefined.
     */
    add(buf, ip, hl, end, src, dst, id, proto, offset, more, now) {
        this.expire(now);
        const len = end - ip - hl;
        if (offset + len > IP_MAX_LEN - hl || (more && len % 8 !== 0) || (more && len === 0)) {
            this.onProblem('bad-fragment', `IPv4 fragment id ${id} from ${dottedQuad(src)} to ${dottedQuad(dst)} at offset ${offset} with ${len} bytes is malformed; dropped`);
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
                this.onProblem('bad-fragment', `IPv4 datagram id ${id} from ${dottedQuad(src)}: last fragments disagree on its length (${d.total} vs ${total})`);
            }
            if (d.total < 0)
                d.total = total;
        }
        if (offset === 0 && d.header === undefined)
            d.header = buf.slice(ip, ip + hl);
        this.insert(d, offset, offset + len, buf.subarray(ip + hl, end));
        this.bound(d);
        if (!this.pending.has(key))
            return undefined;
        return this.complete(d);
    }
    /** Drop datagrams older than the timeout (capture time `now`), reporting each. */
    expire(now) {
        for (const d of this.pending.values()) {
            if (now - d.started <= this.timeout)
                break;
            this.drop(d, 'fragment-timeout', `incomplete after ${this.timeout} s`);
        }
    }
    /** End of input: report and drop every incomplete datagram. */
    flush() {
        for (const d of this.pending.values())
            this.drop(d, 'fragment-incomplete', 'capture ended before all fragments arrived');
    }
    insert(d, start, end, data) {
        // Keep earlier bytes: only the parts of [start, end) not yet covered are added.
        const pieces = d.pieces;
        let s = start;
        let i = 0;
        while (s < end) {
            while (i < pieces.length && pieces[i].end <= s)
                i++;
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
    bound(current) {
        while (this.pending.size > this.maxDatagrams || this.bytes > this.maxBytes) {
            const oldest = this.pending.values().next().value;
            this.drop(oldest, 'fragment-overflow', `reassembly limits reached (${this.maxDatagrams} datagrams, ${this.maxBytes} bytes)`);
            if (oldest === current)
                break;
        }
    }
    drop(d, code, why) {
        this.pending.delete(d.key);
        this.bytes -= d.bytes;
        const total = d.total >= 0 ? `${d.total}` : 'unknown';
        this.onProblem(code, `IPv4 datagram id ${d.id} from ${dottedQuad(d.src)} to ${dottedQuad(d.dst)} dropped: ${why}; had ${d.bytes} of ${total} bytes`);
    }
    complete(d) {
        if (d.total < 0 || d.header === undefined)
            return undefined;
        let at = 0;
        for (const p of d.pieces) {
            if (p.start !== at)
                return undefined;
            at = p.end;
        }
        if (at < d.total)
            return undefined;
        this.pending.delete(d.key);
        this.bytes -= d.bytes;
        const hl = d.header.length;
        const out = new Uint8Array(hl + d.total);
        out.set(d.header, 0);
        for (const p of d.pieces) {
            // Bytes beyond the length the last fragment announced are dropped.
            const n = Math.min(p.end, d.total) - p.start;
            if (n > 0)
                out.set(n === p.data.length ? p.data : p.data.subarray(0, n), hl + p.start);
        }
        const total = hl + d.total;
        out[IP_OFF_TOTAL_LEN] = total >> 8;
        out[IP_OFF_TOTAL_LEN + 1] = total & 0xff;
        out[IP_OFF_FRAG] = 0;
        out[IP_OFF_FRAG + 1] = 0;
        return out;
    }
}
//# sourceMappingURL=fragments.js.map