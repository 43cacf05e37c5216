import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type WebSocket from 'ws';
import { buildApp } from './app.js';
import { type BatchMatches, Hub, type SubscriptionMatcher } from './hub.js';
import { NOT_BUILT_MESSAGE } from './plugins/dashboard.js';
import type { DaemonModel } from './model.js';
import { PcapExportError, type PcapModel } from './pcap-route.js';
import { FAKE_RECORD, fakeModel } from './test-support/fake-model.js';

interface Rec {
  pv: string;
  src: string;
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Stands in for the decoding worker: keeps the PV lists it is told and matches batches the test publishes. */
class PvListMatcher implements SubscriptionMatcher<string[]> {
  private readonly pvs = new Map<number, string[]>();
  add(id: number, pvs: string[]): void {
    this.pvs.set(id, pvs);
  }
  remove(id: number): void {
    this.pvs.delete(id);
  }
  match(records: readonly Rec[]): BatchMatches {
    const out = new Map<number, number[]>();
    for (const [id, pvs] of this.pvs)
      out.set(
        id,
        records.flatMap((r, i) => (pvs.includes(r.pv) ? [i] : [])),
      );
    return out;
  }
}

async function make(
  options: {
    token?: string;
    dashboardDir?: string | null;
    model?: DaemonModel & PcapModel;
    compileSchemas?: 'first-use' | 'start';
  } = {},
): Promise<{ app: FastifyInstance; hub: Hub<Rec, string[]>; matcher: PvListMatcher }> {
  const hub = new Hub<Rec, string[]>((r) => JSON.stringify(r));
  const matcher = new PvListMatcher();
  hub.attach(matcher);
  app = await buildApp<Rec, string[]>({
    model: options.model ?? fakeModel(),
    hub,
    subscription: (filter) => filter.pv,
    version: '9.9.9',
    tickMs: 10,
    snapshotMs: 50,
    dashboardDir: options.dashboardDir === undefined ? null : options.dashboardDir,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.compileSchemas !== undefined ? { compileSchemas: options.compileSchemas } : {}),
  });
  await app.ready();
  return { app, hub, matcher };
}

