import type { DayFlag } from '../../../shared/timesheet/index.js';
import type { SiteWeek } from '../../timesheets/site-week.js';
import { EXCEPTION_FLAGS } from '../../timesheets/site-week.js';
import type { CorrectionView, DayView, TimesheetView } from '../../timesheets/timesheet-view.js';
import { html, type Html } from '../html.js';
import { t, type Lang, type MessageKey } from '../i18n.js';
import { csrfField, hm, page, type Flash, type PageContext } from './layout.js';

export function flagChips(lang: Lang, flags: readonly DayFlag[]): Html {
  return html`${flags.map(
    (f) => html`<span class="flag ${EXCEPTION_FLAGS.includes(f) ? 'warn' : 'info'}">${t(lang, `flag_${f}` as MessageKey)}</span>`,
  )}`;
}

const weekday = (lang: Lang, day: string) =>
  new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
    new Date(`${day}T12:00:00Z`),
  );

/** People per page of the week grid: a 1,000-person site is ten pages, exceptions on the first. */
export const WEEK_PAGE_SIZE = 100;

export function weekGridPage(ctx: PageContext, sites: string[], week: SiteWeek | null, flash: Flash | null, pageIndex = 0): string {
  const lang = ctx.lang;
  const chooser = html`<form method="get" action="/timesheets" class="row">
  <label for="site">${t(lang, 'chooseSite')}</label>
  <select id="site" name="site">${sites.map((s) => html`<option value="${s}"${week?.site === s ? html` selected` : ''}>${s}</option>`)}</select>
  <input type="hidden" name="week" value="${week?.from ?? ''}">
  <button type="submit">${t(lang, 'show')}</button>
</form>`;
  if (!week) return page(ctx, t(lang, 'timesheetsTitle'), chooser, flash);
  const prev = shift(week.from, -7);
  const next = shift(week.from, 7);
  const q = (day: string) => `/timesheets?site=${encodeURIComponent(week.site)}&week=${day}`;
  const pages = Math.max(1, Math.ceil(week.rows.length / WEEK_PAGE_SIZE));
  const current = Math.min(Math.max(0, pageIndex), pages - 1);
  const rows = week.rows.slice(current * WEEK_PAGE_SIZE, (current + 1) * WEEK_PAGE_SIZE);
  const shown = { ...week, rows };
  const pager =
    pages === 1
      ? ''
      : html`<nav class="row pager" aria-label="${t(lang, 'timesheetsTitle')}"><span>${t(lang, 'showingPeople', { first: current * WEEK_PAGE_SIZE + 1, last: current * WEEK_PAGE_SIZE + rows.length, total: week.rows.length })}</span>
${current > 0 ? html`<a href="${q(week.from)}&amp;page=${current - 1}">${t(lang, 'previousPage')}</a>` : ''}
${current < pages - 1 ? html`<a href="${q(week.from)}&amp;page=${current + 1}">${t(lang, 'nextPage')}</a>` : ''}</nav>`;
  const grid =
    rows.length === 0
      ? html`<p class="muted">${t(lang, 'noEmployees')}</p>`
      : html`<div class="scroll week-grid" tabindex="0" role="region" aria-label="${t(lang, 'timesheetsTitle')}"><table class="grid">
<caption>${week.site} · ${week.from} – ${week.to}. ${t(lang, 'exceptionsFirst')}</caption>
<thead><tr><th scope="col">${t(lang, 'employee')}</th>${week.days.map((d) => html`<th scope="col">${weekday(lang, d)}</th>`)}<th scope="col">${t(lang, 'total')}</th><th scope="col">${t(lang, 'overtime')}</th></tr></thead>
<tbody>${rows.map(
          (r) => html`<tr${r.exceptionDays > 0 ? html` class="exception"` : ''}>
<th scope="row"><a href="/timesheets/employee/${encodeURIComponent(r.employeeNo)}?from=${week.from}&amp;to=${week.to}">${r.fullName}</a><br><span class="muted">${r.employeeNo}</span></th>
${r.days.map(
  (d) => html`<td><a class="cell" href="/timesheets/employee/${encodeURIComponent(r.employeeNo)}?from=${d.day}&amp;to=${d.day}" >${d.roundedMinutes > 0 ? hm(d.roundedMinutes) : d.punches > 0 ? '0:00' : '–'}<span class="sr"> ${r.fullName} ${d.day}</span></a>${flagChips(lang, d.flags)}</td>`,
)}
<td>${hm(r.totalMinutes)}</td><td>${hm(r.overtimeMinutes)}</td></tr>`,
        )}</tbody></table></div>`;
  return page(
    ctx,
    t(lang, 'timesheetsTitle'),
    html`${chooser}
<p class="row"><a href="${q(prev)}">${t(lang, 'previousWeek')}</a> <a href="${q(next)}">${t(lang, 'nextWeek')}</a></p>
${grid}
${rows.length === 0 ? '' : phoneList(lang, shown)}
${pager}`,
    flash,
  );
}

