import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { errorText } from './i18n.js';
import type { Flash } from './pages/layout.js';
import type { ConsoleSession } from './sessions.js';

/** What every page's routes share: form bodies, the person's connection, one-line messages, refusals. */
export type Body = Record<string, string | undefined>;

export const body = (request: FastifyRequest): Body => (typeof request.body === 'object' && request.body !== null ? (request.body as Body) : {});
export const queryOf = (request: FastifyRequest): Body => (typeof request.query === 'object' && request.query !== null ? (request.query as Body) : {});

/** A local path to go back to after a change; anything else (another host, `//evil`) goes to Now. */
export function safeBack(back: string | undefined): string {
  return back !== undefined && /^\/(?!\/)[\w\-./?=&%]*$/.test(back) ? back : '/now';
}

export function session(request: FastifyRequest): ConsoleSession {
  const s = request.consoleSession;
  if (!s) throw new Error('route needs a session');
  return s;
}

export function takeFlash(request: FastifyRequest): Flash | null {
  const s = request.consoleSession;
  if (!s) return null;
  const flash = s.flash;
  s.flash = null;
  return flash;
}

export function sendPage(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

/** The status a refusal is shown with. */
export function statusOf(e: ClockfaceError): number {
  if (e.code === 'CENTRAL_PERMISSION_DENIED') return 403;
  if (e.code.endsWith('_NOT_FOUND')) return 404;
  return 400;
}

/** A refusal central or the operation explained, in the person's language; anything else is a bug and goes up. */
export function refusal(request: FastifyRequest, e: unknown): Flash {
  if (e instanceof ClockfaceError) return { kind: 'error', text: errorText(request.lang, e.code, e.message) };
  throw e;
}

/** Runs an operation on the signed-in person's own connection, one at a time per session. */
export function onCentral<T>(request: FastifyRequest, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return session(request).serial(work);
}

  /** Runs a change; its outcome becomes the next page's one-line message; back to the page it came from. */
export async function change(
  request: FastifyRequest,
  reply: FastifyReply,
  work: (client: pg.Client, b: Body) => Promise<Flash>,
  /** Where to go afterwards; by default the form's own `back` field (a local path). */
  back?: string,
): Promise<FastifyReply> {
  const b = body(request);
  let flash: Flash;
  try {
    flash = await onCentral(request, (client) => work(client, b));
  } catch (e) {
    flash = refusal(request, e);
  }
  session(request).flash = flash;
  return reply.redirect(back ?? safeBack(b['back']), 303);
}
