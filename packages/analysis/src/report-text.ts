import type { Report, ReportTable } from './report.js';

/** Formats seconds for people: µs, ms or s with three significant digits. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '-';
  const abs = Math.abs(seconds);
  if (abs < 1e-3) return `${(seconds * 1e6).toPrecision(3)} µs`;
  if (abs < 1) return `${(seconds * 1e3).toPrecision(3)} ms`;
  return `${seconds.toPrecision(3)} s`;
}

/** ISO time with milliseconds for Unix seconds, or '-'. */
export function formatTime(unix: number | null | undefined): string {
  if (unix === null || unix === undefined || !Number.isFinite(unix)) return '-';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace('Z', '');
}

/** Left-aligned columns with two spaces between them. */
function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => {
    let width = 0;
    for (const r of cells) width = Math.max(width, (r[i] ?? '').length);
    return width;
  });
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

function section(title: string, body: string[], empty: string): string[] {
  return [`== ${title}`, ...(body.length ? body : [`   ${empty}`]), ''];
}

/** The readable text form of a report (`ca-shark report` without `--json`). */
export function formatReport(report: Partial<Report> & Pick<Report, 'summary'>, rowLimit = 20): string {
  const out: string[] = [];
  const s = report.summary;
  out.push(
    `ca-shark report: ${s.records} CA messages from ${formatTime(s.first_seen)} to ${formatTime(s.last_seen)}`,
    '',
  );
  const limit = <T>(rows: T[]) => rows.slice(0, rowLimit);
  // Lines are appended one by one: spreading a section into push() would overflow the stack on a huge one.
  const emit = (lines: string[]): void => {
    for (const line of lines) out.push(line);
  };
  /** Says how many rows of a table are not shown (cut here, or left out of the report itself). */
  const more = (key: ReportTable, shown: number, rows: number): void => {
    const hidden = Math.max(0, rows - shown) + (report.omitted?.[key] ?? 0);
    if (hidden > 0) out.splice(out.length - 1, 0, `   ... and ${hidden} more`);
  };

  if (report.never_found) {
    emit(
      section(
        'PVs never found',
        table(
          ['pv', 'searches', 'first seen', 'asked by'],
          limit(report.never_found).map((r) => [
            r.pv,
            r.count,
            formatTime(r.first_seen),
            r.clients.slice(0, 3).join(' '),
          ]),
        ),
        'every searched PV was answered',
      ),
    );
    more('never_found', rowLimit, report.never_found.length);
  }
  if (report.search_storms) {
    emit(
      section(
        'Search storms',
        table(
          ['pv', 'searches', 'rate/s', 'unanswered', 'retries', 'flag'],
          limit(report.search_storms).map((r) => [
            r.pv,
            r.count,
            r.rate.toFixed(2),
            `${Math.round(r.unanswered_ratio * 100)}%`,
            r.retries,
            r.flagged ? r.reasons.join('; ') : '',
          ]),
        ),
        'no searches',
      ),
    );
    more('search_storms', rowLimit, report.search_storms.length);
  }
  if (report.search_clients) {
    const flagged = report.search_clients.filter((c) => c.flagged);
    emit(
      section(
        'Clients searching far more than others',
        table(
          ['client', 'kind', 'searches', 'rate/s', 'pvs', 'why'],
          limit(flagged).map((c) => [c.client, c.kind, c.count, c.rate.toFixed(2), c.pvs, c.reasons.join('; ')]),
        ),
        'none flagged',
      ),
    );
  }
  if (report.duplicates) {
    emit(
      section(
        'PVs answered by several servers',
        table(
          ['pv', 'verdict', 'servers'],
          limit(report.duplicates).map((d) => [d.pv, d.verdict, d.servers.join(' ')]),
        ),
        'none',
      ),
    );
    more('duplicates', rowLimit, report.duplicates.length);
  }
  if (report.beacons) {
    emit(
      section(
        'Beacons',
        table(
          ['server', 'beacons', 'avg period', 'last id', 'anomalies'],
          limit(report.beacons).map((b) => [
            b.server,
            b.count,
            formatSeconds(b.average_period),
            b.last_beacon_id ?? '-',
            b.anomalies
              .map((a) => `${a.cause}@${formatTime(a.time)}`)
              .slice(0, 4)
              .join(' ') || 'none',
          ]),
        ),
        'no beacons',
      ),
    );
    more('beacons', rowLimit, report.beacons.length);
    const anomalies = report.beacons.flatMap((b) => b.anomalies);
    if (anomalies.length) {
      emit(
        section(
          'Beacon anomalies',
          limit(anomalies).map((a) => `   ${formatTime(a.time)}  ${a.server}  ${a.cause}: ${a.detail}`),
          '',
        ),
      );
    }
  }
  if (report.latency) {
    emit(
      section(
        'Latency per server',
        table(
          ['server', 'kind', 'count', 'median', 'p90', 'p99', 'max'],
          limit(report.latency).map((l) => [
            l.server,
            l.kind,
            l.count,
            formatSeconds(l.p50),
            formatSeconds(l.p90),
            formatSeconds(l.p99),
            formatSeconds(l.max),
          ]),
        ),
        'no request/response pairs',
      ),
    );
    more('latency', rowLimit, report.latency.length);
  }
  if (report.slowest_pvs) {
    emit(
      section(
        'Slowest PVs',
        table(
          ['pv', 'server', 'kind', 'count', 'p90'],
          limit(report.slowest_pvs).map((l) => [l.pv, l.server, l.kind, l.count, formatSeconds(l.p90)]),
        ),
        'none',
      ),
    );
    more('slowest_pvs', rowLimit, report.slowest_pvs.length);
  }
  if (report.monitor_load) {
    emit(
      section(
        'Monitor load',
        table(
          ['scope', 'pv / circuit', 'updates', 'updates/s', 'bytes/s'],
          limit(report.monitor_load).map((m) => [
            m.scope,
            m.pv ?? `circuit ${m.circuit}`,
            m.updates,
            m.rate.toFixed(2),
            m.byte_rate.toFixed(0),
          ]),
        ),
        'no monitor updates',
      ),
    );
    more('monitor_load', rowLimit, report.monitor_load.length);
  }
  if (report.redundant_subscriptions) {
    emit(
      section(
        'Redundant subscriptions',
        table(
          ['pv', 'circuit', 'client', 'subscriptions'],
          limit(report.redundant_subscriptions).map((r) => [r.pv, r.circuit, r.client ?? '-', r.count]),
        ),
        'none',
      ),
    );
    more('redundant_subscriptions', rowLimit, report.redundant_subscriptions.length);
  }
  if (report.flow_control?.length) {
    emit(
      section(
        'Flow control (EVENTS_OFF)',
        table(
          ['circuit', 'client', 'from', 'duration'],
          limit(report.flow_control).map((f) => [
            f.circuit,
            f.client ?? '-',
            formatTime(f.start),
            f.duration === null ? 'still off' : formatSeconds(f.duration),
          ]),
        ),
        '',
      ),
    );
    more('flow_control', rowLimit, report.flow_control.length);
  }
  if (report.writes) {
    emit(
      section(
        'Writes',
        table(
          ['time', 'client', 'host', 'user', 'pv', 'value', 'status'],
          limit(report.writes).map((w) => [
            formatTime(w.time),
            w.client,
            w.host ?? '-',
            w.user ?? '-',
            w.pv ?? '-',
            JSON.stringify(w.value),
            w.status_name ?? (w.command === 'WriteRequest' ? 'no reply (WRITE)' : '-'),
          ]),
        ),
        'no writes',
      ),
    );
    more('writes', rowLimit, report.writes.length);
  }
  if (report.errors) {
    emit(
      section(
        'Errors',
        table(
          ['kind', 'pv', 'server', 'status', 'count', 'message'],
          limit(report.errors).map((e) => [
            e.kind,
            e.pv ?? '-',
            e.server ?? '-',
            e.status_name ?? e.status ?? '-',
            e.count,
            e.message ?? '',
          ]),
        ),
        'no errors',
      ),
    );
    more('errors', rowLimit, report.errors.length);
  }
  if (report.circuits) {
    emit(
      section(
        'Circuits',
        table(
          ['id', 'client', 'server', 'host', 'user', 'duration', 'msgs', 'bytes', 'end'],
          limit(report.circuits).map((c) => [
            c.circuit,
            c.client ?? '-',
            c.server ?? '-',
            c.host ?? '-',
            c.user ?? '-',
            formatSeconds(c.duration),
            c.messages,
            c.bytes,
            c.end_reason,
          ]),
        ),
        'no circuits',
      ),
    );
    more('circuits', rowLimit, report.circuits.length);
  }
  if (report.channels) {
    emit(
      section(
        'Channels',
        table(
          ['id', 'pv', 'circuit', 'duration', 'msgs', 'bytes', 'end'],
          limit(report.channels).map((c) => [
            c.id,
            c.pv,
            c.circuit,
            formatSeconds(c.duration),
            c.messages,
            c.bytes,
            c.end_reason,
          ]),
        ),
        'no channels',
      ),
    );
    more('channels', rowLimit, report.channels.length);
  }
  return out.join('\n');
}
