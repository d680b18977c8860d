import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { byAttention, listKiosks } from '../../central/kiosk-fleet.js';
import { KIOSK_NAME, poolerUrlProblem, registerKiosk, revokeKiosk } from '../../central/kiosk-registry.js';
import { readSites } from '../../timesheets/site-settings.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { OneTimeDownloads } from '../one-time-downloads.js';
import { kioskAddedPage, kioskRevokePage, kiosksPage } from '../pages/kiosks.js';
import { page } from '../pages/layout.js';
import { body, change, onCentral, refusal, sendPage, session, takeFlash } from '../route-helpers.js';
import type { ConsoleContext } from '../server.js';

/**
 * Kiosks (IT only): the fleet's health, a new kiosk, a revocation. The same functions as `clockface kiosk list|add|revoke`
 * (electron/central/), on the signed-in person's own login: central decides whether it may.
 */
export function kioskRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const downloads = new OneTimeDownloads();

  /** Supervisors have no business here (and central would refuse them the columns anyway): one line, no dead end. */
  const itOnly = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (session(request).role === 'admin') return true;
    const pc = ctx.pageContext(request, reply);
    void sendPage(reply, page(pc, t(pc.lang, 'kiosksTitle'), html`<p><a href="/now">${t(pc.lang, 'back')}</a></p>`, { kind: 'error', text: t(pc.lang, 'itOnly') }), 403);
    return false;
  };

  app.get('/kiosks', async (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const { kiosks, sites } = await onCentral(request, async (client) => ({
      kiosks: (await listKiosks(client, ctx.fleet)).sort(byAttention),
      sites: (await readSites(client)).map((s) => s.site),
    }));
    return sendPage(reply, kiosksPage(ctx.pageContext(request, reply), kiosks, sites, ctx.fleet, takeFlash(request)));
  });

  app.post('/kiosks/add', async (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const b = body(request);
    const name = (b['name'] ?? '').trim();
    const site = (b['site'] ?? '').trim();
    // Optional: the kiosk reaches central through PgBouncer in transaction mode at this address (docs/operations.md).
    const poolerUrl = (b['pooler'] ?? '').trim() || undefined;
    const s = session(request);
    if (!KIOSK_NAME.test(name)) {
      s.flash = { kind: 'error', text: t(request.lang, 'kioskNameInvalid') };
      return reply.redirect('/kiosks', 303);
    }
    if (poolerUrl !== undefined && poolerUrlProblem(poolerUrl) !== null) {
      s.flash = { kind: 'error', text: t(request.lang, 'kioskPoolerInvalid') };
      return reply.redirect('/kiosks', 303);
    }
    const added = await onCentral(request, (client) => registerKiosk(client, ctx.central.url, { name, site }, { poolerUrl })).catch((e: unknown) => {
      s.flash = refusal(request, e);
      return null;
    });
    if (!added) return reply.redirect('/kiosks', 303);
    // What `clockface kiosk add --json` prints, and `clockface kiosk init --settings` takes.
    const settingsJson = `${JSON.stringify({ ...added.settings, kioskId: added.id }, null, 2)}\n`;
    const downloadToken = downloads.offer(s.id, { fileName: `kiosk-${name}.json`, contentType: 'application/json; charset=utf-8', body: settingsJson });
    // Rendered in the answer to the POST, never behind a GET: no address ever shows the password again.
    return sendPage(reply, kioskAddedPage(ctx.pageContext(request, reply), { name, site, settingsJson, downloadToken }));
  });

  app.get<{ Params: { token: string } }>('/kiosks/settings/:token', (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    // A HEAD (a prefetch, a link checker) must not use up the one download.
    const download = request.method === 'HEAD' ? null : downloads.take(request.params.token, session(request).id);
    if (!download) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .type(download.contentType)
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${download.fileName}"`)
      .send(download.body);
  });

  app.get<{ Params: { name: string } }>('/kiosks/:name/revoke', async (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const kiosk = (await onCentral(request, (client) => listKiosks(client, ctx.fleet))).find((k) => k.name === request.params.name);
    if (!kiosk || kiosk.revokedAt !== null) {
      session(request).flash = { kind: 'error', text: t(request.lang, kiosk ? 'kioskRevokedAlready' : 'kioskNotFound') };
      return reply.redirect('/kiosks', 303);
    }
    return sendPage(reply, kioskRevokePage(ctx.pageContext(request, reply), kiosk, takeFlash(request)));
  });

  app.post<{ Params: { name: string } }>('/kiosks/:name/revoke', (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const name = request.params.name;
    // The name typed again must be this kiosk's: a slip on the wrong row revokes nothing.
    const typed = (body(request)['confirm'] ?? '').trim();
    const matches = typed === name;
    return change(
      request,
      reply,
      async (client) => {
        if (!matches) return { kind: 'error', text: t(request.lang, 'kioskRevokeMismatch', { name }) };
        const revoked = await revokeKiosk(client, name);
        return { kind: 'ok', text: t(request.lang, 'kioskRevokedDone', { name, sessions: revoked.sessionsEnded }) };
      },
      matches ? '/kiosks' : `/kiosks/${encodeURIComponent(name)}/revoke`,
    );
  });
}
