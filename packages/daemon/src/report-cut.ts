/**
 * `/api/report` cut to a size a browser or a script can take: the analyses keep up to 1,000 rows per table,
 * and after a few minutes of busy traffic the whole report is megabytes (7.6-20 MB were measured). By default
 * the daemon serves the first rows of each table (the latest, for logs) and says how many it left out.
 */
import type { Report } from '@ca-shark/analysis';

/** Rows per report table served by default (`?full=1` serves every row the analyses keep). */
export const DEFAULT_REPORT_LIMIT = 100;

/** Report tables that are logs (oldest first): their latest rows are the ones kept. */
const LOG_TABLES: ReadonlySet<string> = new Set(['circuits', 'channels', 'writes', 'flow_control']);

/** The report as `/api/report` serves it. */
export type ServedReport = Partial<Report> & {
  /** Rows per table in this answer (null: every row the analyses keep). */
  limit: number | null;
  /** Rows each table has in all: those served plus those in `omitted`. */
  totals: Record<string, number>;
  /** When it was computed (Unix seconds). */
  asOf: number;
};

/**
 * Keeps at most `limit` rows of each table of `report` (the first ones, or the latest of a log), adds the
 * rows left out to `omitted` and every table's row count to `totals`. The report's arrays are not modified.
 */
export function cutReport(report: Partial<Report>, limit: number | null, asOf: number): ServedReport {
  const omitted: Record<string, number> = { ...report.omitted };
  const totals: Record<string, number> = {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(report)) {
    if (key === 'omitted') continue;
    if (!Array.isArray(value)) {
      out[key] = value;
      continue;
    }
    const rows = value as unknown[];
    totals[key] = rows.length + (omitted[key] ?? 0);
    if (limit === null || rows.length <= limit) {
      out[key] = rows;
      continue;
    }
    out[key] = LOG_TABLES.has(key) ? rows.slice(rows.length - limit) : rows.slice(0, limit);
    omitted[key] = (omitted[key] ?? 0) + rows.length - limit;
  }
  if (Object.keys(omitted).length > 0) out.omitted = omitted;
  return { ...(out as Partial<Report>), limit, totals, asOf };
}
