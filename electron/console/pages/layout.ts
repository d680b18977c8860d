import { html, type Html } from '../html.js';
import { t, type Lang, type MessageKey } from '../i18n.js';
import type { ConsoleRole } from '../sessions.js';

export interface PageUser {
  login: string;
  role: ConsoleRole;
}

export interface PageContext {
  lang: Lang;
  /** The CSRF token every form that changes something carries. */
  csrf: string;
  user: PageUser | null;
  embedded: boolean;
  /** The path being shown, for the language switch and the current nav item. */
  path: string;
}

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

/** The menu: each page, and who sees it (central decides what they may do there; the menu only spares them dead ends). */
const NAV: ReadonlyArray<{ href: string; key: MessageKey; roles: readonly ConsoleRole[] }> = [
  { href: '/now', key: 'navNow', roles: ['admin', 'supervisor'] },
  { href: '/timesheets', key: 'navTimesheets', roles: ['admin', 'supervisor'] },
  { href: '/corrections', key: 'navCorrections', roles: ['admin', 'supervisor'] },
  { href: '/employees', key: 'navEmployees', roles: ['admin', 'supervisor'] },
  { href: '/rules', key: 'navRules', roles: ['admin', 'supervisor'] },
  { href: '/reports', key: 'navReports', roles: ['admin', 'supervisor'] },
  { href: '/audit', key: 'navAudit', roles: ['admin', 'supervisor'] },
  { href: '/kiosks', key: 'navKiosks', roles: ['admin'] },
  { href: '/roster-import', key: 'navRosterImport', roles: ['admin'] },
];

/** The hidden field that proves a form came from a page of this console. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

function header(ctx: PageContext): Html {
  const user = ctx.user;
  const other: Lang = ctx.lang === 'en' ? 'zh' : 'en';
  const langSwitch = html`<form method="post" action="/language" class="inline">${csrfField(ctx)}
    <input type="hidden" name="lang" value="${other}"><input type="hidden" name="back" value="${ctx.path}">
    <button type="submit" class="link" lang="${other === 'zh' ? 'zh-CN' : 'en'}">${t(ctx.lang, 'language')}</button></form>`;
  if (!user) return html`<header class="top"><span class="brand">${t(ctx.lang, 'appName')}</span><div class="who">${langSwitch}</div></header>`;
  const current = (href: string) => ctx.path === href || ctx.path.startsWith(`${href}/`);
  return html`<header class="top">
  <span class="brand">${t(ctx.lang, 'appName')}</span>
  <nav aria-label="main"><ul>${NAV.filter((item) => item.roles.includes(user.role)).map(
    ({ href, key }) => html`<li><a href="${href}"${current(href) ? html` aria-current="page"` : ''}>${t(ctx.lang, key)}</a></li>`,
  )}</ul></nav>
  <div class="who"><span>${t(ctx.lang, 'signedInAs')} <strong>${user.login}</strong> (${t(ctx.lang, user.role === 'admin' ? 'roleAdmin' : 'roleSupervisor')})</span>
    ${langSwitch}
    <form method="post" action="/sign-out" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t(ctx.lang, 'signOut')}</button></form>
  </div>
</header>`;
}

/** A whole page: the header, an optional one-line message, the content. No inline script or style (the CSP forbids them). */
export function page(ctx: PageContext, title: string, content: Html, flash?: Flash | null): string {
  return html`<!doctype html>
<html lang="${ctx.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Clockface</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${ctx.lang === 'zh' ? '跳到正文' : 'Skip to content'}</a>
${header(ctx)}
<main id="main">
<h1>${title}</h1>
${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
${ctx.embedded && ctx.user ? html`<p class="note">${t(ctx.lang, 'embeddedNote')}</p>` : ''}
${content}
</main>
</body>
</html>`.text;
}

/** Minutes as h:mm: the CLI's formatting, so that both say the same. */
export { hoursMinutes as hm } from '../../timesheets/timesheet-view.js';
