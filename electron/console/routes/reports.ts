import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClockfaceError } from '../../../shared/errors.js';
import { dailyCsv, payrollCsv } from '../../reports/report-csv.js';
import { readSites } from '../../timesheets/site-settings.js';
import { dailyTimesheets, payrollReport } from '../../timesheets/timesheet-view.js';
import { reportsPage } from '../pages/reports.js';
import { onCentral, queryOf, refusal, sendPage, statusOf, takeFlash } from '../route-helpers.js';
import type { ConsoleContext } from '../server.js';

function defaultPeriod(now = new Date()): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  return { from: `${to.slice(0, 8)}01`, to };
}

/** Reports: the payroll export and the daily timesheet, as CSV (spreadsheet-safe) or JSON, the CLI's functions. */
export function reportRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/reports', async (request, reply) => {
    const q = queryOf(request);
    const period = { ...defaultPeriod(), ...(q['from'] ? { from: q['from'] } : {}), ...(q['to'] ? { to: q['to'] } : {}), site: q['site'] ?? '' };
    const sites = await onCentral(request, async (client) => (await readSites(client)).map((s) => s.site));
    return sendPage(reply, reportsPage(ctx.pageContext(request, reply), sites, period, takeFlash(request)));
  });

  const download = async (
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    make: (range: { from: string; to: string; site?: string }) => Promise<{ type: string; body: string }>,
  ): Promise<FastifyReply> => {
    const q = queryOf(request);
    const range = { from: q['from'] ?? '', to: q['to'] ?? '', ...(q['site'] ? { site: q['site'] } : {}) };
    try {
      const file = await make(range);
      const filename = `clockface-${name}-${range.site ?? 'all'}-${range.from}-${range.to}`.replace(/[^\w.-]/g, '_');
      return reply
        .type(file.type)
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${filename}.${file.type.startsWith('text/csv') ? 'csv' : 'json'}"`)
        .send(file.body);
    } catch (e) {
      const sites = await onCentral(request, async (client) => (await readSites(client)).map((s) => s.site));
      const period = { from: range.from, to: range.to, site: range.site ?? '' };
      return sendPage(reply, reportsPage(ctx.pageContext(request, reply), sites, period, refusal(request, e)), statusOf(e as ClockfaceError));
    }
  };
  const csv = 'text/csv; charset=utf-8';
  const json = 'application/json; charset=utf-8';

  app.get('/reports/payroll.csv', (request, reply) =>
    download(request, reply, 'payroll', async (range) => ({ type: csv, body: payrollCsv(await onCentral(request, (c) => payrollReport(c, range))) })),
  );
  app.get('/reports/payroll.json', (request, reply) =>
    download(request, reply, 'payroll', async (range) => ({ type: json, body: JSON.stringify(await onCentral(request, (c) => payrollReport(c, range)), null, 2) })),
  );
  app.get('/reports/daily.csv', (request, reply) =>
    download(request, reply, 'daily', async (range) => ({ type: csv, body: dailyCsv(await onCentral(request, (c) => dailyTimesheets(c, range))) })),
  );
  app.get('/reports/daily.json', (request, reply) =>
    download(request, reply, 'daily', async (range) => ({ type: json, body: JSON.stringify(await onCentral(request, (c) => dailyTimesheets(c, range)), null, 2) })),
  );
}
