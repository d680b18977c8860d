import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ClockfaceError } from '../../shared/errors.js';
import { addDays } from '../../shared/timesheet/index.js';
import { datesFromTo } from '../../shared/timesheet/zoned-time.js';
import { byAttention, listKiosks, type FleetThresholds } from '../central/kiosk-fleet.js';
import { readAudit } from '../timesheets/audit.js';
import { addPunch, decideCorrection, listCorrections, movePunch, voidPunch } from '../timesheets/corrections.js';
import { readSite, readSites } from '../timesheets/site-settings.js';
import { recentPunches, siteWeek, siteWeekStart, whoIsIn } from '../timesheets/site-week.js';
import { checkedPeriod, findEmployee } from '../timesheets/timesheet-data.js';
import { employeeTimesheet } from '../timesheets/timesheet-view.js';
import { trusted } from './html.js';
import { t } from './i18n.js';
import { auditPage, correctionsPage } from './pages/corrections.js';
import type { Flash } from './pages/layout.js';
import { nowLive, nowPage, type KioskAttention } from './pages/now.js';
import { setupPage, signInPage } from './pages/sign-in.js';
import { employeePage, weekGridPage } from './pages/timesheets.js';
import { LANG_COOKIE, SESSION_COOKIE, type ConsoleContext } from './server.js';
import { body, change, onCentral, queryOf, refusal, safeBack, sendPage, session, statusOf, takeFlash } from './route-helpers.js';
import { createEmbeddedAdmin, embeddedSetupNeeded, signIn } from './sign-in.js';
import { employeeRoutes } from './routes/employees.js';
import { enrolRoutes } from './routes/enrol.js';
import { reportRoutes } from './routes/reports.js';
import { rulesRoutes } from './routes/rules.js';
import { punchesWithSnapshots, snapshotRoutes } from './routes/snapshots.js';
import { kioskRoutes } from './routes/kiosks.js';
import { rosterImportRoutes } from './routes/roster-import.js';

/** The kiosks with a problem, judged as on the Kiosks page and by `kiosk list` (kiosk-fleet.ts), worst first. */
async function kiosksNeedingAttention(client: pg.Client, fleet: FleetThresholds): Promise<KioskAttention[]> {
  return (await listKiosks(client, fleet))
    .filter((k) => !k.status.includes('ok') && !k.status.includes('revoked'))
    .sort(byAttention)
    .map((k) => ({ name: k.name, site: k.site, lastSeenAt: k.lastSeenAt, status: k.status }));
}

async function liveFragment(request: FastifyRequest, client: pg.Client): Promise<string> {
  const sites = await whoIsIn(client);
  const punches = await recentPunches(client, 25);
  const zones = new Map(sites.map((s) => [s.site, s.timeZone]));
  return nowLive(request.lang, sites, punches, zones).text;
}

