import { html } from '../html.js';
import { t } from '../i18n.js';
import { page, type Flash, type PageContext } from './layout.js';

/** Reports: a period and a site, then the downloads (plain GET links: a download changes nothing). */
export function reportsPage(ctx: PageContext, sites: string[], period: { from: string; to: string; site: string }, flash: Flash | null): string {
  const lang = ctx.lang;
  const q = `from=${encodeURIComponent(period.from)}&to=${encodeURIComponent(period.to)}${period.site ? `&site=${encodeURIComponent(period.site)}` : ''}`;
  return page(
    ctx,
    t(lang, 'reportsTitle'),
    html`<form method="get" action="/reports" class="row">
<label for="from">${t(lang, 'from')}</label><input id="from" name="from" type="date" value="${period.from}" required>
<label for="to">${t(lang, 'to')}</label><input id="to" name="to" type="date" value="${period.to}" required>
<label for="site">${t(lang, 'chooseSite')}</label>
<select id="site" name="site"><option value="">${t(lang, 'allSites')}</option>${sites.map((s) => html`<option value="${s}"${period.site === s ? html` selected` : ''}>${s}</option>`)}</select>
<button type="submit">${t(lang, 'show')}</button></form>
<p>${t(lang, 'reportsIntro')}</p>
<section aria-labelledby="payroll"><h2 id="payroll">${t(lang, 'payrollExport')}</h2>
<p class="row"><a class="button" href="/reports/payroll.csv?${q}" download>${t(lang, 'downloadCsv')}</a> <a class="button secondary" href="/reports/payroll.json?${q}" download>${t(lang, 'downloadJson')}</a></p></section>
<section aria-labelledby="daily"><h2 id="daily">${t(lang, 'dailyExport')}</h2>
<p class="row"><a class="button" href="/reports/daily.csv?${q}" download>${t(lang, 'downloadCsv')}</a> <a class="button secondary" href="/reports/daily.json?${q}" download>${t(lang, 'downloadJson')}</a></p></section>`,
    flash,
  );
}
