import type { ErrorCode } from '../../../shared/errors.js';
import type { ImportSummary, RowOutcome, RowResult } from '../../roster/import-roster.js';
import type { RowErrorCode } from '../../roster/roster-csv.js';
import type { MirrorSummary } from '../../roster/roster-mirror.js';
import { html, type Html } from '../html.js';
import { errorText, t, type Lang, type MessageKey } from '../i18n.js';
import type { ImportJob } from '../import-jobs.js';
import { csrfField, page, type Flash, type PageContext } from './layout.js';

/**
 * The roster import pages (IT only): the upload form, the progress of a preview or an apply, the preview with its
 * apply button, and the outcome. Every word from i18n.ts; every value through `html`, which escapes it.
 */

export interface UploadDefaults {
  mirror: boolean;
  maxSharePercent: number;
  allowDuplicateFace: boolean;
}

export interface UploadLimits {
  csvMb: number;
  zipMb: number;
  unzippedMb: number;
}

const OUTCOME_KEY: Record<RowOutcome, MessageKey> = {
  created: 'importOutcomeCreated',
  updated: 'importOutcomeUpdated',
  unchanged: 'importOutcomeUnchanged',
  failed: 'importOutcomeFailed',
};

export const ROW_ERROR_KEY: Record<RowErrorCode, MessageKey> = {
  MISSING_EMPLOYEE_NO: 'rowMissingEmployeeNo',
  INVALID_EMPLOYEE_NO: 'rowInvalidEmployeeNo',
  MISSING_NAME: 'rowMissingName',
  INVALID_FIELD: 'rowInvalidField',
  INVALID_SITE: 'rowInvalidSite',
  INVALID_PIN: 'rowInvalidPin',
  DUPLICATE_IN_FILE: 'rowDuplicateInFile',
  WRONG_COLUMN_COUNT: 'rowWrongColumnCount',
  PHOTOS_WITHOUT_FOLDER: 'rowPhotosWithoutZip',
  PHOTO_OUTSIDE_FOLDER: 'rowPhotoOutside',
  PHOTO_MISSING: 'rowPhotoMissing',
  PHOTO_UNREADABLE: 'rowPhotoUnreadable',
  NO_FACE: 'rowNoFace',
  MULTIPLE_FACES: 'rowMultipleFaces',
  POOR_QUALITY: 'rowPoorQuality',
  DUPLICATE_FACE: 'rowDuplicateFace',
  DATABASE_REFUSED: 'rowDatabaseRefused',
};

const jobPath = (job: ImportJob) => `/roster-import/${encodeURIComponent(job.id)}`;

export function uploadPage(ctx: PageContext, limits: UploadLimits, defaults: UploadDefaults, current: ImportJob | null, flash: Flash | null): string {
  const lang = ctx.lang;
  // An upload still to be applied (or running) is pointed to; an applied or failed one is history.
  const waiting = current && current.phase !== 'applied' && current.phase !== 'failed' ? current : null;
  // A multipart body is not read before the CSRF check, so the token rides in the action's query (server.ts).
  const action = `/roster-import/upload?_csrf=${encodeURIComponent(ctx.csrf)}`;
  const checked = (on: boolean) => (on ? html` checked` : '');
  return page(
    ctx,
    t(lang, 'importTitle'),
    html`${waiting ? html`<p class="note">${t(lang, waiting.phase === 'previewed' ? 'importWaiting' : 'importRunning')} <a href="${jobPath(waiting)}">${t(lang, 'importSeeWaiting')}</a></p>` : ''}
<p>${t(lang, 'importIntro')}</p>
<form method="post" action="${action}" enctype="multipart/form-data" class="stack import-form">
<label for="import-csv">${t(lang, 'importCsv')}</label>
<input type="file" id="import-csv" name="csv" accept=".csv,text/csv" required>
<label for="import-photos">${t(lang, 'importZip')}</label>
<input type="file" id="import-photos" name="photos" accept=".zip,application/zip">
<small>${t(lang, 'importLimits', { csv: limits.csvMb, zip: limits.zipMb, unzipped: limits.unzippedMb })}</small>
<fieldset><legend>${t(lang, 'importMirrorLegend')}</legend>
<p class="check"><input type="checkbox" id="import-mirror" name="mirror" value="1"${checked(defaults.mirror)}> <label for="import-mirror">${t(lang, 'importMirror')}</label></p>
<small id="import-mirror-hint">${t(lang, 'importMirrorHint')}</small>
<label for="import-share">${t(lang, 'importMaxShare')}</label>
<input type="number" id="import-share" name="maxShare" min="0" max="100" step="any" value="${defaults.maxSharePercent}" aria-describedby="import-mirror-hint">
</fieldset>
<p class="check"><input type="checkbox" id="import-duplicate" name="allowDuplicateFace" value="1"${checked(defaults.allowDuplicateFace)}> <label for="import-duplicate">${t(lang, 'importAllowDuplicate')}</label></p>
<button type="submit">${t(lang, 'importUpload')}</button>
</form>`,
    flash,
  );
}

