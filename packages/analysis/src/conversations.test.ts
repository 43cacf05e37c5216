import { describe as suite, expect, it } from 'vitest';
import { circuitEndReason, type WriteEntry } from './conversations.js';
import { LATENCY_BUCKETS } from './latency.js';
import { Analyzer } from './report.js';
import { rec } from './test-support/records.js';

const C = '10.0.0.5:45000';
const S = '10.0.0.9:5064';
const on = (circuit: number, pv: string | null = null) => ({ circuit, pv, client: C, server: S });

/** The server's refusal of a WRITE to SID 42 (ECA_NOWTACCESS), as the decoder gives it. */
const writeDenied = {
  name: 'ErrorResponse',
  id: 11,
  cid: 7,
  status_code: 376,
  status_name: 'ECA_NOWTACCESS',
  error_message: 'no write access',
  original_request: {
    command: 4,
    command_name: 'WRITE',
    request_name: 'WriteRequest',
    payload_size: 8,
    data_type: 6,
    data_count: 1,
    parameter1: 42,
    parameter2: 7,
    header_size: 16,
  },
};

function circuitWithChannel(a: Analyzer, circuit = 1) {
  a.add(rec(1, C, S, { name: 'VersionRequest', id: 0, priority: 0, version: 13 }, on(circuit)));
  a.add(rec(1, C, S, { name: 'ClientNameRequest', id: 20, client_name: 'alice' }, on(circuit)));
  a.add(rec(1, C, S, { name: 'HostNameRequest', id: 21, host_name: 'ws1' }, on(circuit)));
  a.add(
    rec(1, C, S, { name: 'CreateChanRequest', id: 18, pv: 'demo:ai1', cid: 7, version: 13 }, on(circuit, 'demo:ai1')),
  );
  a.add(
    rec(
      1.002,
      S,
      C,
      { name: 'CreateChanResponse', id: 18, data_type: 6, data_count: 1, cid: 7, sid: 42 },
      { ...on(circuit, 'demo:ai1'), latency: 0.002 },
    ),
  );
}

