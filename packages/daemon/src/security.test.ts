import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';
import { buildApp } from './app.js';
import { Hub } from './hub.js';
import { fakeModel } from './test-support/fake-model.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A built dashboard with one page, so the static wildcard route is there to catch odd spellings. */
function dashboardDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-sec-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ca-shark</title>');
  return dir;
}

async function make(options: { token?: string; dashboard?: boolean } = {}): Promise<FastifyInstance> {
  app = await buildApp<{ pv: string }>({
    model: fakeModel(),
    hub: new Hub((r) => JSON.stringify(r)),
    compile: () => undefined,
    version: '9.9.9',
    tickMs: 10,
    snapshotMs: 50,
    dashboardDir: options.dashboard === true ? dashboardDir() : null,
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  await app.ready();
  return app;
}

/**
 * Spellings of the data routes that the router may decode, fold or refuse: percent-encoded (lower- and
 * upper-case hex), double-encoded, another letter case, a trailing slash. Whatever the router makes of them,
 * none may hand out data without the token.
 */
const HTTP_VARIANTS = [
  '/%61pi/stats', '/%61pi/channels', '/%61pi/report?section=searches', '/%61%70%69/servers', '/api/%73tats',
  '/%6detrics', '/%6Detrics', '/%6D%65trics',
  '/%2561pi/stats', '/%256detrics', '/api/%2573tats',
  '/API/stats', '/Api/Stats', '/METRICS', '/Metrics',
  '/api/stats/', '/%61pi/stats/', '/metrics/', '/%6detrics/',
];
const WS_VARIANTS = ['/%77s', '/%77%73', '/%57S', '/%2577s', '/WS', '/Ws', '/ws/', '/%77s/'];

/** True when a response carries captured data or counters. */
function leaks(res: LightMyRequestResponse): boolean {
  return res.statusCode < 300 && /"packets"|"pv"|ca_sharkd_|"summary"|sim:double/.test(res.body);
}

async function openWs(app: FastifyInstance, path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return app.injectWS(path, { headers });
}

describe('token and Origin checks follow the matched route, not the raw URL', () => {
  for (const dashboard of [false, true]) {
    const where = dashboard ? 'with the dashboard built' : 'without the dashboard';
    it(`refuses every spelling of /api and /metrics without the token (${where})`, async () => {
      const app = await make({ token: 's3cret', dashboard });
      for (const url of HTTP_VARIANTS) {
        const res = await app.inject(url);
        expect({ url, status: res.statusCode, leaks: leaks(res) }).toMatchObject({ url, leaks: false });
        expect([401, 404], url).toContain(res.statusCode);
      }
      // The canonical spellings still work with the token.
      const auth = { authorization: 'Bearer s3cret' };
      expect((await app.inject({ url: '/api/stats', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/%61pi/stats', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/metrics', headers: auth })).statusCode).toBe(200);
    });

    it(`refuses every spelling of /ws without the token (${where})`, async () => {
      const app = await make({ token: 't', dashboard });
      for (const path of WS_VARIANTS) {
        await expect(openWs(app, path), path).rejects.toThrow(/Unexpected server response: 40[14]/);
      }
      const ok = await openWs(app, '/%77s?token=t');
      ok.terminate();
    });
  }

  it('refuses every spelling of /ws from another origin when no token is set', async () => {
    const app = await make({ dashboard: true });
    const evil = { origin: 'https://evil.example', host: 'localhost:8080' };
    for (const path of WS_VARIANTS) {
      await expect(openWs(app, path, evil), path).rejects.toThrow(/Unexpected server response: 40[34]/);
    }
    const own = await openWs(app, '/%77s', { origin: 'http://localhost:8080', host: 'localhost:8080' });
    own.terminate();
  });

  it('refuses data routes to a cross-origin page in any spelling', async () => {
    const app = await make({ dashboard: true });
    const evil = { origin: 'https://evil.example', host: 'localhost:8080' };
    for (const url of ['/api/stats', ...HTTP_VARIANTS]) {
      const res = await app.inject({ url, headers: evil });
      expect({ url, leaks: leaks(res) }).toEqual({ url, leaks: false });
    }
    // The page itself is public: a link from another site may open it.
    expect((await app.inject({ url: '/', headers: evil })).statusCode).toBe(200);
  });

  it('serves the dashboard files without the token and unmatched URLs with a plain 404', async () => {
    const app = await make({ token: 't', dashboard: true });
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>ca-shark</title>');
    expect((await app.inject('/index.html')).statusCode).toBe(200);
    const missing = await app.inject('/no-such-file.js');
    expect(missing.statusCode).toBe(404);
  });

  it('refuses an encoded /ws on a real port without the token', async () => {
    const app = await make({ token: 't' });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const base = address.replace(/^http/, 'ws');
    const attempt = (path: string): Promise<string> => new Promise((resolve) => {
      // `ws` sends the path as written: %77 reaches the server encoded, as from a browser.
      const ws = new WebSocket(base + path);
      ws.once('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(`HTTP ${res.statusCode}`);
      });
      ws.once('error', (err) => resolve(`error ${err.message}`));
    });
    expect(await attempt('/%77s')).toBe('HTTP 401');
    expect(await attempt('/%77%73')).toBe('HTTP 401');
    expect(await attempt('/%77s?token=t')).toBe('open');
  });
});