/** The job's page: its progress while it runs, else its preview or its outcome. */
export function jobPage(ctx: PageContext, job: ImportJob, flash: Flash | null): string {
  if (job.phase === 'previewing' || job.phase === 'applying') return progressPage(ctx, job);
  if (job.phase === 'previewed' && job.preview) return previewPage(ctx, job, job.preview, flash);
  if (job.phase === 'applied' && job.result) return resultPage(ctx, job, job.result);
  return failedPage(ctx, job);
}

/** The sentence under the progress bar; also what the status endpoint sends the page's script. */
export function progressText(lang: Lang, job: ImportJob): string {
  const { done, total } = job.progress;
  return t(lang, job.phase === 'applying' ? 'importApplying' : 'importPreviewing', { done, total });
}

function progressPage(ctx: PageContext, job: ImportJob): string {
  const lang = ctx.lang;
  const { done, total } = job.progress;
  return page(
    ctx,
    t(lang, job.phase === 'applying' ? 'importApplyingTitle' : 'importPreviewingTitle'),
    html`<p id="import-state" data-phase="${job.phase}" data-status="${jobPath(job)}/status" role="status">${progressText(lang, job)}</p>
<progress id="import-progress" max="${Math.max(total, 1)}" value="${done}" aria-label="${t(lang, 'importProgressLabel')}"></progress>
<p><a href="${jobPath(job)}">${t(lang, 'importRefresh')}</a></p>`,
  );
}

function totals(lang: Lang, s: ImportSummary): Html {
  const item = (key: MessageKey, n: number) => html`<div><dt>${t(lang, key)}</dt><dd>${n}</dd></div>`;
  return html`<dl class="totals import-totals">${item('importCreated', s.created)}${item('importUpdated', s.updated)}${item('importUnchanged', s.unchanged)}${item('importFailed', s.failed)}${item('importTemplatesAdded', s.templatesAdded)}</dl>
${s.sitesCreated.length > 0 ? html`<p>${t(lang, 'importSitesCreated', { sites: s.sitesCreated.join(', ') })}</p>` : ''}`;
}

function reason(lang: Lang, r: RowResult): Html | '' {
  if (r.outcome !== 'failed' || !r.code) return '';
  return html`<span class="code">${r.code}</span> ${t(lang, ROW_ERROR_KEY[r.code])}${r.reason ? html` <span class="muted">(${r.reason})</span>` : ''}`;
}

function rowsTable(lang: Lang, s: ImportSummary): Html {
  return html`<h2 id="import-rows">${t(lang, 'importRowsTitle')}</h2>
<div class="scroll" tabindex="0" role="region" aria-labelledby="import-rows"><table class="import-rows">
<thead><tr><th scope="col">${t(lang, 'importLine')}</th><th scope="col">${t(lang, 'employee')}</th><th scope="col">${t(lang, 'name')}</th><th scope="col">${t(lang, 'site')}</th><th scope="col">${t(lang, 'importOutcome')}</th><th scope="col">${t(lang, 'importReason')}</th></tr></thead>
<tbody>${s.results.map(
    (r) => html`<tr data-line="${r.line}" data-outcome="${r.outcome}"><td>${r.line}</td><td>${r.employeeNo ?? ''}</td><td>${r.fullName ?? ''}</td><td>${r.site ?? ''}</td><td><span class="outcome ${r.outcome}">${t(lang, OUTCOME_KEY[r.outcome])}</span></td><td>${reason(lang, r)}</td></tr>`,
  )}</tbody></table></div>`;
}

function mirrorSection(lang: Lang, m: MirrorSummary, done: boolean): Html {
  const people =
    m.deactivations.length === 0
      ? html`<p class="muted">${t(lang, 'importNoDeactivations')}</p>`
      : html`<ul class="people import-deactivations">${m.deactivations.map(
          (d) => html`<li data-employee="${d.employeeNo}"><strong>${d.fullName}</strong> <span class="muted">${d.employeeNo} · ${d.site}</span></li>`,
        )}</ul>`;
  return html`<section aria-labelledby="import-mirror-title"><h2 id="import-mirror-title">${t(lang, done ? 'importDeactivatedTitle' : 'importDeactivationsTitle')}</h2>
<div class="scroll" tabindex="0" role="region" aria-labelledby="import-mirror-title"><table class="import-sites"><thead><tr><th scope="col">${t(lang, 'site')}</th><th scope="col">${t(lang, 'importActiveCol')}</th><th scope="col">${t(lang, 'importDeactivateCol')}</th><th scope="col">${t(lang, 'importShareCol')}</th></tr></thead>
<tbody>${m.sites.map(
    (s) => html`<tr><td>${s.site}</td><td>${s.active}</td><td>${s.deactivate}</td><td>${s.sharePercent} %${s.overCap ? html` <strong class="over-cap">${t(lang, 'importOverCap', { cap: m.maxSharePercent })}</strong>` : ''}</td></tr>`,
  )}</tbody></table></div>
${people}</section>`;
}

