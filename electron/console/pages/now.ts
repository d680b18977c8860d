import type { SiteNow, RecentPunch } from '../../timesheets/site-week.js';
import { localTime } from '../../timesheets/timesheet-view.js';
import { html, type Html } from '../html.js';
import { t, type Lang } from '../i18n.js';
import type { FleetStatus } from '../../central/kiosk-fleet.js';
import { statusBadges } from './kiosks.js';
import { page, type Flash, type PageContext } from './layout.js';

export interface KioskAttention {
  name: string;
  site: string;
  lastSeenAt: Date | null;
  status: FleetStatus[];
}

/** The part of the Now page the live feed replaces: who is in, the latest punches. Also sent alone (fragment). */
export function nowLive(lang: Lang, sites: SiteNow[], punches: RecentPunch[], zones: ReadonlyMap<string, string>): Html {
  const dir = (d: 'in' | 'out') => html`<span class="dir ${d}">${t(lang, d)}</span>`;
  return html`<section aria-labelledby="in-now"><h2 id="in-now">${t(lang, 'clockedIn')}</h2>
${sites.map(
  (s) => html`<h3>${s.site} <span class="count">${s.clockedIn.length}</span></h3>
${
  s.clockedIn.length === 0
    ? html`<p class="muted">${t(lang, 'nobodyIn')}</p>`
    : html`<ul class="people">${s.clockedIn.map(
        (p) => html`<li><a href="/timesheets/employee/${encodeURIComponent(p.employeeNo)}">${p.fullName}</a> <span class="muted">${p.employeeNo} · ${t(lang, 'since')} ${localTime(p.since, s.timeZone).slice(11)}</span></li>`,
      )}</ul>`
}`,
)}
</section>
<section aria-labelledby="latest"><h2 id="latest">${t(lang, 'latestPunches')}</h2>
${
  punches.length === 0
    ? html`<p class="muted">${t(lang, 'noPunches')}</p>`
    : html`<div class="scroll" tabindex="0" role="region" aria-label="${t(lang, 'latestPunches')}"><table class="punches"><thead><tr><th scope="col">${t(lang, 'time')}</th><th scope="col">${t(lang, 'employee')}</th><th scope="col">${t(lang, 'direction')}</th><th scope="col">${t(lang, 'method')}</th><th scope="col">${t(lang, 'kiosk')}</th></tr></thead>
<tbody>${punches.map(
        (p) => html`<tr data-punch="${p.id}"><td>${localTime(p.punchedAt, zones.get(p.site) ?? 'UTC')}</td><td>${p.fullName} <span class="muted">${p.employeeNo}</span></td><td>${dir(p.direction)}</td><td>${t(lang, p.method)}</td><td>${p.kiosk}</td></tr>`,
      )}</tbody></table></div>`
}
</section>`;
}

export function nowPage(
  ctx: PageContext,
  live: Html,
  kiosks: KioskAttention[] | null,
  flash: Flash | null,
): string {
  const lang = ctx.lang;
  const attention =
    kiosks === null
      ? ''
      : html`<section aria-labelledby="kiosks"><h2 id="kiosks">${t(lang, 'kiosksAttention')}</h2>
${
  kiosks.length === 0
    ? html`<p class="muted">${t(lang, 'kiosksFine')}</p>`
    : html`<ul class="people">${kiosks.map(
        (k) => html`<li>${statusBadges(lang, k.status)} <strong>${k.name}</strong> <span class="muted">${k.site} · ${t(lang, 'lastSeen')} ${k.lastSeenAt ? k.lastSeenAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : t(lang, 'never')}</span></li>`,
      )}</ul><p><a href="/kiosks">${t(lang, 'kiosksTitle')}</a></p>`
}
</section>`;
  return page(
    ctx,
    t(lang, 'nowTitle'),
    html`<p class="live-note" id="live-status" aria-live="polite">${t(lang, 'live')}</p>
<div id="now-live" data-feed="/now/events">${live}</div>
${attention}`,
    flash,
  );
}