suite('write audit, circuit and channel logs', () => {
  it('keeps the latest writes exactly as rows did, statuses of replies and ERRORs included, over a long run', () => {
    // What the audit shows: every write with the status its reply or an ERROR gave it, latest `maxRows`.
    type Row = WriteEntry;
    for (const maxRows of [1, 3, 100, 1000]) {
      const a = new Analyzer({ maxRows });
      circuitWithChannel(a);
      const all: Row[] = [];
      const byFrame = new Map<number, Row>();
      let bySid: Row | undefined;
      let x = 7;
      const next = (n: number): number => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x % n;
      };
      const values: unknown[] = [
        [1.5],
        ['a', 'b'],
        new Float64Array([1, -0, Number.NaN, 4]),
        Int16Array.from({ length: 40 }, (_, i) => i - 20),
        Array.from({ length: 20 }, (_, i) => i * 0.5),
        undefined,
        7,
        'text',
        [1, 'mixed'],
      ];
      const pending: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const t = 10 + i * 0.01;
        const kind = next(6);
        if (kind < 3) {
          // One to three writes in one frame: a reply names the first.
          const notify = kind !== 0;
          const frame = Math.round(t * 1000);
          for (let k = next(3); k >= 0; k--) {
            const data = values[next(values.length)];
            const name = notify ? 'WriteNotifyRequest' : 'WriteRequest';
            a.add(
              rec(
                t,
                C,
                S,
                { name, id: notify ? 19 : 4, data, data_type: 6, data_count: 1, sid: 42, ioid: i },
                on(1, 'demo:ai1'),
              ),
            );
            const preview = Array.isArray(data)
              ? data.slice(0, 16)
              : ArrayBuffer.isView(data)
                ? Array.from(data as Float64Array).slice(0, 16)
                : data === undefined
                  ? []
                  : [data];
            const row: Row = {
              time: t,
              frame,
              client: C,
              host: 'ws1',
              user: 'alice',
              server: S,
              pv: 'demo:ai1',
              command: name,
              data_type: 6,
              data_count: 1,
              value: preview,
              status: null,
              status_name: null,
            };
            all.push(row);
            bySid = row;
            if (notify && !byFrame.has(frame)) {
              byFrame.set(frame, row);
              pending.push(frame);
            }
          }
        } else if (kind < 5 && pending.length > 0) {
          // A reply to a pending write-notify, the latest or one long waiting.
          const frame = kind === 3 ? pending.pop()! : pending.shift()!;
          const status = 1 + next(3);
          a.add(
            rec(
              t,
              S,
              C,
              { name: 'WriteNotifyResponse', id: 19, status, status_name: `S${status}`, ioid: 0 },
              { ...on(1, 'demo:ai1'), request: { frame, timestamp: 0, command: 'WriteNotifyRequest' }, latency: 0.001 },
            ),
          );
          const row = byFrame.get(frame)!;
          row.status = status;
          row.status_name = `S${status}`;
          byFrame.delete(frame);
        } else if (bySid !== undefined) {
          a.add(rec(t, S, C, writeDenied, on(1, 'demo:ai1')));
          bySid.status = 376;
          bySid.status_name = 'ECA_NOWTACCESS';
        }
      }
      const report = a.report();
      expect(report.writes).toEqual(all.slice(-maxRows));
      expect(report.omitted?.writes).toBe(Math.max(0, all.length - maxRows));
    }
  });

  it('audits writes with who made them and how they ended', () => {
    const a = new Analyzer();
    circuitWithChannel(a);
    const notify = rec(
      2,
      C,
      S,
      { name: 'WriteNotifyRequest', id: 19, data: [1.25], data_type: 6, data_count: 1, sid: 42, ioid: 3 },
      on(1, 'demo:ai1'),
    );
    a.add(notify);
    a.add(
      rec(
        2.01,
        S,
        C,
        { name: 'WriteNotifyResponse', id: 19, status: 1, status_name: 'ECA_NORMAL', ioid: 3 },
        {
          ...on(1, 'demo:ai1'),
          request: { frame: notify.frame, timestamp: 2, command: 'WriteNotifyRequest' },
          latency: 0.01,
        },
      ),
    );
    a.add(
      rec(
        3,
        C,
        S,
        { name: 'WriteRequest', id: 4, data: ['x'], data_type: 0, data_count: 1, sid: 42 },
        on(1, 'demo:ai1'),
      ),
    );
    a.add(rec(3.001, S, C, writeDenied, on(1, 'demo:ai1')));
    expect(a.report().writes).toEqual([
      {
        time: 2,
        frame: 2000,
        client: C,
        host: 'ws1',
        user: 'alice',
        server: S,
        pv: 'demo:ai1',
        command: 'WriteNotifyRequest',
        data_type: 6,
        data_count: 1,
        value: [1.25],
        status: 1,
        status_name: 'ECA_NORMAL',
      },
      {
        time: 3,
        frame: 3000,
        client: C,
        host: 'ws1',
        user: 'alice',
        server: S,
        pv: 'demo:ai1',
        command: 'WriteRequest',
        data_type: 0,
        data_count: 1,
        value: ['x'],
        status: 376,
        status_name: 'ECA_NOWTACCESS',
      },
    ]);
  });

  it("names the decoder's close reasons the log knows, and no others", () => {
    for (const reason of ['fin', 'rst', 'timeout', 'evicted'] as const) expect(circuitEndReason(reason)).toBe(reason);
    for (const reason of [null, 'capture-end', 'FIN', '', 'closed']) expect(circuitEndReason(reason)).toBeNull();
  });

  it('logs a circuit and its channels with end reasons', () => {
    const a = new Analyzer();
    circuitWithChannel(a);
    a.add(rec(5, C, S, { name: 'ClearChannelRequest', id: 12, sid: 42, cid: 7 }, on(1, 'demo:ai1')));
    a.add(rec(5.001, S, C, { name: 'ClearChannelResponse', id: 12, sid: 42, cid: 7 }, on(1, 'demo:ai1')));
    a.add(rec(6, C, S, { name: 'CreateChanRequest', id: 18, pv: 'other', cid: 8 }, on(1, 'other')));
    a.closeCircuit(1, 9, 'rst');
    const r = a.report();
    expect(r.circuits).toEqual([
      {
        circuit: 1,
        client: C,
        server: S,
        host: 'ws1',
        user: 'alice',
        start: 1,
        end: 9,
        duration: 8,
        messages: 8,
        bytes: 128,
        channels: 2,
        end_reason: 'rst',
      },
    ]);
    expect(r.channels!.map((c) => [c.id, c.pv, c.cid, c.sid, c.messages, c.end_reason, c.duration])).toEqual([
      [1, 'demo:ai1', 7, 42, 4, 'cleared', 4.001],
      [2, 'other', 8, null, 1, 'circuit-closed', 0],
    ]);
  });
});