/**
 * The week on a phone (CSS shows it instead of the grid below 600 px): one line per person with the week's total, and
 * each day that needs a look as a link to it, so that a supervisor on the floor sees the exceptions without scrolling
 * sideways through seven columns.
 */
function phoneList(lang: Lang, week: SiteWeek): Html {
  return html`<ul class="week-list" aria-label="${t(lang, 'timesheetsTitle')}">${week.rows.map((r) => {
    const flagged = r.days.filter((d) => d.flags.length > 0);
    return html`<li${r.exceptionDays > 0 ? html` class="exception"` : ''}>
<a href="/timesheets/employee/${encodeURIComponent(r.employeeNo)}?from=${week.from}&amp;to=${week.to}"><strong>${r.fullName}</strong></a> <span class="muted">${r.employeeNo}</span>
<span class="week-total">${t(lang, 'total')} ${hm(r.totalMinutes)}${r.overtimeMinutes > 0 ? html` · ${t(lang, 'overtime')} ${hm(r.overtimeMinutes)}` : ''}</span>
${flagged.length > 0 ? html`<ul class="week-days">${flagged.map((d) => html`<li><a href="/timesheets/employee/${encodeURIComponent(r.employeeNo)}?from=${d.day}&amp;to=${d.day}">${weekday(lang, d.day)}</a> ${flagChips(lang, d.flags)}</li>`)}</ul>` : ''}
</li>`;
  })}</ul>`;
}

