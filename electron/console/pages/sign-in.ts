import { html } from '../html.js';
import { t } from '../i18n.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

export function signInPage(ctx: PageContext, flash: Flash | null, login = ''): string {
  return page(
    ctx,
    t(ctx.lang, 'signIn'),
    html`<p>${t(ctx.lang, 'signInIntro')}</p>
${ctx.embedded ? html`<p class="note">${t(ctx.lang, 'embeddedNote')}</p>` : ''}
<form method="post" action="/sign-in" class="stack narrow">${csrfField(ctx)}
  <label for="login">${t(ctx.lang, 'login')}</label>
  <input id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${login}">
  <label for="password">${t(ctx.lang, 'password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">${t(ctx.lang, 'signIn')}</button>
</form>`,
    flash,
  );
}

export function setupPage(ctx: PageContext, flash: Flash | null): string {
  return page(
    ctx,
    t(ctx.lang, 'setupTitle'),
    html`<p>${t(ctx.lang, 'setupIntro')}</p>
<p class="note">${t(ctx.lang, 'embeddedNote')}</p>
<form method="post" action="/setup" class="stack narrow">${csrfField(ctx)}
  <label for="login">${t(ctx.lang, 'login')}</label>
  <input id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required pattern="[a-z][a-z0-9._\\-]{1,62}">
  <label for="password">${t(ctx.lang, 'password')}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
  <button type="submit">${t(ctx.lang, 'submit')}</button>
</form>`,
    flash,
  );
}