export function consoleRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const cookie = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: ctx.secure };

  // ---- signing in and out -------------------------------------------------------------------------------------
  app.get('/', (_request, reply) => reply.redirect('/now', 303));

  app.get('/sign-in', async (request, reply) => {
    if (request.consoleSession) return reply.redirect('/now', 303);
    if (await embeddedSetupNeeded(ctx.central)) return reply.redirect('/setup', 303);
    const q = queryOf(request);
    const flash: Flash | null = q['expired'] ? { kind: 'error', text: t(request.lang, 'sessionExpired') } : q['out'] ? { kind: 'ok', text: t(request.lang, 'signedOut') } : q['ready'] ? { kind: 'ok', text: t(request.lang, 'setupDone') } : null;
    if (q['expired']) reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return sendPage(reply, signInPage(ctx.pageContext(request, reply), flash));
  });

  // Both limits: one address guessing many logins, and many addresses guessing one login. (Two `rateLimit` handlers
  // cannot be chained, the plugin runs only the first per request: `createRateLimit` checks each and counts each.)
  const perAddress = app.createRateLimit({ max: ctx.signIn.perAddress, timeWindow: ctx.signIn.windowMs, keyGenerator: (r) => `address:${r.ip}` });
  const perLogin = app.createRateLimit({
    max: ctx.signIn.perLogin,
    timeWindow: ctx.signIn.windowMs,
    keyGenerator: (r) => `login:${(body(r)['login'] ?? '').trim().toLowerCase()}`,
  });
  const signInLimits = async (request: FastifyRequest): Promise<void> => {
    const [address, login] = [await perAddress(request), await perLogin(request)];
    if (!address.isAllowed && address.isExceeded) throw Object.assign(new Error('too many sign-in attempts from this address'), { statusCode: 429 });
    if (!login.isAllowed && login.isExceeded) throw Object.assign(new Error('too many sign-in attempts at this login'), { statusCode: 429 });
  };

  app.post(
    '/sign-in',
    { preHandler: signInLimits },
    async (request, reply) => {
      const b = body(request);
      const login = (b['login'] ?? '').trim();
      const outcome = await signIn(ctx.central, login, b['password'] ?? '');
      if (!outcome.ok) {
        if (outcome.reason === 'setup_needed') return reply.redirect('/setup', 303);
        const key = outcome.reason === 'wrong' ? 'signInWrong' : outcome.reason === 'unreachable' ? 'signInUnreachable' : 'signInNotConsole';
        return sendPage(reply, signInPage(ctx.pageContext(request, reply), { kind: 'error', text: t(request.lang, key) }, login), outcome.reason === 'unreachable' ? 503 : 401);
      }
      const s = ctx.sessions.create(outcome.login, outcome.role, outcome.client);
      reply.setCookie(SESSION_COOKIE, s.id, { ...cookie, signed: true });
      return reply.redirect('/now', 303);
    },
  );

  app.post('/sign-out', async (request, reply) => {
    if (request.consoleSession) await ctx.sessions.end(request.consoleSession.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/sign-in?out=1', 303);
  });

  app.get('/setup', async (request, reply) => {
    if (!(await embeddedSetupNeeded(ctx.central))) return reply.redirect('/sign-in', 303);
    return sendPage(reply, setupPage(ctx.pageContext(request, reply), null));
  });

  app.post('/setup', async (request, reply) => {
    if (!(await embeddedSetupNeeded(ctx.central))) return reply.redirect('/sign-in', 303);
    const b = body(request);
    try {
      await createEmbeddedAdmin(ctx.central, (b['login'] ?? '').trim().toLowerCase(), b['password'] ?? '');
    } catch (e) {
      const text = (b['password'] ?? '').length < 12 ? t(request.lang, 'setupPasswordShort') : t(request.lang, 'setupLoginInvalid');
      if (!(e instanceof ClockfaceError)) throw e;
      return sendPage(reply, setupPage(ctx.pageContext(request, reply), { kind: 'error', text }), 400);
    }
    return reply.redirect('/sign-in?ready=1', 303);
  });

  app.post('/language', (request, reply) => {
    const b = body(request);
    const lang = b['lang'] === 'zh' ? 'zh' : 'en';
    reply.setCookie(LANG_COOKIE, lang, { path: '/', sameSite: 'strict', secure: ctx.secure, maxAge: 365 * 24 * 3600 });
    return reply.redirect(safeBack(b['back']), 303);
  });

  // ---- Now ----------------------------------------------------------------------------------------------------
  app.get('/now', async (request, reply) => {
    const { live, kiosks } = await onCentral(request, async (client) => ({
      live: await liveFragment(request, client),
      kiosks: session(request).role === 'admin' ? await kiosksNeedingAttention(client, ctx.fleet) : null,
    }));
    return sendPage(reply, nowPage(ctx.pageContext(request, reply), trusted(live), kiosks, takeFlash(request)));
  });

  app.get('/now/live', async (request, reply) => {
    const live = await onCentral(request, (client) => liveFragment(request, client));
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(live);
  });

  app.get('/now/events', (request, reply) => {
    const s = session(request);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const changed = () => res.write('event: changed\ndata: {}\n\n');
    let stop: () => void;
    if (!ctx.central.embedded) {
      // On a server: NOTIFY clockface_punch (0120) on the person's own connection, so nothing is shared between logins.
      const onNotify = (message: pg.Notification) => {
        if (message.channel === 'clockface_punch') changed();
      };
      s.client.on('notification', onNotify);
      if (!s.listening) {
        s.listening = true;
        void s.serial((client) => client.query('LISTEN clockface_punch')).catch(() => {
          s.listening = false;
        });
      }
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
      stop = () => {
        clearInterval(keepAlive);
        s.client.off('notification', onNotify);
      };
    } else {
      // The embedded central does not deliver NOTIFY across connections: look for a change this often.
      let last: string | null = null;
      const look = async () => {
        const mark = await s.serial(async (client) => {
          const { rows } = await client.query<{ mark: string }>(
            `SELECT concat_ws('/', (SELECT max(received_at) FROM punches), (SELECT max(id) FROM punch_corrections),
                              (SELECT max(correction_id) FROM correction_decisions)) AS mark`,
          );
          return rows[0]?.mark ?? '';
        });
        if (last !== null && mark !== last) changed();
        last = mark;
      };
      void look().catch(() => undefined);
      const timer = setInterval(() => void look().catch(() => undefined), ctx.pollMs);
      stop = () => clearInterval(timer);
    }
    request.raw.on('close', () => stop());
  });

  // ---- Timesheets ---------------------------------------------------------------------------------------------
  app.get('/timesheets', async (request, reply) => {
    const q = queryOf(request);
    try {
      const { sites, week } = await onCentral(request, async (client) => {
        const sites = (await readSites(client)).map((s) => s.site);
        const site = q['site'] || sites[0];
        const week = site === undefined ? null : await siteWeek(client, site, q['week'] || undefined);
        return { sites, week };
      });
      return sendPage(reply, weekGridPage(ctx.pageContext(request, reply), sites, week, takeFlash(request), Number(q['page'] ?? 0) || 0));
    } catch (e) {
      const flash = refusal(request, e);
      const sites = await onCentral(request, async (client) => (await readSites(client)).map((s) => s.site));
      return sendPage(reply, weekGridPage(ctx.pageContext(request, reply), sites, null, flash), statusOf(e as ClockfaceError));
    }
  });

  app.get<{ Params: { no: string } }>('/timesheets/employee/:no', async (request, reply) => {
    const q = queryOf(request);
    try {
      const sheet = await onCentral(request, async (client) => {
        let from = q['from'];
        let to = q['to'];
        if (!from || !to) {
          const who = await findEmployee(client, request.params.no);
          from = siteWeekStart(await readSite(client, who.site));
          to = addDays(from, 6);
        }
        // Checked before anything is read: a year asked for by hand would load a year.
        if (datesFromTo(checkedPeriod(from, to).from, to).length > 62) throw new ClockfaceError('INVALID_ARGUMENT', 'show at most 62 days at a time');
        const sheet = await employeeTimesheet(client, request.params.no, { from, to });
        const ids = sheet.days.flatMap((d) => d.punches.map((p) => p.id));
        return { ...sheet, snapshots: await punchesWithSnapshots(client, ids) };
      });
      return sendPage(reply, employeePage(ctx.pageContext(request, reply), sheet, takeFlash(request), sheet.snapshots));
    } catch (e) {
      const flash = refusal(request, e);
      const pc = ctx.pageContext(request, reply);
      return sendPage(reply, weekGridPage(pc, [], null, flash), statusOf(e as ClockfaceError));
    }
  });

  // ---- Corrections --------------------------------------------------------------------------------------------
  const saved = (request: FastifyRequest, outcome: { id: number; status: 'approved' | 'pending' | 'rejected' }): Flash => ({
    kind: 'ok',
    text: t(request.lang, 'correctionSaved', { id: outcome.id, status: t(request.lang, outcome.status) }),
  });

  app.post('/corrections/add', (request, reply) =>
    change(request, reply, async (client, b) =>
      saved(request, await addPunch(client, { employeeNo: b['employeeNo'] ?? '', direction: b['direction'] ?? '', at: b['at'] ?? '', reason: b['reason'] })),
    ),
  );
  app.post('/corrections/move', (request, reply) =>
    change(request, reply, async (client, b) => saved(request, await movePunch(client, { punchId: b['punchId'] ?? '', at: b['at'] ?? '', reason: b['reason'] }))),
  );
  app.post('/corrections/void', (request, reply) =>
    change(request, reply, async (client, b) => saved(request, await voidPunch(client, { punchId: b['punchId'] ?? '', reason: b['reason'] }))),
  );
  app.post<{ Params: { id: string } }>('/corrections/:id/decide', (request, reply) =>
    change(request, reply, async (client, b) => {
      const reason = b['reason']?.trim();
      const outcome = await decideCorrection(client, { id: request.params.id, approve: b['decision'] === 'approve', ...(reason ? { reason } : {}) });
      return saved(request, outcome);
    }),
  );

  app.get('/corrections', async (request, reply) => {
    const q = queryOf(request);
    const pendingOnly = q['status'] !== 'all';
    const rows = await onCentral(request, (client) => listCorrections(client, pendingOnly ? { status: 'pending', limit: 500 } : { limit: 500 }));
    return sendPage(reply, correctionsPage(ctx.pageContext(request, reply), rows, pendingOnly, takeFlash(request)));
  });

  // ---- Audit log ----------------------------------------------------------------------------------------------
  app.get('/audit', async (request, reply) => {
    const q = queryOf(request);
    const filter = { employee: (q['employee'] ?? '').trim(), login: (q['login'] ?? '').trim(), kind: (q['kind'] ?? '').trim() };
    try {
      const rows = await onCentral(request, (client) =>
        readAudit(client, {
          limit: 500,
          ...(filter.employee ? { employeeNo: filter.employee } : {}),
          ...(filter.login ? { login: filter.login } : {}),
          ...(filter.kind ? { kind: filter.kind } : {}),
        }),
      );
      return sendPage(reply, auditPage(ctx.pageContext(request, reply), rows, filter, takeFlash(request)));
    } catch (e) {
      const flash = refusal(request, e);
      return sendPage(reply, auditPage(ctx.pageContext(request, reply), [], filter, flash), statusOf(e as ClockfaceError));
    }
  });

  employeeRoutes(app, ctx);
  enrolRoutes(app, ctx);
  rulesRoutes(app, ctx);
  reportRoutes(app, ctx);
  snapshotRoutes(app, ctx);
  kioskRoutes(app, ctx);
  rosterImportRoutes(app, ctx);
}
