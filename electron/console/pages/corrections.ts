import type { AuditEntry } from '../../timesheets/audit.js';
import type { CorrectionListing } from '../../timesheets/corrections.js';
import { localTime } from '../../timesheets/timesheet-view.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

export function correctionsPage(ctx: PageContext, rows: CorrectionListing[], pendingOnly: boolean, flash: Flash | null): string {
  const lang = ctx.lang;
  const at = (r: CorrectionListing) => (r.at ? localTime(new Date(r.at), r.timeZone) : r.punchAt ? localTime(new Date(r.punchAt), r.timeZone) : '');
  const list =
    rows.length === 0
      ? html`<p class="muted">${t(lang, 'noCorrections')}</p>`
      : html`<div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'correctionsTitle')}"><table><thead><tr><th scope="col">#</th><th scope="col">${t(lang, 'employee')}</th><th scope="col">${t(lang, 'time')}</th><th scope="col">${t(lang, 'reason')}</th><th scope="col">${t(lang, 'status')}</th><th scope="col">${t(lang, 'requestedBy')}</th><th scope="col"><span class="sr">actions</span></th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td>#${r.id} ${t(lang, r.kind === 'add' ? 'kindAdd' : r.kind === 'move' ? 'kindMove' : 'kindVoid')}</td>
<td><a href="/timesheets/employee/${encodeURIComponent(r.employeeNo)}?from=${at(r).slice(0, 10)}&amp;to=${at(r).slice(0, 10)}">${r.fullName}</a> <span class="muted">${r.employeeNo} · ${r.site}</span></td>
<td>${r.direction ? t(lang, r.direction) : ''} ${at(r)}</td><td>${r.reason}</td><td><span class="status ${r.status}">${t(lang, r.status)}</span></td><td>${r.requestedBy}</td>
<td>${
    r.status === 'pending'
      ? html`<form method="post" action="/corrections/${r.id}/decide" class="inline decide">${csrfField(ctx)}<input type="hidden" name="back" value="/corrections">
<button type="submit" name="decision" value="approve">${t(lang, 'approve')}</button> <button type="submit" name="decision" value="reject" class="secondary">${t(lang, 'reject')}</button></form>`
      : r.decidedBy ?? ''
  }</td></tr>`,
)}</tbody></table></div>`;
  return page(
    ctx,
    t(lang, 'correctionsTitle'),
    html`<p class="row"><a href="/corrections"${pendingOnly ? html` aria-current="true"` : ''}>${t(lang, 'pendingOnly')}</a> <a href="/corrections?status=all"${pendingOnly ? '' : html` aria-current="true"`}>${t(lang, 'all')}</a></p>
${list}`,
    flash,
  );
}

export function auditPage(ctx: PageContext, rows: AuditEntry[], filter: { employee: string; login: string; kind: string }, flash: Flash | null): string {
  const lang = ctx.lang;
  const form = html`<form method="get" action="/audit" class="row">
<label for="f-employee">${t(lang, 'employee')}</label><input id="f-employee" name="employee" value="${filter.employee}" size="10">
<label for="f-login">${t(lang, 'auditLogin')}</label><input id="f-login" name="login" value="${filter.login}" size="12">
<label for="f-kind">${t(lang, 'auditKind')}</label><input id="f-kind" name="kind" value="${filter.kind}" size="14" placeholder="correction">
<button type="submit">${t(lang, 'filter')}</button></form>`;
  const list =
    rows.length === 0
      ? html`<p class="muted">${t(lang, 'noAudit')}</p>`
      : html`<div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'auditTitle')}"><table><thead><tr><th scope="col">${t(lang, 'time')}</th><th scope="col">${t(lang, 'auditLogin')}</th><th scope="col">${t(lang, 'auditKind')}</th><th scope="col">${t(lang, 'employee')}</th><th scope="col">${t(lang, 'auditSubject')}</th><th scope="col">${t(lang, 'reason')}</th></tr></thead><tbody>
${[...rows].reverse().map(
  (r) => html`<tr><td>${r.at.slice(0, 19).replace('T', ' ')} UTC</td><td>${r.login}</td><td>${r.kind}</td><td>${r.employeeNo ?? ''}</td><td>${r.subject ?? ''}</td><td>${r.reason ?? ''}</td></tr>`,
)}</tbody></table></div>`;
  return page(ctx, t(lang, 'auditTitle'), html`${form}${list}`, flash);
}
