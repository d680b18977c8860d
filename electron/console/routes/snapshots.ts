import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { ClockfaceError } from '../../../shared/errors.js';
import { query } from '../../timesheets/central-call.js';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { page } from '../pages/layout.js';
import { onCentral, refusal, sendPage, statusOf } from '../route-helpers.js';
import type { ConsoleContext } from '../server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which of these punches have an audit snapshot this login may look at (central decides, 0140). */
export async function punchesWithSnapshots(client: pg.ClientBase, punchIds: readonly string[]): Promise<Set<string>> {
  const ids = punchIds.filter((id) => UUID.test(id));
  if (ids.length === 0) return new Set();
  const rows = await query<{ id: string }>(client, 'SELECT s::text AS id FROM punch_snapshots_of($1::uuid[]) s', [ids]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Audit snapshots: a page for one punch's picture, and the picture itself, which only central's punch_snapshot_view
 * hands out, recording the look in the audit log as this login. Never cached by the browser.
 */
export function snapshotRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Params: { id: string } }>('/snapshots/:id', (request, reply) => {
    const pc = ctx.pageContext(request, reply);
    if (!UUID.test(request.params.id)) return reply.callNotFound();
    return sendPage(
      reply,
      page(
        pc,
        t(pc.lang, 'snapshotTitle'),
        html`<p class="note">${t(pc.lang, 'snapshotRecorded')}</p><figure class="snapshot"><img src="/snapshots/${request.params.id}/image" alt="${t(pc.lang, 'snapshotTitle')}"></figure>`,
      ),
    );
  });

  app.get<{ Params: { id: string } }>('/snapshots/:id/image', async (request, reply) => {
    if (!UUID.test(request.params.id)) return reply.callNotFound();
    try {
      const [row] = await onCentral(request, (client) => query<{ jpeg: Buffer }>(client, 'SELECT punch_snapshot_view($1::uuid) AS jpeg', [request.params.id]));
      return reply.type('image/jpeg').header('cache-control', 'no-store').send(row?.jpeg);
    } catch (e) {
      const flash = refusal(request, e);
      return reply.code(statusOf(e as ClockfaceError)).type('text/plain; charset=utf-8').send(flash.text);
    }
  });
}