function shift(day: string, days: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function correctionRow(lang: Lang, c: CorrectionView, ctx: PageContext, back: string): Html {
  const kind = t(lang, c.kind === 'add' ? 'kindAdd' : c.kind === 'move' ? 'kindMove' : 'kindVoid');
  const decide =
    c.status === 'pending'
      ? html`<form method="post" action="/corrections/${c.id}/decide" class="inline decide">${csrfField(ctx)}
  <input type="hidden" name="back" value="${back}">
  <button type="submit" name="decision" value="approve">${t(lang, 'approve')}</button>
  <button type="submit" name="decision" value="reject" class="secondary">${t(lang, 'reject')}</button></form>`
      : '';
  return html`<tr><td>#${c.id} ${kind}${c.local ? html` ${c.direction ? t(lang, c.direction) : ''} ${c.local.slice(11)}` : ''}</td>
<td>${c.reason}</td><td><span class="status ${c.status}">${t(lang, c.status)}</span></td>
<td>${c.requestedBy}<br><span class="muted">${c.requestedAt.slice(0, 16).replace('T', ' ')} UTC</span></td>
<td>${c.decidedBy ?? ''}${c.decisionReason ? html`<br><span class="muted">${c.decisionReason}</span>` : ''}</td><td>${decide}</td></tr>`;
}

function reasonField(lang: Lang, id: string): Html {
  return html`<label for="${id}">${t(lang, 'reason')}</label><input id="${id}" name="reason" required maxlength="500" aria-describedby="${id}-hint"><small id="${id}-hint">${t(lang, 'reasonHint')}</small>`;
}

function dayBlock(ctx: PageContext, sheet: TimesheetView, d: DayView, back: string, snapshots: ReadonlySet<string>): Html {
  const lang = ctx.lang;
  const punches = html`<table class="punches"><thead><tr><th scope="col">${t(lang, 'time')}</th><th scope="col">${t(lang, 'direction')}</th><th scope="col">${t(lang, 'method')}</th><th scope="col">${t(lang, 'kiosk')}</th><th scope="col"><span class="sr">actions</span></th></tr></thead><tbody>
${d.punches.map(
  (p) => html`<tr><td>${p.local.slice(11)}${p.originalLocal ? html` <span class="muted">(${p.originalLocal.slice(11)})</span>` : ''}</td>
<td><span class="dir ${p.direction}">${t(lang, p.direction)}</span></td>
<td>${p.method ? t(lang, p.method) : t(lang, 'kindAdd')}${p.matchDistance !== null ? html` <span class="muted">${p.matchDistance.toFixed(3)}</span>` : ''}</td>
<td>${p.kiosk ?? ''}${snapshots.has(p.id) ? html`<br><a href="/snapshots/${p.id}">${t(lang, 'viewSnapshot')}</a>` : ''}</td>
<td><details><summary>${t(lang, 'movePunch')} / ${t(lang, 'voidPunch')}</summary>
<form method="post" action="/corrections/move" class="stack">${csrfField(ctx)}<input type="hidden" name="punchId" value="${p.id}"><input type="hidden" name="back" value="${back}">
<label for="m-at-${p.id}">${t(lang, 'at')}</label><input id="m-at-${p.id}" name="at" type="datetime-local" required value="${p.local.replace(' ', 'T').slice(0, 16)}">
${reasonField(lang, `m-r-${p.id}`)}<button type="submit">${t(lang, 'movePunch')}</button></form>
<form method="post" action="/corrections/void" class="stack">${csrfField(ctx)}<input type="hidden" name="punchId" value="${p.id}"><input type="hidden" name="back" value="${back}">
${reasonField(lang, `v-r-${p.id}`)}<button type="submit" class="danger">${t(lang, 'voidPunch')}</button></form>
</details></td></tr>`,
)}
${d.voidedPunches.map(
  (v) => html`<tr class="voided"><td><s>${v.local.slice(11)}</s></td><td>${t(lang, v.direction)}</td><td>${t(lang, 'voided')} (#${v.voidedBy})</td><td>${v.kiosk ?? ''}</td><td></td></tr>`,
)}
</tbody></table>`;
  return html`<section class="day" aria-labelledby="day-${d.day}">
<h2 id="day-${d.day}">${weekday(lang, d.day)} <span class="muted">${d.day}</span> ${flagChips(lang, d.flags)}</h2>
<dl class="totals"><div><dt>${t(lang, 'worked')}</dt><dd>${hm(d.workedMinutes)}</dd></div><div><dt>${t(lang, 'breakDeducted')}</dt><dd>${hm(d.breakMinutes)}</dd></div>
<div><dt>${t(lang, 'paid')}</dt><dd>${hm(d.roundedMinutes)}</dd></div><div><dt>${t(lang, 'regular')}</dt><dd>${hm(d.regularMinutes)}</dd></div><div><dt>${t(lang, 'overtime')}</dt><dd>${hm(d.overtimeMinutes)}</dd></div></dl>
${d.punches.length + d.voidedPunches.length > 0 ? html`<div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'punches')} ${d.day}">${punches}</div>` : ''}
${
  d.corrections.length > 0
    ? html`<h3>${t(lang, 'corrections')}</h3><div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'corrections')} ${d.day}"><table><thead><tr><th scope="col">#</th><th scope="col">${t(lang, 'reason')}</th><th scope="col">${t(lang, 'status')}</th><th scope="col">${t(lang, 'requestedBy')}</th><th scope="col">${t(lang, 'decidedBy')}</th><th scope="col"><span class="sr">actions</span></th></tr></thead>
<tbody>${d.corrections.map((c) => correctionRow(lang, c, ctx, back))}</tbody></table></div>`
    : ''
}
<details><summary>${t(lang, 'addPunch')}</summary>
<form method="post" action="/corrections/add" class="stack">${csrfField(ctx)}<input type="hidden" name="employeeNo" value="${sheet.employeeNo}"><input type="hidden" name="back" value="${back}">
<fieldset><legend>${t(lang, 'direction')}</legend>
<label><input type="radio" name="direction" value="in" required> ${t(lang, 'in')}</label>
<label><input type="radio" name="direction" value="out"> ${t(lang, 'out')}</label></fieldset>
<label for="a-at-${d.day}">${t(lang, 'at')}</label><input id="a-at-${d.day}" name="at" type="datetime-local" required value="${d.day}T17:00">
${reasonField(lang, `a-r-${d.day}`)}<button type="submit">${t(lang, 'addPunch')}</button></form></details>
</section>`;
}

export function employeePage(ctx: PageContext, sheet: TimesheetView, flash: Flash | null, snapshots: ReadonlySet<string> = new Set()): string {
  const lang = ctx.lang;
  const back = `/timesheets/employee/${encodeURIComponent(sheet.employeeNo)}?from=${sheet.from}&to=${sheet.to}`;
  const tt = sheet.totals;
  return page(
    ctx,
    `${sheet.fullName} (${sheet.employeeNo})`,
    html`<p><a href="/timesheets?site=${encodeURIComponent(sheet.site)}&amp;week=${sheet.from}">${t(lang, 'back')}</a> · ${sheet.site} · ${sheet.from} – ${sheet.to} · ${sheet.timeZone}</p>
<dl class="totals"><div><dt>${t(lang, 'paid')}</dt><dd>${hm(tt.roundedMinutes)}</dd></div><div><dt>${t(lang, 'regular')}</dt><dd>${hm(tt.regularMinutes)}</dd></div><div><dt>${t(lang, 'overtime')}</dt><dd>${hm(tt.overtimeMinutes)}</dd></div></dl>
${sheet.days.map((d) => dayBlock(ctx, sheet, d, back, snapshots))}`,
    flash,
  );
}
