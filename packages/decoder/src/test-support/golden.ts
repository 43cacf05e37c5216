/** The golden-file line of a record: time, endpoints, command with its key fields, PV, role, request. */
import type { CommandFields } from '@ca-shark/protocol';
import type { CaRecord } from '../record.js';

const SKIP = new Set(['name', 'id', 'data', 'metadata', 'original_request']);

function value(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return Math.abs(v) >= 1e5 ? v.toFixed(6) : String(Number(v.toPrecision(9)));
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) {
    const head = v.slice(0, 4).map(value).join(',');
    return `[${head}${v.length > 4 ? `,…(${v.length})` : ''}]`;
  }
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => typeof x !== 'object' || x === null)
      .map(([k, x]) => `${k}=${value(x)}`)
      .join(' ')}}`;
  }
  return String(v);
}

/** One line per record; DBR values are shown as `data=[...]`, metadata by its alarm and time fields. */
export function goldenLine(r: CaRecord): string {
  const t = r.transport;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(r.command)) {
    if (SKIP.has(k) || v === undefined) continue;
    fields.push(`${k}=${value(v)}`);
  }
  // Waveforms decode to typed arrays (CHAR ones to a Uint8Array): values, shown like a plain array.
  const command: CommandFields = r.command;
  const data = command.data;
  if ('data' in command)
    fields.push(`data=${value(ArrayBuffer.isView(data) ? Array.from(data as unknown as ArrayLike<number>) : data)}`);
  const meta = command.metadata as Record<string, unknown> | undefined;
  if (meta) {
    const keep = ['statusName', 'severityName', 'timestamp', 'units', 'precision', 'enumStrings'];
    const m = keep.filter((k) => meta[k] !== undefined).map((k) => `${k}=${value(meta[k])}`);
    if (m.length) fields.push(`meta{${m.join(' ')}}`);
  }
  const req = r.request ? ` <-#${r.request.frame} ${(r.latency ?? 0).toFixed(6)}s` : '';
  const trunc = r.truncated ? ' TRUNCATED' : '';
  return (
    `${r.frame} ${r.timestamp.toFixed(6)} ${r.src}:${t.sport} > ${r.dst}:${t.dport} ` +
    `${r.command.name} ${fields.join(' ')} | pv=${r.pv ?? '-'} ${r.role}/${r.role_certainty}${req}${trunc}`
  );
}
