import type { FastifyInstance } from 'fastify';
import { ClockfaceError } from '../../../shared/errors.js';
import { readSites, setSiteRules, showSiteRules } from '../../timesheets/site-settings.js';
import { t } from '../i18n.js';
import { rulesPage } from '../pages/rules.js';
import { change, onCentral, queryOf, refusal, sendPage, statusOf, takeFlash, type Body } from '../route-helpers.js';
import type { ConsoleContext } from '../server.js';

/**
 * The form's fields as the rules file `clockface rules set --replace` takes: numbers where numbers were typed, null
 * for an empty optional field, anything else as typed so that the one validation (the engine's schema) names it.
 */
export function rulesFromForm(b: Body): Record<string, unknown> {
  const value = (name: string): unknown => {
    const raw = (b[name] ?? '').trim();
    if (raw === '') return null;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  };
  const breakAfter = value('breakAfterMinutes');
  return {
    graceLateMinutes: value('graceLateMinutes') ?? 0,
    graceLeftEarlyMinutes: value('graceLeftEarlyMinutes') ?? 0,
    rounding: { toMinutes: value('roundingToMinutes') ?? 0, mode: 'nearest' },
    autoBreak: breakAfter === null ? null : { afterWorkedMinutes: breakAfter, breakMinutes: value('breakMinutes') },
    dailyOvertimeAfterMinutes: value('dailyOvertimeAfterMinutes'),
    weeklyOvertimeAfterMinutes: value('weeklyOvertimeAfterMinutes'),
    weekStartsOn: value('weekStartsOn') ?? 1,
    maxShiftMinutes: value('maxShiftMinutes'),
    lowMarginDistance: value('lowMarginDistance'),
    secondApproval: b['secondApproval'] === '1',
  };
}

/** Rules per site: everyone reads the ones of the sites they may see; IT changes them (central refuses anyone else). */
export function rulesRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/rules', async (request, reply) => {
    const q = queryOf(request);
    const sites = await onCentral(request, async (client) => (await readSites(client)).map((s) => s.site));
    try {
      const site = q['site'] || sites[0];
      const view = site === undefined ? null : await onCentral(request, (client) => showSiteRules(client, site));
      return sendPage(reply, rulesPage(ctx.pageContext(request, reply), sites, view, takeFlash(request)));
    } catch (e) {
      return sendPage(reply, rulesPage(ctx.pageContext(request, reply), sites, null, refusal(request, e)), statusOf(e as ClockfaceError));
    }
  });

  app.post('/rules', (request, reply) => {
    const site = ((request.body as Body | undefined)?.['site'] ?? '').trim();
    return change(
      request,
      reply,
      async (client, b) => {
        await setSiteRules(client, site, { path: 'the form', value: rulesFromForm(b) }, { replace: true });
        return { kind: 'ok', text: t(request.lang, 'rulesSaved', { site }) };
      },
      `/rules?site=${encodeURIComponent(site)}`,
    );
  });
}
