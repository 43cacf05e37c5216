/**
 * The compact Live-table row ({@link LiveRecord}) of a full record. The daemon makes these itself; the page
 * needs it for daemons from before the compact stream (they send full records), and the fake daemon of the
 * tests uses it to speak the compact form.
 */
import { failureStatus, summarizeFields } from '@ca-shark/analysis/summary';
import type { LiveRecord, RecordJSON } from './contract.js';
import { isFailure } from './filter.js';
import { endpoint } from './records.js';

/** The Live row of `r`, numbered `id`. */
export function liveRecordOf(r: RecordJSON, id: number): LiveRecord {
  return {
    id,
    frame: r.frame ?? 0,
    t: r.timestamp,
    src: endpoint(r.src, r.transport?.sport),
    dst: endpoint(r.dst, r.transport?.dport),
    proto: r.transport?.protocol === 'udp' ? 'udp' : 'tcp',
    cmd: r.command?.name ?? 'Malformed',
    pv: typeof r.pv === 'string' ? r.pv : null,
    summary: r.command ? summarizeFields(r.command) : '',
    latency: typeof r.latency === 'number' ? r.latency : null,
    status: r.command ? failureStatus(r.command) : null,
    error: isFailure(r),
    size: r.size ?? 0,
  };
}

/** True for an item of a `records` frame in the full (pre-compact) form. */
export function isFullRecord(x: LiveRecord | RecordJSON): x is RecordJSON {
  return typeof (x as RecordJSON).command === 'object' && (x as RecordJSON).command !== null;
}
