import type pg from 'pg';
import { connectCentral } from '../../electron/central/connect.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { startConsoleServer, type ConsoleServer } from '../../electron/console/server.js';
import { createEmbeddedAdmin } from '../../electron/console/sign-in.js';
import { distribution } from '../../shared/stats/distribution.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { eachCentral, label, type BenchCentral } from '../support/bench-centrals.js';
import { FROM, RULES, SITE, TO, fillMonth } from './timesheet.js';

/**
 * The back office under load (issue 18), through HTTP as a browser uses it, signed in as IT:
 * - the week grid of a site with E employees and a month of punches (server time p50 / p95; goal p95 ≤ 300 ms);
 * - the payroll CSV of that month for every employee (goal ≤ 10 s at 10,000 employees: `--full`);
 * - punch insert → the Now page's server-sent event (p95; goal ≤ 2 s): NOTIFY on the server, the look every second on
 *   the embedded central.
 * Quick: 1,000 employees; --full: 10,000.
 */

const ADMIN = { login: 'benchadmin', password: 'bench password 1234' };

/** A cookie jar of one: the console's cookies, kept across requests like a browser would. */
class Browserish {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = (pair ?? '').split('=');
      if (name) this.cookies.set(name.trim(), rest.join('='));
    }
    return response;
  }

  async csrf(path: string): Promise<string> {
    const page = await (await this.fetch(path)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return token;
  }

  async signIn(login: string, password: string): Promise<void> {
    const token = await this.csrf('/sign-in');
    const response = await this.fetch('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, login, password }).toString(),
    });
    if (response.status !== 303 || response.headers.get('location') !== '/now') throw new Error(`sign-in failed (${response.status})`);
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await work();
  return performance.now() - t;
}

/** Waits for the next `event: changed` on an open event stream. */
function nextEvent(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  return (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buffer += decoder.decode(value, { stream: true });
      if (buffer.includes('event: changed')) return;
    }
  })();
}

async function runOn(central: BenchCentral, employees: number): Promise<BenchResult[]> {
  const admin = await connectCentral({ url: central.url, embeddedDefault: false }, { applicationName: 'clockface-bench-console' });
  const results: BenchResult[] = [];
  const kase = `${label(employees)} employees × November 2026 [${central.tag}]`;
  const row = (metric: string, value: number, unit: string): void => {
    results.push({ suite: 'console', case: kase, metric, value, unit });
  };
  let server: ConsoleServer | null = null;
  try {
    await migrateCentral(admin);
    await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ($1, 'Berlin', 'Europe/Berlin')", [SITE]);
    await admin.query('SELECT site_rules_set($1, $2::jsonb, false)', [SITE, JSON.stringify(RULES)]);
    row('punches of the month', await fillMonth(admin, employees), 'punches');
    const embedded = central.tag === 'embedded-pglite';
    let who = ADMIN;
    if (embedded) await createEmbeddedAdmin({ url: central.url, embedded }, ADMIN.login, ADMIN.password);
    else {
      const url = new URL(central.url);
      who = { login: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    server = await startConsoleServer({ central: { url: central.url, embedded }, host: '127.0.0.1', port: 0 });
    const browser = new Browserish(server.url);
    await browser.signIn(who.login, who.password);

    const weeks = ['2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23'];
    const grid: number[] = [];
    for (let i = 0; i < 24; i++) {
      grid.push(
        await timed(async () => {
          const response = await browser.fetch(`/timesheets?site=${SITE}&week=${weeks[i % weeks.length] ?? ''}`);
          if (response.status !== 200) throw new Error(`week grid answered ${response.status}`);
          await response.text();
        }),
      );
    }
    const g = distribution(grid.slice(4)); // the first look per week warms the caches
    row('week grid (HTTP, signed in) p50', g.median, 'ms');
    row('week grid (HTTP, signed in) p95', g.p95, 'ms');

    const payroll = await timed(async () => {
      const response = await browser.fetch(`/reports/payroll.csv?from=${FROM}&to=${TO}&site=${SITE}`);
      const lines = (await response.text()).trim().split('\n').length - 1;
      if (lines !== employees) throw new Error(`payroll has ${lines} rows, expected ${employees}`);
    });
    row('payroll CSV download (month)', payroll / 1000, 's');

    // Punch → the Now page's event.
    const stream = await browser.fetch('/now/events', { headers: { accept: 'text/event-stream' } });
    const reader = stream.body?.getReader();
    if (!reader) throw new Error('no event stream');
    await new Promise((r) => setTimeout(r, embedded ? 1_500 : 300)); // the embedded central's first look sets its mark
    const { rows } = await admin.query<{ e: string; k: string }>(
      "SELECT (SELECT min(id) FROM employees)::text AS e, (SELECT min(id) FROM kiosks)::text AS k",
    );
    const push: number[] = [];
    for (let i = 0; i < 20; i++) {
      // At a random moment, as punches come: right after the embedded central's look would measure its worst case only.
      await new Promise((r) => setTimeout(r, Math.random() * 1_000));
      const event = nextEvent(reader);
      const started = performance.now();
      await insertPunch(admin, rows[0]?.e ?? '', rows[0]?.k ?? '');
      await event;
      push.push(performance.now() - started);
    }
    await reader.cancel();
    const p = distribution(push);
    row('punch insert → Now event p50', p.median, 'ms');
    row('punch insert → Now event p95', p.p95, 'ms');
    return results;
  } finally {
    await server?.close();
    await admin.end();
  }
}

async function insertPunch(admin: pg.Client, employee: string, kiosk: string): Promise<void> {
  await admin.query(
    "INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, method, match_distance) VALUES (gen_random_uuid(), $1, $2, 'in', now(), 'pin', NULL)",
    [employee, kiosk],
  );
}

export const consoleSuite: BenchSuite = {
  name: 'console',
  description:
    'the back office through HTTP: the week grid, the payroll CSV, punch → Now event ([pg-server] = real PostgreSQL, NOTIFY; ' +
    '[embedded-pglite] = embedded central, a look every second)',
  async run({ full }) {
    const results: BenchResult[] = [];
    await eachCentral('console', async (central) => {
      results.push(...(await runOn(central, full ? 10_000 : 1_000)));
    });
    return results;
  },
};
