import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ClockfaceError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { FLEET_THRESHOLDS, type FleetThresholds } from '../central/kiosk-fleet.js';
import { buildConsoleAssets } from './assets.js';
import { consoleRoutes } from './routes.js';
import { SessionStore, type ConsoleSession } from './sessions.js';
import type { ConsoleCentral } from './sign-in.js';
import { pickLang, t, type Lang } from './i18n.js';
import { page, type PageContext } from './pages/layout.js';
import { html } from './html.js';
import { signInPage } from './pages/sign-in.js';

const log = createLogger('console.server');

export interface ConsoleServerOptions {
  central: ConsoleCentral;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tls?: { certFile: string; keyFile: string };
  /** A session unused this long is ended. Default 30 minutes. */
  idleMs?: number;
  /** The embedded central has no NOTIFY across connections: the Now page's feed looks this often. Default 1 s. */
  pollMs?: number;
  /** Sign-in attempts allowed per address, and per login, in `signInWindowMs`. */
  signInPerAddress?: number;
  signInPerLogin?: number;
  signInWindowMs?: number;
  /** When a kiosk counts as offline, backlogged or behind on its roster (defaults: kiosk-fleet.ts FLEET_THRESHOLDS). */
  fleet?: Partial<FleetThresholds>;
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

export const SESSION_COOKIE = 'cf_session';
export const LANG_COOKIE = 'cf_lang';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null;
    lang: Lang;
  }
}

/** What every route needs besides the request. */
export interface ConsoleContext {
  central: ConsoleCentral;
  sessions: SessionStore;
  secure: boolean;
  pollMs: number;
  signIn: { perAddress: number; perLogin: number; windowMs: number };
  fleet: FleetThresholds;
  /** The context a page renders with (CSRF token, language, who is signed in). */
  pageContext(request: FastifyRequest, reply: FastifyReply): PageContext;
}

/**
 * Where a change carries its CSRF token: a form's `_csrf` field (or, as the plugin's default allows, a header). A
 * multipart form (the roster upload) is checked before its body is read, so that a forged upload is refused before a
 * byte of it reaches the disk: it carries the token in its action's query instead (only multipart may, so ordinary
 * forms keep tokens out of addresses).
 */