/** Collects parsed frames from a client socket and waits for one that matches. */
function collector(ws: WebSocket): {
  frames: { type: string; [k: string]: unknown }[];
  next(type: string, pred?: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
} {
  const frames: { type: string }[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as { type: string });
    for (const w of waiters.splice(0)) w();
  });
  let seen = 0;
  return {
    frames,
    next(type, pred = () => true) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${type} frame; got ${frames.map((f) => f.type).join(',')}`)),
          3000,
        );
        const look = (): void => {
          for (; seen < frames.length; seen++) {
            const f = frames[seen] as Record<string, unknown>;
            if (f.type === type && pred(f)) {
              seen++;
              clearTimeout(timer);
              resolve(f);
              return;
            }
          }
          waiters.push(look);
        };
        look();
      });
    },
  };
}

type Collector = ReturnType<typeof collector>;

/** Opens /ws through injectWS with the collector attached before the first frame can arrive. */
async function connect(
  app: FastifyInstance,
  path = '/ws',
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; c: Collector }> {
  let c: Collector | undefined;
  const ws = await app.injectWS(
    path,
    { headers },
    {
      onInit: (socket) => {
        c = collector(socket);
      },
    },
  );
  return { ws, c: c as Collector };
}

describe('HTTP API', () => {
  it('answers health, stats and the state tables with their declared shapes', async () => {
    const { app } = await make();
    const health = await app.inject('/api/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({
      status: 'ok',
      uptime: 2,
      source: { kind: 'file', file: 'x.pcap', speed: 'max' },
      eof: true,
    });
    const stats = (await app.inject('/api/stats')).json();
    expect(stats.perCommand).toEqual({ SearchRequest: 4, SearchResponse: 3 });
    expect(stats.capture).toEqual({ received: 11, dropped: 1, ifDropped: 0 });
    const channels = (await app.inject('/api/channels')).json();
    expect(channels[0]).toMatchObject({
      pv: 'sim:double',
      nativeType: 'DOUBLE',
      lastValue: [1.5],
      access: 'rw',
      closedAt: null,
      timeToFind: 0.001,
    });
    expect((await app.inject('/api/servers')).json()[0].latency.read.count).toBe(1);
    expect((await app.inject('/api/clients')).json()[0]).toMatchObject({
      host: '127.0.0.1',
      user: 'u',
      searchPort: 40001,
      circuitEndpoints: ['127.0.0.1:40000'],
    });
    expect((await app.inject('/api/searches')).json()[0]).toMatchObject({
      pv: 'sim:double',
      answered: true,
      timeToFind: { count: 1, p50: 0.001 },
    });
  });

  it('serves the analysis report cut to 100 rows a table, all of them with ?full=1, and names a bad section', async () => {
    const { app } = await make();
    const res = await app.inject('/api/report?section=searches');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-as-of']).toBe('1.000');
    const cut = res.json();
    expect(cut).toMatchObject({
      summary: { first_seen: 1, last_seen: 2, records: 7 },
      limit: 100,
      totals: { never_found: 150 },
      omitted: { never_found: 50 },
      asOf: 1,
    });
    expect(cut.never_found).toHaveLength(100);
    expect(cut.never_found[0]).toEqual({ pv: 'x:missing0' });
    const full = (await app.inject('/api/report?section=searches&full=1')).json();
    expect(full).toMatchObject({ limit: null, totals: { never_found: 150 } });
    expect(full.never_found).toHaveLength(150);
    expect(full.omitted).toBeUndefined();
    expect((await app.inject('/api/report?full=yes')).statusCode).toBe(400);
    const bad = await app.inject('/api/report?section=bogus');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/unknown report section 'bogus'/);
  });

  it('answers 503 when the report cannot be computed (the decoder is gone)', async () => {
    const model: DaemonModel = {
      ...fakeModel(),
      reportText: () => Promise.reject(new Error('decoding worker exited (1)')),
    };
    const { app } = await make({ model });
    const res = await app.inject('/api/report');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'decoding worker exited (1)' });
  });

  it("answers a packet export the decoder cannot make 503, and one of a changed file 409, with the worker's words", async () => {
    const failing = (error: PcapExportError): PcapModel => ({
      ...fakeModel(),
      pcap: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
      }),
    });
    let { app } = await make({ model: failing(new PcapExportError('decoding worker exited (1)', false)) });
    let res = await app.inject('/api/pcap');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'decoding worker exited (1)' });
    ({ app } = await make({ model: failing(new PcapExportError('x.pcap changed since it was replayed', true)) }));
    res = await app.inject('/api/pcap');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: 'x.pcap changed since it was replayed' });
  });

  it('serves Prometheus metrics with per-command counters', async () => {
    const { app } = await make();
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('ca_sharkd_messages_total{command="SearchRequest"} 4');
    expect(res.body).toContain('ca_sharkd_capture_dropped_total 1');
    expect(res.body).toContain('# TYPE ca_sharkd_packets_total counter');
  });

  it('serves a held record in full by id and names the ones it no longer holds', async () => {
    const { app } = await make();
    const held = await app.inject('/api/record/1');
    expect(held.statusCode).toBe(200);
    expect(held.headers['content-type']).toMatch(/^application\/json/);
    expect(held.body).toBe(FAKE_RECORD);
    const gone = await app.inject('/api/record/7');
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'record 7 is no longer held' });
    expect((await app.inject('/api/record/x')).statusCode).toBe(400);
    expect((await app.inject('/api/record/0')).statusCode).toBe(400);
  });

  it('counts WebSocket records per client in stats and metrics', async () => {
    const { app, hub } = await make();
    const { ws, c } = await connect(app);
    await c.next('hello');
    hub.publish([
      { pv: 'a', src: '127.0.0.1' },
      { pv: 'b', src: '127.0.0.1' },
    ]);
    const frame = await c.next('records');
    expect(frame).toMatchObject({ matched: 2, sent: 2, sampling: false });
    const [info] = hub.clientInfo();
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('ca_sharkd_websocket_matched_records_total 2');
    expect(metrics).toContain(`ca_sharkd_websocket_client_records_total{client="${info.id}",outcome="sent"} 2`);
    expect(metrics).toContain('ca_sharkd_websocket_sampled_out_records_total 0');
    expect(hub.view()).toMatchObject({ matched: 2, sent: 2, sampledOut: 0, perClient: [{ id: info.id, sent: 2 }] });
    ws.terminate();
  });

  it('requires the bearer token on data routes when one is set', async () => {
    const { app } = await make({ token: 's3cret' });
    expect((await app.inject('/api/stats')).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/stats', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/stats', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
    expect((await app.inject('/metrics?token=s3cret')).statusCode).toBe(200);
  });

  it('answers / with a 503 that says how to build the dashboard when it is not built', async () => {
    const { app } = await make({ dashboardDir: join(tmpdir(), 'no-such-dashboard-dir') });
    const res = await app.inject('/');
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe(NOT_BUILT_MESSAGE);
  });

  it('serves the built dashboard at /', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-dash-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ca-shark</title>');
    const { app } = await make({ dashboardDir: dir });
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<title>ca-shark</title>');
  });
});

describe('WebSocket /ws', () => {
  it('says hello, sends a snapshot, then batched records matching the subscription', async () => {
    const { app, hub, matcher } = await make();
    const { ws, c } = await connect(app);
    const hello = await c.next('hello');
    expect(hello).toEqual({ type: 'hello', version: '9.9.9', source: { kind: 'file', file: 'x.pcap', speed: 'max' } });
    const snap = await c.next('snapshot');
    expect(snap.stats).toMatchObject({ messages: 7 });
    ws.send(JSON.stringify({ type: 'subscribe', filter: { pv: ['b'] } }));
    await c.next('subscribed');
    const batch = [
      { pv: 'a', src: '127.0.0.1' },
      { pv: 'b', src: '127.0.0.1' },
    ];
    hub.publish(batch, matcher.match(batch));
    const frame = await c.next('records');
    expect(frame.records).toEqual([{ pv: 'b', src: '127.0.0.1' }]);
    ws.terminate();
  });

  it('answers a bad subscription with an error frame and keeps the connection', async () => {
    const { app } = await make();
    const { ws, c } = await connect(app);
    await c.next('hello');
    ws.send(JSON.stringify({ type: 'subscribe', filter: { pv: 'not-a-list' } }));
    expect((await c.next('error')).message).toMatch(/filter\.pv must be an array/);
    ws.send('{');
    expect((await c.next('error')).message).toBe('not JSON');
    ws.send(JSON.stringify({ type: 'subscribe', filter: {} }));
    await c.next('subscribed');
    ws.terminate();
  });

  it('quotes no more than a short prefix of bad input in error replies', async () => {
    const { app } = await make();
    const { ws, c } = await connect(app);
    await c.next('hello');
    const long = 'y'.repeat(60_000);
    ws.send(JSON.stringify({ type: long }));
    const unknown = (await c.next('error')).message as string;
    expect(unknown).toMatch(/^unknown message type "y{31}\.\.\.$/);
    ws.send(JSON.stringify({ type: 'subscribe', filter: { [long]: 1 } }));
    expect(((await c.next('error')).message as string).length).toBeLessThan(80);
    ws.terminate();
  });

  it('answers a record request with the full record, or null and why once it is gone', async () => {
    const { app } = await make();
    const { ws, c } = await connect(app);
    await c.next('hello');
    ws.send(JSON.stringify({ type: 'record', id: 1 }));
    expect(await c.next('record')).toEqual({ type: 'record', id: 1, record: JSON.parse(FAKE_RECORD) });
    ws.send(JSON.stringify({ type: 'record', id: 2 }));
    expect(await c.next('record')).toEqual({
      type: 'record',
      id: 2,
      record: null,
      error: 'record 2 is no longer held',
    });
    ws.send(JSON.stringify({ type: 'record', id: 'x' }));
    expect((await c.next('error')).message).toBe('id must be an integer');
    ws.send(JSON.stringify({ type: 'rate', recordsPerSecond: 50 }));
    expect(await c.next('rate')).toEqual({ type: 'rate', recordsPerSecond: 50 });
    ws.terminate();
  });

  it('refuses an upgrade whose Origin is another site, accepts its own origin', async () => {
    const { app } = await make();
    await expect(connect(app, '/ws', { origin: 'https://evil.example', host: 'localhost:8080' })).rejects.toThrow(
      /403/,
    );
    const ok = await connect(app, '/ws', { origin: 'http://localhost:8080', host: 'localhost:8080' });
    await ok.c.next('hello');
    ok.ws.terminate();
  });

  it('refuses an upgrade without the token when one is set', async () => {
    const { app } = await make({ token: 't' });
    await expect(connect(app)).rejects.toThrow(/401/);
    const ok = await connect(app, '/ws?token=t');
    await ok.c.next('hello');
    ok.ws.terminate();
  });
});

describe('requests validated by the definitions generated from requests.ts', () => {
  it('answers a query string or path parameter that breaks its schema with 400 and what is wrong', async () => {
    const { app } = await make();
    const full = await app.inject('/api/report?full=yes');
    expect(full.statusCode).toBe(400);
    expect(full.json()).toEqual({ error: 'querystring/full must be equal to one of the allowed values' });
    const extra = await app.inject('/api/report?sections=x');
    expect(extra.statusCode).toBe(200);
    for (const id of ['abc', '0', '1.5']) {
      const res = await app.inject(`/api/record/${id}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: id === '0' ? 'params/id must be >= 1' : 'params/id must be integer',
      });
    }
    expect((await app.inject('/api/record/1')).statusCode).toBe(200);
  });

  it("compiles every route's schemas at start when asked, and answers as when they compile on first use", async () => {
    // make() awaits ready(): a route schema ajv or fast-json-stringify cannot compile fails here, which the
    // daemon's own first-use compilers would only show on that route's first request.
    const { app } = await make({ compileSchemas: 'start' });
    expect((await app.inject('/api/report?full=yes')).json()).toEqual({
      error: 'querystring/full must be equal to one of the allowed values',
    });
    expect((await app.inject('/api/record/0')).json()).toEqual({ error: 'params/id must be >= 1' });
    expect((await app.inject('/api/health')).statusCode).toBe(200);
  });

  it('answers a WebSocket message that breaks its schema with an error frame naming the field', async () => {
    const { app } = await make();
    const { ws, c } = await connect(app);
    await c.next('hello');
    ws.send(JSON.stringify({ type: 'rate', recordsPerSecond: 'many' }));
    expect((await c.next('error')).message).toBe('recordsPerSecond must be a number');
    ws.send(JSON.stringify({ type: 'pause', extra: 1 }));
    expect((await c.next('error')).message).toBe('unknown field "extra" in message');
    ws.send(JSON.stringify({ type: 'rate', recordsPerSecond: 50 }));
    expect(await c.next('rate')).toEqual({ type: 'rate', recordsPerSecond: 50 });
    ws.terminate();
  });
});
