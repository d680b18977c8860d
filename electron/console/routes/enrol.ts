import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { MAX_IMAGE_BYTES } from '../../face/decode-image.js';
import { nodeFaceEngine } from '../../face/node-face-engine.js';
import { enrolEmployeePhotos, type PhotoInput } from '../../roster/enrol-employee.js';
import { showEmployee } from '../../roster/employee-admin.js';
import type { RowErrorCode } from '../../roster/roster-csv.js';
import { t } from '../i18n.js';
import { enrolResultPage } from '../pages/employees.js';
import { ROW_ERROR_KEY } from '../pages/roster-import.js';
import { onCentral, refusal, sendPage, session } from '../route-helpers.js';
import { explainSqlError } from '../../central/sql-errors.js';
import type { ConsoleContext } from '../server.js';

/** Photos per upload: a person's few good pictures; a folder of hundreds is a roster import. */
const MAX_PHOTOS = 10;

class TooMany extends Error {}

/**
 * Enrolment from photos uploaded on a person's page (IT): the CLI's `enroll` (enrolEmployeePhotos) on the person's
 * own connection, so central decides whether this login may add templates. Photos are held in memory for the request
 * only (at most 10 × 32 MB) and never written to disk or kept: templates, not photos.
 */
export function enrolRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  // Multipart is parsed only here (and for the roster upload): every other route still refuses it.
  void app.register(async (scope) => {
    await scope.register(fastifyMultipart, { limits: { files: MAX_PHOTOS + 1, fileSize: MAX_IMAGE_BYTES, fields: 5 } });
    scope.post<{ Params: { no: string } }>('/employees/:no/enrol', async (request, reply) => {
      const back = `/employees/${encodeURIComponent(request.params.no)}`;
      const fail = (key: 'enrolNone' | 'enrolTooMany' | 'enrolTooLarge') => {
        session(request).flash = { kind: 'error', text: t(request.lang, key) };
        return reply.redirect(back, 303);
      };
      const photos: PhotoInput[] = [];
      try {
        for await (const part of request.files()) {
          if (photos.length === MAX_PHOTOS) throw new TooMany();
          const bytes = await part.toBuffer();
          if (bytes.length > 0) photos.push({ name: part.filename || `photo ${photos.length + 1}`, bytes });
        }
      } catch (e) {
        if (e instanceof TooMany || (e as { code?: string }).code === 'FST_FILES_LIMIT') return fail('enrolTooMany');
        if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') return fail('enrolTooLarge');
        throw e;
      }
      if (photos.length === 0) return fail('enrolNone');
      try {
        const engine = await nodeFaceEngine();
        const { employee, outcomes } = await onCentral(request, async (client) => ({
          employee: await showEmployee(client, request.params.no),
          outcomes: await enrolEmployeePhotos(client, engine, request.params.no, photos, { allowDuplicateFace: false }),
        }));
        const shown = outcomes.map((o) => {
          const key = o.code ? ROW_ERROR_KEY[o.code as RowErrorCode] : undefined;
          return { photo: o.photo, status: o.status, sentence: key ? t(request.lang, key) : (o.code ?? null), detail: o.reason ?? null };
        });
        return sendPage(reply, enrolResultPage(ctx.pageContext(request, reply), employee, shown));
      } catch (e) {
        // A refusal (central's 42501 for a login that may not add templates, an unknown employee) is one line.
        session(request).flash = refusal(request, explainSqlError(e));
        return reply.redirect(back, 303);
      }
    });
  });
}