suite('monitor load and redundant subscriptions', () => {
  it('counts updates per PV and finds the same PV subscribed twice on one circuit', () => {
    const a = new Analyzer();
    circuitWithChannel(a);
    a.add(rec(2, C, S, { name: 'EventAddRequest', id: 1, sid: 42, subscriptionid: 1, mask: 5 }, on(1, 'demo:ai1')));
    a.add(rec(2, C, S, { name: 'EventAddRequest', id: 1, sid: 42, subscriptionid: 2, mask: 5 }, on(1, 'demo:ai1')));
    for (let i = 0; i <= 10; i++) {
      a.add(
        rec(
          2 + i,
          S,
          C,
          { name: 'EventAddResponse', id: 1, subscriptionid: 1, status: 1, data: [i] },
          { ...on(1, 'demo:ai1'), size: 40 },
        ),
      );
    }
    a.add(rec(13, C, S, { name: 'EventsOffRequest', id: 8 }, on(1)));
    a.add(rec(15, C, S, { name: 'EventsOnRequest', id: 9 }, on(1)));
    const r = a.report();
    expect(r.redundant_subscriptions).toEqual([
      { pv: 'demo:ai1', circuit: 1, client: C, server: S, count: 2, subscriptionids: [1, 2], first_seen: 2 },
    ]);
    const pv = r.monitor_load!.find((m) => m.scope === 'pv')!;
    expect(pv).toMatchObject({ pv: 'demo:ai1', updates: 11, bytes: 440, rate: 1.1, byte_rate: 44 });
    expect(r.flow_control).toEqual([{ circuit: 1, client: C, server: S, start: 13, end: 15, duration: 2 }]);
  });
});

suite('latency and errors', () => {
  it('gives percentiles and a histogram per server and kind', () => {
    const a = new Analyzer();
    for (const latency of [0.001, 0.002, 0.003]) {
      a.add(rec(1, S, C, { name: 'ReadNotifyResponse', id: 15, status: 1 }, { ...on(1, 'demo:ai1'), latency }));
    }
    const [row] = a.report().latency!;
    expect(row).toMatchObject({ server: S, kind: 'read', count: 3, min: 0.001, max: 0.003 });
    expect(row.p50).toBeCloseTo(0.002, 12);
    expect(row.mean).toBeCloseTo(0.002, 12);
    // buckets: …, ≤1e-3, ≤3e-3, …: one answer in the first, two in the second
    expect(row.histogram.slice(4, 6)).toEqual([1, 2]);
  });

  it('puts a latency on a bucket bound in that bucket, one just above it in the next, the slowest in the last', () => {
    const a = new Analyzer();
    const latencies = [0, ...LATENCY_BUCKETS, ...LATENCY_BUCKETS.map((b) => b * (1 + 1e-9)), 1e6];
    for (const latency of latencies) {
      a.add(rec(1, S, C, { name: 'ReadNotifyResponse', id: 15, status: 1 }, { ...on(1, 'demo:ai1'), latency }));
    }
    const [row] = a.report().latency!;
    // Bucket i holds (bound i-1, bound i]: 0 and the first bound in the first; each bucket then one on its
    // bound and one just above the bound before; the open-ended last one the two above the largest bound.
    expect(row.histogram).toEqual(new Array<number>(LATENCY_BUCKETS.length + 1).fill(2));
    expect(row.histogram.reduce((n, c) => n + c, 0)).toBe(latencies.length);
  });

  it('counts failed statuses, CREATE_CH_FAIL and ERROR per PV and server, but not ECA_NORMAL', () => {
    const a = new Analyzer();
    a.add(rec(1, S, C, { name: 'ReadNotifyResponse', id: 15, status: 1 }, on(1, 'ok')));
    a.add(
      rec(1, S, C, { name: 'ReadNotifyResponse', id: 15, status: 368, status_name: 'ECA_NORDACCESS' }, on(1, 'secret')),
    );
    a.add(
      rec(2, S, C, { name: 'ReadNotifyResponse', id: 15, status: 368, status_name: 'ECA_NORDACCESS' }, on(1, 'secret')),
    );
    a.add(rec(3, S, C, { name: 'CreateChFailResponse', id: 26, cid: 9 }, on(1, 'gone')));
    expect(a.report().errors!.map((e) => [e.kind, e.pv, e.server, e.status_name, e.count])).toEqual([
      ['eca', 'secret', S, 'ECA_NORDACCESS', 2],
      ['create-ch-fail', 'gone', S, null, 1],
    ]);
  });
});
