import { type Bounded, BoundedMap, compareText, firstRows } from './bounded.js';
import { type AnalysisRecord, numberField, respondingServer, stringField } from './record.js';

/** ECA_NORMAL: the one status that is not an error. */
const ECA_NORMAL = 1;
/** Odd ECA codes have the success bit set (§6); only unsuccessful codes count as errors. */
const ECA_SUCCESS_BIT = 1;

export type ErrorKind = 'eca' | 'create-ch-fail' | 'not-found' | 'error' | 'malformed';

export interface ErrorEntry {
  kind: ErrorKind;
  pv: string | null;
  server: string | null;
  /** The response command that carried it. */
  command: string;
  status: number | null;
  status_name: string | null;
  count: number;
  first_seen: number;
  last_seen: number;
  /** ERROR text, or the malformed-record reason. */
  message: string | null;
  /** The request the error answers, when the decoder matched one. */
  request: string | null;
}

/** Failed operations by PV and server: ECA statuses, CREATE_CH_FAIL, NOT_FOUND, ERROR, malformed data. */
export class ErrorAnalysis {
  private readonly rows = new BoundedMap<string, ErrorEntry>(50_000);

  /** A record whose command is `name`. */
  add(record: AnalysisRecord, name: string): void {
    let kind: ErrorKind | undefined;
    let status: number | null = null;
    let message: string | null = null;
    if (name === 'CreateChFailResponse') kind = 'create-ch-fail';
    else if (name === 'NotFoundResponse') kind = 'not-found';
    else if (name === 'ErrorResponse') {
      kind = 'error';
      status = numberField(record, 'status_code') ?? numberField(record, 'status') ?? null;
      message = stringField(record, 'error_message') ?? null;
    } else if (name === 'Malformed') {
      kind = 'malformed';
      message = stringField(record, 'reason') ?? stringField(record, 'code') ?? null;
    } else if (record.role === 'response') {
      // A named load: numberField's keyed one (`command[field]`) costs more, and both see every reply's shape.
      const s = record.command.status;
      if (typeof s === 'number' && s !== ECA_NORMAL && (s & ECA_SUCCESS_BIT) === 0 && name !== 'EventCancelResponse') {
        kind = 'eca';
        status = s;
      }
    }
    if (!kind) return;
    const server = kind === 'malformed' ? null : respondingServer(record, name);
    const statusName = stringField(record, 'status_name') ?? null;
    const key = `${kind}|${record.pv}|${server}|${status}|${kind === 'error' || kind === 'malformed' ? message : ''}`;
    const entry = this.rows.upsert(key, () => ({
      kind,
      pv: record.pv,
      server,
      command: name,
      status,
      status_name: statusName,
      count: 0,
      first_seen: record.timestamp,
      last_seen: record.timestamp,
      message,
      request: record.request?.command ?? null,
    }));
    entry.count++;
    entry.last_seen = record.timestamp;
  }

  report(limit = 1000): Bounded<ErrorEntry> {
    return firstRows(
      [...this.rows.values()],
      limit,
      (a, b) => b.count - a.count || compareText(a.kind, b.kind),
      this.rows.evicted,
    );
  }
}
