import { rm } from 'node:fs/promises';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MIRROR_MAX_SHARE } from '../../roster/roster-mirror.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { ImportJobs, type ImportSettings } from '../import-jobs.js';
import { page, type Flash } from '../pages/layout.js';
import { jobPage, progressText, uploadPage, type UploadDefaults } from '../pages/roster-import.js';
import { body, sendPage, session, takeFlash } from '../route-helpers.js';
import { MAX_CSV_BYTES, MAX_ZIP_BYTES, receiveRoster, UploadRefused, type ReceivedRoster } from '../roster-upload.js';
import type { ConsoleContext } from '../server.js';
import { PHOTO_ZIP_LIMITS, UnzipRefused } from '../unzip-photos.js';

/**
 * Roster import (IT only): upload a CSV and a zip of photos, see the dry run's preview, apply it in the background
 * while the page shows progress. The import is the CLI's (`importRoster`, mirror mode included); import-jobs.ts keeps
 * each session's one job and its files.
 */

const MB = 2 ** 20;
const LIMITS = { csvMb: MAX_CSV_BYTES / MB, zipMb: MAX_ZIP_BYTES / MB, unzippedMb: PHOTO_ZIP_LIMITS.maxTotalBytes / MB };
const DEFAULTS: UploadDefaults = { mirror: false, maxSharePercent: DEFAULT_MIRROR_MAX_SHARE, allowDuplicateFace: false };

function settingsFrom(fields: Record<string, string>): ImportSettings | null {
  const share = (fields['maxShare'] ?? '').trim();
  const maxSharePercent = share === '' ? DEFAULT_MIRROR_MAX_SHARE : Number(share);
  if (!Number.isFinite(maxSharePercent) || maxSharePercent < 0 || maxSharePercent > 100) return null;
  return { mirror: fields['mirror'] === '1', maxSharePercent, allowDuplicateFace: fields['allowDuplicateFace'] === '1' };
}

export function rosterImportRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const jobs = new ImportJobs();

  /** Supervisors cannot change the roster (central refuses them): one line instead of a form that cannot work. */
  const itOnly = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (session(request).role === 'admin') return true;
    const pc = ctx.pageContext(request, reply);
    void sendPage(reply, page(pc, t(pc.lang, 'importTitle'), html`<p><a href="/now">${t(pc.lang, 'back')}</a></p>`, { kind: 'error', text: t(pc.lang, 'importItOnly') }), 403);
    return false;
  };

  const showForm = (request: FastifyRequest, reply: FastifyReply, flash: Flash | null, status = 200, defaults = DEFAULTS) =>
    sendPage(reply, uploadPage(ctx.pageContext(request, reply), LIMITS, defaults, jobs.current(session(request)), flash), status);

  /** The job page of the session's job with this id; a stale or foreign id goes back to the form, saying so. */
  const gone = (request: FastifyRequest, reply: FastifyReply) => {
    session(request).flash = { kind: 'error', text: t(request.lang, 'importGone') };
    return reply.redirect('/roster-import', 303);
  };

  app.get('/roster-import', (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    return showForm(request, reply, takeFlash(request));
  });

  // Multipart is parsed only for the upload: registered in a scope of its own, every other route still refuses it.
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart);
    scope.post('/roster-import/upload', async (request, reply) => {
      if (!itOnly(request, reply)) return reply;
      const s = session(request);
      if (jobs.isRunning(s)) return showForm(request, reply, { kind: 'error', text: t(request.lang, 'importRunning') }, 409);
      if (!request.isMultipart()) return showForm(request, reply, { kind: 'error', text: t(request.lang, 'importBadUpload') }, 400);
      const dir = await ImportJobs.newFolder();
      const dropFolder = () => rm(dir, { recursive: true, force: true });
      let received: ReceivedRoster;
      try {
        received = await receiveRoster(request, dir);
      } catch (e) {
        await dropFolder();
        if (e instanceof UploadRefused) {
          const text = e.problem === 'importTooLarge' ? t(request.lang, 'importTooLarge', LIMITS) : t(request.lang, e.problem);
          return showForm(request, reply, { kind: 'error', text }, e.problem === 'importTooLarge' ? 413 : 400);
        }
        if (e instanceof UnzipRefused) {
          const text = t(request.lang, e.problem, { entry: PHOTO_ZIP_LIMITS.maxEntryBytes / MB, total: LIMITS.unzippedMb, n: PHOTO_ZIP_LIMITS.maxEntries });
          return showForm(request, reply, { kind: 'error', text }, 400);
        }
        // On to the console's error handler, which logs the message: a file system error's message names the photo.
        const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
        throw new Error(`the roster upload could not be stored${code ? ` (${code})` : ''}`, { cause: e });
      }
      const settings = settingsFrom(received.fields);
      if (!settings) {
        await dropFolder();
        return showForm(request, reply, { kind: 'error', text: t(request.lang, 'importShareInvalid') }, 400);
      }
      const job = await jobs.start(s, { dir, csvPath: received.csvPath, csvName: received.csvName, photosDir: received.photosDir, photos: received.photos, settings });
      if (!job) return showForm(request, reply, { kind: 'error', text: t(request.lang, 'importRunning') }, 409);
      return reply.redirect(`/roster-import/${encodeURIComponent(job.id)}`, 303);
    });
  });

  app.get<{ Params: { id: string } }>('/roster-import/:id', (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const job = jobs.find(session(request), request.params.id);
    if (!job) return gone(request, reply);
    return sendPage(reply, jobPage(ctx.pageContext(request, reply), job, takeFlash(request)));
  });

  // What the progress page's script polls: memory only, so it answers while the import holds the connection.
  app.get<{ Params: { id: string } }>('/roster-import/:id/status', (request, reply) => {
    if (session(request).role !== 'admin') return reply.code(403).send();
    const job = jobs.find(session(request), request.params.id);
    if (!job) return reply.code(404).header('cache-control', 'no-store').send({ phase: 'gone' });
    return reply.header('cache-control', 'no-store').send({ phase: job.phase, done: job.progress.done, total: job.progress.total, text: progressText(request.lang, job) });
  });

  app.post<{ Params: { id: string } }>('/roster-import/:id/apply', (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const s = session(request);
    const job = jobs.find(s, request.params.id);
    if (!job) return gone(request, reply);
    const override = body(request)['override'] === '1';
    // The preview said a site would lose more than the cap: nothing is written until the person confirms.
    if (job.phase === 'previewed' && (job.preview?.mirror?.refused || job.failure?.code === 'MASS_DEACTIVATION_REFUSED') && !override) {
      return sendPage(reply, jobPage(ctx.pageContext(request, reply), job, { kind: 'error', text: t(request.lang, 'importOverrideNeeded') }), 409);
    }
    // Applied once: a second click (or a replayed form) finds the job applying or applied, and just shows it.
    jobs.apply(s, job.id, override);
    return reply.redirect(`/roster-import/${encodeURIComponent(job.id)}`, 303);
  });

  app.post<{ Params: { id: string } }>('/roster-import/:id/discard', async (request, reply) => {
    if (!itOnly(request, reply)) return reply;
    const s = session(request);
    if (!(await jobs.discard(s, request.params.id))) return gone(request, reply);
    s.flash = { kind: 'ok', text: t(request.lang, 'importDiscarded') };
    return reply.redirect('/roster-import', 303);
  });
}