/** The cap refusal, one sentence naming each site over it, its count and share. */
export function refusalText(lang: Lang, m: MirrorSummary): string {
  const sites = m.sites
    .filter((s) => s.overCap)
    .map((s) => t(lang, 'importRefusedSite', { site: s.site, n: s.deactivate, active: s.active, share: s.sharePercent }))
    .join(lang === 'zh' ? '；' : '; ');
  return t(lang, 'importRefused', { sites, cap: m.maxSharePercent });
}

function previewPage(ctx: PageContext, job: ImportJob, s: ImportSummary, flash: Flash | null): string {
  const lang = ctx.lang;
  const refused = Boolean(s.mirror?.refused) || job.failure?.code === 'MASS_DEACTIVATION_REFUSED';
  const message: Flash | null = flash ?? (job.failure?.code === 'MASS_DEACTIVATION_REFUSED' ? { kind: 'error', text: t(lang, 'importCentralChanged') } : null);
  return page(
    ctx,
    t(lang, 'importPreviewTitle'),
    html`<p id="import-state" data-phase="previewed">${t(lang, 'importPreviewIntro')}</p>
<p class="muted">${t(lang, 'importFile', { file: job.csvName, photos: job.photos })}</p>
${totals(lang, s)}
${s.mirror ? mirrorSection(lang, s.mirror, false) : ''}
${s.mirror?.refused ? html`<p class="flash error" role="alert" id="import-refused">${refusalText(lang, s.mirror)}</p>` : ''}
<form method="post" action="${jobPath(job)}/apply" class="stack">${csrfField(ctx)}
${refused ? html`<p class="check"><input type="checkbox" id="import-override" name="override" value="1"> <label for="import-override">${t(lang, 'importOverride')}</label></p>` : ''}
<button type="submit">${t(lang, 'importApply')}</button>
</form>
<form method="post" action="${jobPath(job)}/discard">${csrfField(ctx)}<button type="submit" class="secondary">${t(lang, 'importDiscard')}</button></form>
${rowsTable(lang, s)}`,
    message,
  );
}

function resultPage(ctx: PageContext, job: ImportJob, s: ImportSummary): string {
  const lang = ctx.lang;
  const done = t(lang, 'importDone', { created: s.created, updated: s.updated, unchanged: s.unchanged, failed: s.failed, deactivated: s.mirror?.deactivated ?? 0 });
  return page(
    ctx,
    t(lang, 'importResultTitle'),
    html`<p id="import-state" data-phase="applied">${t(lang, 'importFile', { file: job.csvName, photos: job.photos })}</p>
<progress id="import-progress" max="${Math.max(job.progress.total, 1)}" value="${job.progress.total}" aria-label="${t(lang, 'importProgressLabel')}"></progress>
${totals(lang, s)}
${s.mirror ? mirrorSection(lang, s.mirror, true) : ''}
<p><a href="/roster-import">${t(lang, 'importAnother')}</a></p>
${rowsTable(lang, s)}`,
    { kind: s.failed > 0 ? 'error' : 'ok', text: done },
  );
}

/** What a failed preview or apply says: the file's problem in the import's words, else the code's sentence. */
export function failureText(lang: Lang, failure: { code: ErrorCode; message: string }): string {
  if (failure.code === 'ROSTER_INVALID') return t(lang, 'importFileInvalid', { detail: failure.message });
  return errorText(lang, failure.code, failure.message);
}

function failedPage(ctx: PageContext, job: ImportJob): string {
  const lang = ctx.lang;
  const text = job.failure ? failureText(lang, job.failure) : t(lang, 'importGone');
  return page(
    ctx,
    t(lang, 'importFailedTitle'),
    // A failed preview wrote nothing; an apply commits in batches, so part of the file may be on central already.
    html`<p id="import-state" data-phase="failed">${t(lang, job.preview ? 'importApplyFailed' : 'importNothingWritten')}</p><p><a href="/roster-import">${t(lang, 'importAnother')}</a></p>`,
    { kind: 'error', text },
  );
}
