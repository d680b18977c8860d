import type { EmployeeDetails } from '../../roster/employee-admin.js';
import type { RecentPunch } from '../../timesheets/site-week.js';
import { localTime } from '../../timesheets/timesheet-view.js';
import { html, type Html } from '../html.js';
import { t, type Lang } from '../i18n.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

function statusOf(lang: Lang, e: EmployeeDetails): Html {
  const status = e.erasedAt ? 'erased' : e.active ? 'active' : 'inactive';
  return html`<span class="status ${status}">${t(lang, status)}</span>`;
}

export function employeesPage(ctx: PageContext, rows: EmployeeDetails[], filter: { q: string; inactive: boolean }, flash: Flash | null): string {
  const lang = ctx.lang;
  const form = html`<form method="get" action="/employees" class="row" role="search">
<label for="q">${t(lang, 'search')}</label><input id="q" name="q" value="${filter.q}" placeholder="${t(lang, 'searchHint')}" autocapitalize="none" spellcheck="false">
<label><input type="checkbox" name="inactive" value="1"${filter.inactive ? html` checked` : ''}> ${t(lang, 'includeInactive')}</label>
<button type="submit">${t(lang, 'search')}</button></form>`;
  const list =
    rows.length === 0
      ? html`<p class="muted">${t(lang, 'noMatches')}</p>`
      : html`<ul class="people">${rows.map(
          (e) => html`<li><a href="/employees/${encodeURIComponent(e.employeeNo)}"><strong>${e.fullName}</strong></a> <span class="muted">${e.employeeNo} · ${e.site}${e.department ? ` · ${e.department}` : ''}</span> ${statusOf(lang, e)}</li>`,
        )}</ul>`;
  return page(ctx, t(lang, 'employeesTitle'), html`${form}${list}`, flash);
}

export function employeePage(ctx: PageContext, e: EmployeeDetails, punches: RecentPunch[], timeZone: string, flash: Flash | null): string {
  const lang = ctx.lang;
  const admin = ctx.user?.role === 'admin';
  const back = `/employees/${encodeURIComponent(e.employeeNo)}`;
  const facts = html`<dl class="facts">
<div><dt>${t(lang, 'statusLabel')}</dt><dd>${statusOf(lang, e)}</dd></div>
<div><dt>${t(lang, 'site')}</dt><dd>${e.site}</dd></div>
${e.department ? html`<div><dt>${t(lang, 'department')}</dt><dd>${e.department}</dd></div>` : ''}
<div><dt>${t(lang, 'templates')}</dt><dd>${e.templates === null ? t(lang, 'notVisible') : e.templates}</dd></div>
<div><dt>${t(lang, 'pinLabel')}</dt><dd>${e.pinSet === null ? t(lang, 'notVisible') : t(lang, e.pinSet ? 'pinSet' : 'pinNone')}</dd></div>
</dl>
<p><a href="/timesheets/employee/${encodeURIComponent(e.employeeNo)}">${t(lang, 'timesheetLink')}</a></p>`;
  const last =
    punches.length === 0
      ? html`<p class="muted">${t(lang, 'noPunches')}</p>`
      : html`<ul class="people">${punches.map(
          (p) => html`<li><span class="dir ${p.direction}">${t(lang, p.direction)}</span> ${localTime(p.punchedAt, timeZone)} <span class="muted">${t(lang, p.method)} · ${p.kiosk}</span></li>`,
        )}</ul>`;
  const actions = admin
    ? html`<section aria-labelledby="actions"><h2 id="actions" class="sr">${t(lang, 'statusLabel')}</h2>
<form method="post" action="${back}/${e.active ? 'deactivate' : 'activate'}" class="row">${csrfField(ctx)}
<button type="submit" class="secondary">${t(lang, e.active ? 'deactivate' : 'activate')}</button></form>
${
  e.erasedAt
    ? ''
    : html`<details class="danger-zone"><summary>${t(lang, 'eraseTitle')}</summary>
<p>${t(lang, 'eraseExplain')}</p>
<form method="post" action="${back}/erase" class="stack">${csrfField(ctx)}
<label for="confirm">${t(lang, 'eraseConfirm', { no: e.employeeNo })}</label>
<input id="confirm" name="confirm" required autocomplete="off" autocapitalize="none" spellcheck="false">
<button type="submit" class="danger">${t(lang, 'eraseButton')}</button></form></details>`
}</section>
${e.erasedAt ? '' : enrolForm(ctx, e.employeeNo)}`
    : '';
  return page(
    ctx,
    `${e.fullName} (${e.employeeNo})`,
    html`<p><a href="/employees">${t(lang, 'back')}</a></p>${facts}
<section aria-labelledby="last"><h2 id="last">${t(lang, 'lastPunches')}</h2>${last}</section>
${actions}`,
    flash,
  );
}

/** IT's form on a person's page: photos from the browser (a phone's camera too), checked like an import. */
export function enrolForm(ctx: PageContext, employeeNo: string): Html {
  const lang = ctx.lang;
  // A multipart body is not read before the CSRF check, so the token rides in the action's query (server.ts).
  const action = `/employees/${encodeURIComponent(employeeNo)}/enrol?_csrf=${encodeURIComponent(ctx.csrf)}`;
  return html`<section aria-labelledby="enrol"><h2 id="enrol">${t(lang, 'enrolTitle')}</h2>
<p>${t(lang, 'enrolIntro')}</p>
<form method="post" action="${action}" enctype="multipart/form-data" class="stack">
<label for="enrol-photos">${t(lang, 'enrolPhotos')}</label>
<input type="file" id="enrol-photos" name="photos" accept="image/jpeg,image/png,image/webp,image/tiff" multiple required>
<button type="submit">${t(lang, 'enrolButton')}</button></form></section>`;
}

export function enrolResultPage(
  ctx: PageContext,
  employee: { employeeNo: string; fullName: string },
  outcomes: ReadonlyArray<{ photo: string; status: 'added' | 'already-enrolled' | 'refused'; sentence: string | null; detail: string | null }>,
): string {
  const lang = ctx.lang;
  const status = { added: 'enrolAdded', 'already-enrolled': 'enrolAlready', refused: 'enrolRefused' } as const;
  return page(
    ctx,
    t(lang, 'enrolResultTitle', { name: employee.fullName }),
    html`<p><a href="/employees/${encodeURIComponent(employee.employeeNo)}">${t(lang, 'back')}</a></p>
<div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'enrolTitle')}"><table><thead><tr><th scope="col">${t(lang, 'photo')}</th><th scope="col">${t(lang, 'result')}</th><th scope="col">${t(lang, 'reason')}</th></tr></thead><tbody>
${outcomes.map(
  (o) => html`<tr><td>${o.photo}</td><td><span class="status ${o.status === 'refused' ? 'rejected' : 'approved'}">${t(lang, status[o.status])}</span></td><td>${o.sentence ?? ''}${o.detail ? html` <span class="muted">(${o.detail})</span>` : ''}</td></tr>`,
)}</tbody></table></div>`,
  );
}
