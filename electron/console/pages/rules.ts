import type { SiteRulesView } from '../../timesheets/site-settings.js';
import { html, type Html } from '../html.js';
import { t, type MessageKey } from '../i18n.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

const num = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

export function rulesPage(ctx: PageContext, sites: string[], view: SiteRulesView | null, flash: Flash | null): string {
  const lang = ctx.lang;
  const chooser = html`<form method="get" action="/rules" class="row">
<label for="site">${t(lang, 'chooseSite')}</label>
<select id="site" name="site">${sites.map((s) => html`<option value="${s}"${view?.site === s ? html` selected` : ''}>${s}</option>`)}</select>
<button type="submit">${t(lang, 'show')}</button></form>`;
  if (!view) return page(ctx, t(lang, 'rulesTitle'), chooser, flash);
  const r = view.rules;
  const admin = ctx.user?.role === 'admin';
  const field = (name: string, key: MessageKey, value: string, extra: Html | string = '') =>
    html`<label for="r-${name}">${t(lang, key)}</label><input id="r-${name}" name="${name}" inputmode="decimal" value="${value}"${extra}${admin ? '' : html` readonly`}>`;
  const days = t(lang, 'weekdays').split(',');
  const form = html`<form method="post" action="/rules" class="stack">${csrfField(ctx)}<input type="hidden" name="site" value="${view.site}">
${field('graceLateMinutes', 'graceLate', num(r.graceLateMinutes))}
${field('graceLeftEarlyMinutes', 'graceEarly', num(r.graceLeftEarlyMinutes))}
<label for="r-rounding">${t(lang, 'roundTo')}</label>
<select id="r-rounding" name="roundingToMinutes"${admin ? '' : html` disabled`}>${[0, 5, 6, 10, 15].map((m) => html`<option value="${m}"${r.rounding.toMinutes === m ? html` selected` : ''}>${m}</option>`)}</select>
${field('breakAfterMinutes', 'breakAfter', num(r.autoBreak?.afterWorkedMinutes))}
${field('breakMinutes', 'breakLength', num(r.autoBreak?.breakMinutes))}
${field('dailyOvertimeAfterMinutes', 'dailyOvertime', num(r.dailyOvertimeAfterMinutes))}
${field('weeklyOvertimeAfterMinutes', 'weeklyOvertime', num(r.weeklyOvertimeAfterMinutes))}
<label for="r-week">${t(lang, 'weekStart')}</label>
<select id="r-week" name="weekStartsOn"${admin ? '' : html` disabled`}>${days.map((d, i) => html`<option value="${i}"${r.weekStartsOn === i ? html` selected` : ''}>${d}</option>`)}</select>
${field('maxShiftMinutes', 'maxShift', num(r.maxShiftMinutes))}
${field('lowMarginDistance', 'lowMargin', num(r.lowMarginDistance))}
<label><input type="checkbox" name="secondApproval" value="1"${view.secondApproval ? html` checked` : ''}${admin ? '' : html` disabled`}> ${t(lang, 'secondApproval')}</label>
${admin ? html`<button type="submit">${t(lang, 'submit')}</button>` : html`<p class="note">${t(lang, 'rulesReadOnly')}</p>`}
</form>`;
  return page(
    ctx,
    t(lang, 'rulesTitle'),
    html`${chooser}<h2>${view.site} <span class="muted">${view.timeZone}</span></h2>
${view.updatedBy ? html`<p class="muted">${t(lang, 'updatedBy', { login: view.updatedBy, at: (view.updatedAt ?? '').slice(0, 16).replace('T', ' ') + ' UTC' })}</p>` : ''}
${form}`,
    flash,
  );
}
