import type { FleetStatus, FleetThresholds, KioskListing } from '../../central/kiosk-fleet.js';
import { html, type Html } from '../html.js';
import { t, type Lang, type MessageKey } from '../i18n.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

const STATUS_KEY: Record<FleetStatus, MessageKey> = {
  offline: 'fleetOffline',
  backlog: 'fleetBacklog',
  stale_roster: 'fleetStaleRoster',
  ok: 'fleetOk',
  revoked: 'fleetRevoked',
};

/** A kiosk's statuses as badges (the colour says the same as the word, never alone). */
export function statusBadges(lang: Lang, status: readonly FleetStatus[]): Html {
  return html`${status.map((s) => html`<span class="badge fleet-${s}">${t(lang, STATUS_KEY[s])}</span>`)}`;
}

/** "5 min ago", from central's clock at the listing (the statuses were judged at the same instant). */
function ago(lang: Lang, at: Date | null, now: Date): Html {
  if (at === null) return html`<span class="muted">${t(lang, 'never')}</span>`;
  const seconds = Math.max(0, Math.floor((now.getTime() - at.getTime()) / 1000));
  const minutes = Math.floor(seconds / 60);
  // Seconds while they matter: a kiosk offline after a short silence must not read "just now".
  const text =
    minutes < 1
      ? t(lang, 'agoSeconds', { n: seconds })
      : minutes < 120
        ? t(lang, 'agoMinutes', { n: minutes })
        : minutes < 48 * 60
          ? t(lang, 'agoHours', { n: Math.floor(minutes / 60) })
          : t(lang, 'agoDays', { n: Math.floor(minutes / 1440) });
  return html`<time datetime="${at.toISOString()}" title="${at.toISOString().slice(0, 16).replace('T', ' ')} UTC">${text}</time>`;
}

const dash = html`<span class="muted">–</span>`;

/** What the kiosk has waiting: the count, and how long the oldest has waited. */
function waiting(lang: Lang, k: KioskListing): Html {
  if (k.pendingPunches === null) return dash;
  if (k.pendingPunches === 0) return html`0`;
  const refused = k.refusedPunches ? html` <span class="muted">(${t(lang, 'fleetRefused', { n: k.refusedPunches })})</span>` : '';
  const oldest = k.oldestPendingAt ? html`<br><span class="muted">${t(lang, 'fleetOldest')} ${ago(lang, k.oldestPendingAt, k.checkedAt)}</span>` : '';
  return html`${k.pendingPunches}${refused}${oldest}`;
}

function roster(lang: Lang, k: KioskListing): Html {
  if (k.rosterSyncedAt === null && k.rosterWatermark === null) return dash;
  const behind = k.rosterBehindSince ? html`<br><span class="muted">${t(lang, 'fleetUnreadSince')} ${ago(lang, k.rosterBehindSince, k.checkedAt)}</span>` : '';
  return html`${ago(lang, k.rosterSyncedAt, k.checkedAt)}<br><span class="muted">${t(lang, 'fleetWatermark')} ${k.rosterWatermark ?? '–'}</span>${behind}`;
}

function revokeLink(lang: Lang, k: KioskListing): Html | '' {
  if (k.revokedAt !== null || k.droppedAt !== null) return '';
  return html`<a href="/kiosks/${encodeURIComponent(k.name)}/revoke">${t(lang, 'kioskRevoke')}<span class="sr"> ${k.name}</span></a>`;
}

