import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { global } from './global.js';

/** Options of the security plugin. */
export interface SecurityOptions {
  /** Bearer token required on /api, /metrics and /ws when set. */
  token?: string;
  /** Extra origins allowed to open /ws (e.g. the Vite dev server), as `scheme://host[:port]`. */
  allowedOrigins?: readonly string[];
}

/** Paths that carry captured data; static files of the dashboard hold none. */
function isProtected(url: string): boolean {
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/metrics') || url.startsWith('/ws');
}

/** Token from `Authorization: Bearer T` or from `?token=T` (browsers cannot set headers on WebSockets). */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match !== null) return match[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

/** Constant-time comparison so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when a WebSocket upgrade may proceed: no Origin (not a browser) or an Origin whose host:port is the
 * host the request was sent to, or one listed explicitly. A page on another site must never read the
 * capture stream through the user's browser.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] = []): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return host !== undefined && parsed.host.toLowerCase() === host.toLowerCase();
}

/** Token check for data routes and the Origin check for WebSocket upgrades. */
export const securityPlugin = global<FastifyPluginAsync<SecurityOptions>, SecurityOptions>(async (app, options) => {
  const token = options.token;
  const allowed = options.allowedOrigins ?? [];
  app.addHook('onRequest', async (request, reply) => {
    if (!isProtected(request.url)) return;
    if (request.url.startsWith('/ws')) {
      const origin = request.headers.origin;
      if (!originAllowed(origin, request.headers.host, allowed)) {
        request.log.warn({ origin, host: request.headers.host }, 'refused WebSocket from another origin');
        return reply.code(403).type('text/plain').send('cross-origin WebSocket refused\n');
      }
    }
    if (token !== undefined && !tokenMatches(token, presentedToken(request))) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="ca-sharkd"')
        .type('text/plain')
        .send('missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN\n');
    }
  });
});
