import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';
import { networkInterfaces } from 'node:os';
import { buildApp } from './app.js';
import { hostChecker, hostName } from './plugins/security.js';
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

interface MakeOptions {
  token?: string;
  dashboard?: boolean;
  listenHost?: string;
  allowHosts?: string[];
}

async function make(options: MakeOptions = {}): Promise<FastifyInstance> {
  app = await buildApp<{ pv: string }>({
    model: fakeModel(),
    hub: new Hub((r) => JSON.stringify(r)),
    subscription: () => undefined,
    version: '9.9.9',
    tickMs: 10,
    snapshotMs: 50,
    dashboardDir: options.dashboard === true ? dashboardDir() : null,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.listenHost !== undefined ? { listenHost: options.listenHost } : {}),
    ...(options.allowHosts !== undefined ? { allowHosts: options.allowHosts } : {}),
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
  '/%61pi/stats',
  '/%61pi/channels',
  '/%61pi/report?section=searches',
  '/%61pi/record/1',
  '/api/%72ecord/1',
  '/API/record/1',
  '/api/record/1/',
  '/%61%70%69/servers',
  '/api/%73tats',
  '/%6detrics',
  '/%6Detrics',
  '/%6D%65trics',
  '/%2561pi/stats',
  '/%256detrics',
  '/api/%2573tats',
  '/API/stats',
  '/Api/Stats',
  '/METRICS',
  '/Metrics',
  '/api/stats/',
  '/%61pi/stats/',
  '/metrics/',
  '/%6detrics/',
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
      for (const url of ['/%61pi/stats', '/%6detrics']) {
        const head = await app.inject({ method: 'HEAD', url });
        expect({ url, status: head.statusCode }).toEqual({ url, status: 401 });
      }
      // The canonical spellings still work with the token.
      const auth = { authorization: 'Bearer s3cret' };
      expect((await app.inject({ url: '/api/stats', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/%61pi/stats', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/metrics', headers: auth })).statusCode).toBe(200);
      expect((await app.inject({ url: '/api/record/1', headers: auth })).statusCode).toBe(200);
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
    for (const url of ['/api/stats', '/api/record/1', ...HTTP_VARIANTS]) {
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
    const attempt = (path: string): Promise<string> =>
      new Promise((resolve) => {
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

/** Opens a WebSocket on a real port and says how it ended: 'open' or the HTTP status of the refusal. */
function realAttempt(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      // The refused upgrade's socket must be closed by the server, not left open.
      res.socket.once('close', () => resolve(`HTTP ${res.statusCode}, closed`));
    });
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

describe('Host allow-list (DNS rebinding)', () => {
  const rebind = { host: 'rebind.evil.example:8080', origin: 'http://rebind.evil.example:8080' };

  it('refuses a rebound name on HTTP and on the upgrade, with or without a token', async () => {
    for (const token of [undefined, 't']) {
      const app = await make({ dashboard: true, listenHost: '127.0.0.1', ...(token !== undefined ? { token } : {}) });
      const auth = token !== undefined ? { authorization: `Bearer ${token}` } : {};
      for (const url of ['/api/stats', '/api/record/1', '/metrics', '/', '/%61pi/stats']) {
        const res = await app.inject({ url, headers: { ...rebind, ...auth } });
        expect({ url, status: res.statusCode }).toEqual({ url, status: 421 });
        expect(res.body).toMatch(/--allow-host/);
      }
      await expect(openWs(app, '/ws?token=t', rebind)).rejects.toThrow(/Unexpected server response: 421/);
      await app.close();
    }
  });

  it('accepts localhost, loopback literals, the listen address and --allow-host names', async () => {
    const app = await make({ listenHost: '192.0.2.7', allowHosts: ['shark.example.org', 'fd00::5'] });
    const accepted = [
      'localhost:8080',
      'localhost',
      'LOCALHOST.',
      '127.0.0.1:8080',
      '127.3.4.5',
      '[::1]:8080',
      '192.0.2.7:8080',
      'Shark.Example.org:443',
      'shark.example.org.',
      '[fd00::5]:8080',
    ];
    for (const host of accepted) {
      expect({ host, status: (await app.inject({ url: '/api/health', headers: { host } })).statusCode }).toEqual({
        host,
        status: 200,
      });
    }
    const refused = [
      'evil.example',
      'localhost.evil.example',
      '127.0.0.1.evil.example',
      '192.0.2.8',
      'shark.example.org.evil',
      '[::2]',
      'a:b:c',
    ];
    for (const host of refused) {
      expect({ host, status: (await app.inject({ url: '/api/health', headers: { host } })).statusCode }).toEqual({
        host,
        status: 421,
      });
    }
    const ws = await openWs(app, '/ws', { host: 'shark.example.org:8080', origin: 'https://shark.example.org:8080' });
    ws.terminate();
  });

  it('accepts the interface addresses of a wildcard listener, not other names', () => {
    const check = hostChecker('0.0.0.0');
    const addresses = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .map((e) => e.address);
    for (const address of addresses)
      expect(check(address.includes(':') ? `[${address}]:80` : `${address}:80`), address).toBe(true);
    expect(check('198.51.100.9:80')).toBe(addresses.includes('198.51.100.9'));
    expect(check('myhost.example:80')).toBe(false);
    expect(hostChecker('::')('[::1]')).toBe(true);
  });

  it('parses Host headers', () => {
    expect(hostName('Example.ORG.:80')).toBe('example.org');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
    expect(hostName('::1')).toBeUndefined();
    expect(hostName('a b')).toBe('a b');
    expect(hostName('x:y')).toBeUndefined();
  });

  it('closes a rebound upgrade on a real port', async () => {
    const app = await make({ listenHost: '127.0.0.1' });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = address.replace(/^http/, 'ws') + '/ws';
    expect(await realAttempt(url, rebind)).toBe('HTTP 421, closed');
    expect(await realAttempt(url)).toBe('open');
  });
});

describe('security headers', () => {
  it('sends CSP, no-framing, nosniff and no-referrer on the page, the API and refusals', async () => {
    const app = await make({ token: 't', dashboard: true });
    for (const url of ['/', '/index.html', '/api/health?token=t', '/metrics?token=t', '/api/stats', '/no-such-file']) {
      const res = await app.inject(url);
      expect(res.headers['content-security-policy'], url).toMatch(
        /default-src 'none'.*connect-src 'self'.*frame-ancestors 'none'/,
      );
      expect(res.headers['content-security-policy'], url).not.toContain('unsafe');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });
});