function csrfToken(request: FastifyRequest): string | undefined {
  const fromBody = (request.body as { _csrf?: unknown } | undefined)?._csrf;
  if (typeof fromBody === 'string') return fromBody;
  for (const name of ['csrf-token', 'xsrf-token', 'x-csrf-token', 'x-xsrf-token']) {
    const header = request.headers[name];
    if (typeof header === 'string') return header;
  }
  if (!(request.headers['content-type'] ?? '').startsWith('multipart/form-data')) return undefined;
  const fromQuery = (request.query as { _csrf?: unknown } | undefined)?._csrf;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

/** Paths anyone may load without a session. */
const OPEN_PATHS = new Set(['/sign-in', '/setup', '/language', '/assets/console.css', '/assets/console.js', '/favicon.ico']);

/**
 * The back office (`clockface console serve`): server-rendered pages on Fastify. Each signed-in person's requests run
 * on their own central connection (sign-in.ts), so row-level security on central decides what they see and change;
 * the server adds only what a browser needs: sessions in HttpOnly, SameSite=Strict cookies, CSRF tokens on every form
 * that changes something, sign-in rate limits, a CSP without inline script, and its assets served by itself.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const secure = options.tls !== undefined;
  const app: FastifyInstance = Fastify({
    logger: false,
    ...(options.tls ? { https: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } } : {}),
    bodyLimit: 1024 * 1024,
  });
  const sessions = new SessionStore({ idleMs: options.idleMs ?? 30 * 60_000 });
  const assets = await buildConsoleAssets();

  // A new signing key each start: sessions live in this process's memory only, so a restart signs everyone out.
  await app.register(fastifyCookie, { secret: randomBytes(32).toString('hex') });
  await app.register(fastifyFormbody);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // HSTS only where there is TLS: over plain HTTP on 127.0.0.1 it would be ignored at best.
    strictTransportSecurity: secure,
  });
  await app.register(fastifyCsrf, {
    cookieKey: 'cf_csrf',
    cookieOpts: { path: '/', signed: true, httpOnly: true, sameSite: 'strict', secure },
    getToken: csrfToken,
  });
  await app.register(fastifyRateLimit, { global: false });

  const ctx: ConsoleContext = {
    central: options.central,
    sessions,
    secure,
    pollMs: options.pollMs ?? 1_000,
    fleet: { ...FLEET_THRESHOLDS, ...options.fleet },
    signIn: {
      perAddress: options.signInPerAddress ?? 20,
      perLogin: options.signInPerLogin ?? 10,
      windowMs: options.signInWindowMs ?? 15 * 60_000,
    },
    pageContext(request, reply) {
      const session = request.consoleSession;
      return {
        lang: request.lang,
        csrf: reply.generateCsrf(),
        user: session ? { login: session.login, role: session.role } : null,
        embedded: options.central.embedded,
        path: request.url.split('?')[0] ?? '/',
      };
    },
  };

  app.decorateRequest('consoleSession', null);
  app.decorateRequest('lang', 'en');
  app.addHook('onRequest', async (request, reply) => {
    request.lang = pickLang(request.cookies[LANG_COOKIE], request.headers['accept-language']);
    const raw = request.cookies[SESSION_COOKIE];
    const unsigned = raw === undefined ? null : request.unsignCookie(raw);
    request.consoleSession = unsigned?.valid && unsigned.value ? await sessions.get(unsigned.value) : null;
    const path = request.url.split('?')[0] ?? '/';
    if (request.consoleSession || OPEN_PATHS.has(path)) return;
    // A cookie without a live session: it expired (or the console restarted). Say so on the sign-in page.
    const to = raw === undefined ? '/sign-in' : '/sign-in?expired=1';
    if (request.method === 'GET' && request.headers.accept?.includes('text/event-stream')) return reply.code(401).send();
    return reply.redirect(to, 303);
  });
  // Every change carries the token of a page this console rendered (the form's hidden _csrf field).
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') return done();
    app.csrfProtection(request, reply, done);
  });

  app.get('/assets/console.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(assets.js));
  app.get('/assets/console.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(assets.css));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());

  consoleRoutes(app, ctx);

  app.setNotFoundHandler((request, reply) => {
    const pc = ctx.pageContext(request, reply);
    return reply.code(404).type('text/html; charset=utf-8').send(page(pc, t(pc.lang, 'notFound'), html`<p><a href="/now">${t(pc.lang, 'back')}</a></p>`));
  });
  app.setErrorHandler((error: unknown, request, reply) => {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const lang = request.lang;
    const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
    if (status === 429) {
      const pc = ctx.pageContext(request, reply);
      return reply.code(429).type('text/html; charset=utf-8').send(signInPage(pc, { kind: 'error', text: t(lang, 'signInLimited') }));
    }
    if (code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET') {
      // One line, and the page to go back to: nothing was changed.
      const pc = ctx.pageContext(request, reply);
      return reply.code(403).type('text/html; charset=utf-8').send(page(pc, t(lang, 'csrf'), html`<p><a href="/now">${t(lang, 'back')}</a></p>`, { kind: 'error', text: t(lang, 'csrf') }));
    }
    if (error instanceof ClockfaceError && error.code === 'CENTRAL_UNREACHABLE') {
      return reply.code(503).type('text/plain; charset=utf-8').send(t(lang, 'signInUnreachable'));
    }
    // The framework's own refusals (a body too large, a content type a route does not take, a malformed request) keep
    // their 4xx status and say so in one line; only what is left is ours, logged and answered 500.
    if (status >= 400 && status < 500) {
      const text = lang === 'zh' ? `请求无效（${status}）。请返回重试。` : `That request could not be handled (${status}). Go back and try again.`;
      return reply.code(status).type('text/plain; charset=utf-8').send(text);
    }
    log.error('console request failed', { path: request.url.split('?')[0], error: error instanceof Error ? error.message : String(error) });
    return reply.code(500).type('text/plain; charset=utf-8').send(lang === 'zh' ? '出错了。请重试；如持续出现，请联系 IT。' : 'Something went wrong. Try again; if it lasts, call IT.');
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 5190 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${secure ? 'https' : 'http'}://${host}:${address.port}`;
  log.info('console listening', { url, embedded: options.central.embedded });
  return {
    url,
    async close() {
      await sessions.close();
      await app.close();
    },
  };
}
