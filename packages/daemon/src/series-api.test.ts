import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { Hub } from './hub.js';
import type { SeriesKeysView, SeriesView, TalkersView } from './series.js';
import type { RunningDaemon } from './server.js';
import { startTestDaemon } from './test-support/daemon.js';
import { fakeModel } from './test-support/fake-model.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));

let daemon: RunningDaemon | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await daemon?.shutdown('test done');
  daemon = undefined;
  await app?.close();
  app = undefined;
});

describe('/api/series and /api/talkers', { timeout: 60_000 }, () => {
  it('serve the series the decoding worker keeps for a replayed capture', async () => {
    daemon = await startTestDaemon(['-r', fixture('ca_monitor2.pcapng'), '--speed', 'max']);
    await daemon.engine.whenEnded();
    const d = daemon;
    const get = async <T>(url: string): Promise<T> => {
      const res = await d.app.inject(url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json<T>();
    };
    const keys = await get<SeriesKeysView>('/api/series');
    expect(keys.pvs.sort()).toEqual(['T1:cnt', 'T2:cnt']);
    expect(keys.iocs.length).toBeGreaterThan(0);
    expect(keys.now).toBeGreaterThan(1e9);

    const pv = await get<SeriesView>(`/api/series/pv?key=${encodeURIComponent('T1:cnt')}`);
    expect(pv).toMatchObject({ kind: 'pv', key: 'T1:cnt', tracked: true, step: 1 });
    const points = pv.fields.updates.filter((x): x is number => x !== null);
    // The capture's monitor updates of T1:cnt, as counted by the stream (7 of its 14 updates).
    expect(points.reduce((a, b) => a + b, 0)).toBe(7);
    expect(pv.fields.value.some((x) => typeof x === 'number')).toBe(true);

    const ioc = await get<SeriesView>(`/api/series/ioc?key=${encodeURIComponent(keys.iocs[0])}`);
    expect(ioc.fields.messages.some((x) => x !== null && x > 0)).toBe(true);
    expect(ioc.fields.channels.some((x) => x !== null)).toBe(true);

    const talkers = await get<TalkersView>('/api/talkers?limit=1');
    expect(talkers.pvs.byMessages).toHaveLength(1);
    expect(talkers.hosts.byBytes[0].bytes).toBeGreaterThan(0);

    expect((await d.app.inject('/api/series/nope?key=x')).statusCode).toBe(400);
    expect((await d.app.inject('/api/series/pv')).statusCode).toBe(400);
    expect((await d.app.inject('/api/talkers?limit=0')).statusCode).toBe(400);
  });

  it('answer 404 from a model that keeps no series', async () => {
    app = await buildApp({
      model: fakeModel(),
      hub: new Hub<string, string>((r) => r),
      subscription: () => undefined,
      version: '0',
      dashboardDir: null,
    });
    expect((await app.inject('/api/series/ioc?key=a')).statusCode).toBe(404);
    expect((await app.inject('/api/talkers')).statusCode).toBe(404);
  });
});
