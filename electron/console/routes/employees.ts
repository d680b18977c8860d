import type { FastifyInstance } from 'fastify';
import { eraseEmployee, listEmployees, setActive, showEmployee } from '../../roster/employee-admin.js';
import { readSite } from '../../timesheets/site-settings.js';
import { recentPunches } from '../../timesheets/site-week.js';
import { t } from '../i18n.js';
import { employeePage, employeesPage } from '../pages/employees.js';
import { change, onCentral, queryOf, refusal, sendPage, statusOf, takeFlash } from '../route-helpers.js';
import type { ConsoleContext } from '../server.js';
import { ClockfaceError } from '../../../shared/errors.js';

/** Employees: search, a person's page, deactivate / activate, erase (IT). The CLI's functions, on the person's login. */
export function employeeRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/employees', async (request, reply) => {
    const q = queryOf(request);
    const filter = { q: (q['q'] ?? '').trim(), inactive: q['inactive'] === '1' };
    const rows = await onCentral(request, (client) =>
      listEmployees(client, { includeInactive: filter.inactive, limit: 200, ...(filter.q ? { search: filter.q } : {}) }),
    );
    return sendPage(reply, employeesPage(ctx.pageContext(request, reply), rows, filter, takeFlash(request)));
  });

  app.get<{ Params: { no: string } }>('/employees/:no', async (request, reply) => {
    try {
      const { employee, punches, timeZone } = await onCentral(request, async (client) => {
        const employee = await showEmployee(client, request.params.no);
        return {
          employee,
          punches: await recentPunches(client, 10, employee.employeeNo),
          timeZone: (await readSite(client, employee.site)).timeZone,
        };
      });
      return sendPage(reply, employeePage(ctx.pageContext(request, reply), employee, punches, timeZone, takeFlash(request)));
    } catch (e) {
      const flash = refusal(request, e);
      return sendPage(reply, employeesPage(ctx.pageContext(request, reply), [], { q: '', inactive: false }, flash), statusOf(e as ClockfaceError));
    }
  });

  for (const active of [true, false]) {
    app.post<{ Params: { no: string } }>(`/employees/:no/${active ? 'activate' : 'deactivate'}`, (request, reply) => {
      return change(
        request,
        reply,
        async (client) => {
          await setActive(client, request.params.no, active);
          return { kind: 'ok', text: t(request.lang, active ? 'activated' : 'deactivated', { no: request.params.no }) };
        },
        `/employees/${encodeURIComponent(request.params.no)}`,
      );
    });
  }

  app.post<{ Params: { no: string } }>('/employees/:no/erase', (request, reply) => {
    const typed = ((request.body as Record<string, string | undefined>)['confirm'] ?? '').trim();
    return change(
      request,
      reply,
      async (client) => {
        // The typed number must be this person's: a slip of the finger on the wrong page erases nobody.
        if (typed !== request.params.no) return { kind: 'error', text: t(request.lang, 'eraseMismatch', { no: request.params.no }) };
        const result = await eraseEmployee(client, request.params.no);
        return { kind: 'ok', text: t(request.lang, 'erasedDone', { templates: result.templatesDeleted, snapshots: result.snapshotsDeleted }) };
      },
      `/employees/${encodeURIComponent(request.params.no)}`,
    );
  });
}
