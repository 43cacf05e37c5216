import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { global } from './global.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `'public'` marks a route that carries no captured data (the dashboard's static files, the "not built"
     * page): it needs no token. Every other route needs the token when one is set: the decision is made on
     * the route the router matched, so no spelling of the URL (percent-encoded, another case, a trailing
     * slash) reaches data without it.
     */
    access?: 'public';
    /** Set by the security plugin on routes declared with `websocket: true`; upgrades elsewhere are refused. */
    acceptsUpgrade?: boolean;
  }
}

/** Options of the security plugin. */
export interface SecurityOptions {
  /** Bearer token required on every route not marked `access: 'public'` when set. */
  token?: string;
  /** Extra origins allowed to open /ws (e.g. the Vite dev server), as `scheme://host[:port]`. */
  allowedOrigins?: readonly string[];
  /** Address the server listens on (`--listen` host); requests naming it in Host are accepted. */
  listenHost?: string;
  /** Further names accepted in the Host header (`--allow-host`, repeatable). */
  allowHosts?: readonly string[];
}

/** Hostname of a Host header without port, brackets or a trailing dot, lower-cased; undefined when malformed. */
export function hostName(header: string): string | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(header);
  if (v6 !== null) return v6[1].toLowerCase();
  const match = /^([^:[\]]+?)\.?(?::\d+)?$/.exec(header);
  return match === null ? undefined : match[1].toLowerCase();
}

/** True for `localhost` and the loopback literals (127.0.0.0/8, ::1). */
function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** True when `host` is a wildcard listen address (every interface). */
function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Addresses of this machine's interfaces (what a Host header holds when a wildcard listener is reached by IP). */
function interfaceAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) out.add(entry.address.toLowerCase());
  }
  return out;
}

/**
 * Builds the Host check that stops DNS rebinding: a page of `evil.example` whose name the attacker re-points
 * at 127.0.0.1 reaches the daemon as same-origin, but its requests still say `Host: evil.example`. Accepted:
 * no Host (not a browser), `localhost`, loopback literals, the listen address (for a wildcard listener, the
 * addresses of the local interfaces: an IP literal cannot be rebound), and the names given.
 */
export function hostChecker(
  listenHost: string | undefined,
  allowHosts: readonly string[] = [],
): (header: string | undefined) => boolean {
  const names = new Set(allowHosts.map((h) => hostName(h) ?? h.toLowerCase()));
  const wildcard = listenHost !== undefined && isWildcard(listenHost);
  if (listenHost !== undefined && !wildcard) names.add(hostName(listenHost) ?? listenHost.toLowerCase());
  return (header) => {
    if (header === undefined) return true;
    const name = hostName(header);
    if (name === undefined) return false;
    if (isLoopbackName(name) || names.has(name)) return true;
    return wildcard && isIP(name) !== 0 && interfaceAddresses().has(name);
  };
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
 * True when a WebSocket upgrade or a request for data may proceed: no Origin (not a browser) or an Origin
 * whose host:port is the host the request was sent to, or one listed explicitly. A page on another site
 * must never read the capture through the user's browser.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] = [],
): boolean {
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

/**
 * Content-Security-Policy of every response: the page may load scripts, styles, its worker and images only
 * from its own origin and talk only to it; 'self' covers the same-origin ws:/wss: WebSocket (CSP Level 3,
 * checked in Chromium by the dashboard's e2e test). No 'unsafe-inline' for styles: Svelte's `style:` and
 * uPlot set styles through the CSSOM (element.style), which CSP does not govern. `img-src data:` is for the
 * page's empty `data:,` favicon. JSON and metrics responses get the same policy: it costs nothing there.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every response: the CSP above, no framing (clickjacking), no MIME sniffing, no Referer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // A token given as ?token= in the page's address must not leak to other sites in Referer.
  'referrer-policy': 'no-referrer',
};

/** True for a WebSocket upgrade (whatever route it asks for: the Origin check must not depend on the URL). */
function isUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

/**
 * Host, token and Origin checks, default-deny: they run in `onRequest`, after routing, and look at the matched
 * route's config rather than at `request.url` (which the router decodes before matching, so a check on the
 * raw URL is bypassed by `/%61pi/stats`). An unmatched URL gets the 404 handler, which carries no data.
 */
export const securityPlugin = global<FastifyPluginAsync<SecurityOptions>, SecurityOptions>(async (app, options) => {
  const token = options.token;
  const allowed = options.allowedOrigins ?? [];
  const hostAllowed = hostChecker(options.listenHost, options.allowHosts);
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  // Otherwise @fastify/websocket completes an upgrade on any route (then closes it): refuse it before that.
  app.addHook('onRoute', (route) => {
    if ((route as { websocket?: boolean }).websocket === true) route.config = { ...route.config, acceptsUpgrade: true };
  });
  app.addHook('onRequest', async (request, reply) => {
    // First, for every route and for upgrades: a refused upgrade's socket is destroyed after this reply.
    if (!hostAllowed(request.headers.host)) {
      request.log.warn({ host: request.headers.host }, 'refused request for a host name this daemon does not serve');
      return reply
        .code(421)
        .type('text/plain')
        .send('this daemon does not serve that host name; start it with --allow-host NAME to accept it\n');
    }
    const matched = request.routeOptions.url !== undefined;
    const isPublic = request.routeOptions.config.access === 'public';
    const upgrade = isUpgrade(request);
    if (upgrade && request.routeOptions.config.acceptsUpgrade !== true) {
      return reply.code(404).type('text/plain').send('no WebSocket here\n');
    }
    // Cross-origin pages may neither open a WebSocket nor send requests to data routes.
    if (upgrade || (matched && !isPublic)) {
      const origin = request.headers.origin;
      if (!originAllowed(origin, request.headers.host, allowed)) {
        request.log.warn({ origin, host: request.headers.host }, 'refused request from another origin');
        return reply.code(403).type('text/plain').send('cross-origin request refused\n');
      }
    }
    if (!matched || isPublic || token === undefined) return;
    if (!tokenMatches(token, presentedToken(request))) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="ca-sharkd"')
        .type('text/plain')
        .send('missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN\n');
    }
  });
});