function table(lang: Lang, kiosks: readonly KioskListing[]): Html {
  const th = (key: MessageKey) => html`<th scope="col">${t(lang, key)}</th>`;
  return html`<div class="scroll fleet-table" tabindex="0" role="region" aria-label="${t(lang, 'kiosksTitle')}"><table>
<caption>${t(lang, 'fleetProblemsFirst')}</caption>
<thead><tr>${th('fleetStatus')}${th('kiosk')}${th('fleetLastSeen')}${th('fleetWaiting')}${th('fleetRoster')}${th('fleetTemplates')}${th('fleetEngine')}${th('fleetVersion')}${th('fleetLastError')}<th scope="col"><span class="sr">${t(lang, 'fleetActions')}</span></th></tr></thead>
<tbody>${kiosks.map(
    (k) => html`<tr data-kiosk="${k.name}">
<td>${statusBadges(lang, k.status)}</td>
<th scope="row">${k.name}<br><span class="muted">${k.site}</span>${k.loginProblem ? html`<br><span class="warn-text">${k.loginProblem}</span>` : ''}</th>
<td>${ago(lang, k.lastSeenAt, k.checkedAt)}</td>
<td>${waiting(lang, k)}</td>
<td>${roster(lang, k)}</td>
<td>${k.templatesCached ?? dash}</td>
<td>${k.vectorEngine ?? dash}</td>
<td>${k.appVersion ?? dash}</td>
<td>${k.lastUploadError ? html`<code>${k.lastUploadError}</code>` : dash}</td>
<td>${revokeLink(lang, k)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

/**
 * The fleet on a phone (CSS shows it instead of the table below 600 px): one block per kiosk, its statuses first, then
 * only the facts that say something, so that IT on the floor sees which kiosk to walk to without scrolling sideways.
 */
function phoneList(lang: Lang, kiosks: readonly KioskListing[]): Html {
  const fact = (key: MessageKey, value: Html | string | number) => html`<div><dt>${t(lang, key)}</dt><dd>${value}</dd></div>`;
  return html`<ul class="fleet-list" aria-label="${t(lang, 'kiosksTitle')}">${kiosks.map(
    (k) => html`<li data-kiosk="${k.name}">
<p>${statusBadges(lang, k.status)} <strong>${k.name}</strong> <span class="muted">${k.site}</span></p>
<dl class="fleet-facts">${fact('fleetLastSeen', ago(lang, k.lastSeenAt, k.checkedAt))}${fact('fleetWaiting', waiting(lang, k))}${fact('fleetRoster', roster(lang, k))}
${fact('fleetSoftware', html`${k.templatesCached ?? '–'} · ${k.vectorEngine ?? '–'} · ${k.appVersion ?? '–'}`)}${k.lastUploadError ? fact('fleetLastError', html`<code>${k.lastUploadError}</code>`) : ''}</dl>
${k.loginProblem ? html`<p class="warn-text">${k.loginProblem}</p>` : ''}
${revokeLink(lang, k)}
</li>`,
  )}</ul>`;
}

function addForm(ctx: PageContext, sites: readonly string[]): Html {
  const lang = ctx.lang;
  return html`<section aria-labelledby="add-kiosk"><h2 id="add-kiosk">${t(lang, 'kioskAdd')}</h2>
<form method="post" action="/kiosks/add" class="stack">${csrfField(ctx)}
<label for="kiosk-name">${t(lang, 'kioskName')}</label>
<input id="kiosk-name" name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}" autocomplete="off" aria-describedby="kiosk-name-hint">
<small id="kiosk-name-hint">${t(lang, 'kioskNameHint')}</small>
<label for="kiosk-site">${t(lang, 'site')}</label>
<select id="kiosk-site" name="site" required>${sites.map((s) => html`<option value="${s}">${s}</option>`)}</select>
<label for="kiosk-pooler">${t(lang, 'kioskPooler')}</label>
<input id="kiosk-pooler" name="pooler" type="url" autocomplete="off" placeholder="postgres://pgbouncer.example.org:6432/clockface" aria-describedby="kiosk-pooler-hint">
<small id="kiosk-pooler-hint">${t(lang, 'kioskPoolerHint')}</small>
<button type="submit">${t(lang, 'kioskAdd')}</button>
</form></section>`;
}

export function kiosksPage(ctx: PageContext, kiosks: readonly KioskListing[], sites: readonly string[], thresholds: FleetThresholds, flash: Flash | null): string {
  const lang = ctx.lang;
  const minutes = (s: number) => Math.round(s / 60);
  const list =
    kiosks.length === 0
      ? html`<p class="muted">${t(lang, 'fleetNone')}</p>`
      : html`${table(lang, kiosks)}${phoneList(lang, kiosks)}`;
  return page(
    ctx,
    t(lang, 'kiosksTitle'),
    html`<p class="muted">${t(lang, 'fleetExplain', { missed: thresholds.missedHeartbeats, backlog: minutes(thresholds.backlogAfterS), roster: minutes(thresholds.rosterStaleAfterS) })}</p>
${list}
${addForm(ctx, sites)}`,
    flash,
  );
}

/** The new kiosk's settings, shown this once: central keeps only a verifier of its password. */
export function kioskAddedPage(ctx: PageContext, added: { name: string; site: string; settingsJson: string; downloadToken: string }): string {
  const lang = ctx.lang;
  const file = `kiosk-${added.name}.json`;
  return page(
    ctx,
    t(lang, 'kioskAddedTitle', { name: added.name }),
    html`<p class="flash ok" role="status">${t(lang, 'kioskAdded', { name: added.name, site: added.site })}</p>
<p><strong>${t(lang, 'kioskSettingsOnce')}</strong></p>
<p><a class="button" href="/kiosks/settings/${added.downloadToken}" download="${file}">${t(lang, 'kioskDownload', { file })}</a></p>
<label for="kiosk-settings">${t(lang, 'kioskSettings')}</label>
<textarea id="kiosk-settings" readonly rows="9" spellcheck="false">${added.settingsJson}</textarea>
<p>${t(lang, 'kioskInitHint')} <code>clockface kiosk init --settings ${file}</code></p>
<p><a href="/kiosks">${t(lang, 'back')}</a></p>`,
  );
}

/** Revoking: the kiosk's name typed again, so that a slip on the wrong row revokes nothing. */
export function kioskRevokePage(ctx: PageContext, kiosk: KioskListing, flash: Flash | null): string {
  const lang = ctx.lang;
  return page(
    ctx,
    t(lang, 'kioskRevokeTitle', { name: kiosk.name }),
    html`<p>${t(lang, 'kioskRevokeExplain')}</p>
<p>${statusBadges(lang, kiosk.status)} <strong>${kiosk.name}</strong> <span class="muted">${kiosk.site}</span></p>
<form method="post" action="/kiosks/${encodeURIComponent(kiosk.name)}/revoke" class="stack">${csrfField(ctx)}
<label for="confirm">${t(lang, 'kioskRevokeConfirm', { name: kiosk.name })}</label>
<input id="confirm" name="confirm" required autocomplete="off" spellcheck="false">
<button type="submit" class="danger">${t(lang, 'kioskRevoke')}</button>
</form>
<p><a href="/kiosks">${t(lang, 'back')}</a></p>`,
    flash,
  );
}
