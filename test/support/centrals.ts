import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedCentral } from '../../electron/central/embedded.js';
import { connectCentral } from '../../electron/central/connect.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { partsPresent, requireSystemParts, realPostgresPart } from './system-parts.js';

/** A central database for one test file: an in-memory embedded central, or a fresh database on a real server. */
export interface TestCentral {
  kind: 'embedded' | 'server';
  url: string;
  /** Opens a new admin connection (the caller ends it). */
  connect(): Promise<pg.Client>;
  close(): Promise<void>;
}

export interface CentralFactory {
  kind: 'embedded' | 'server';
  label: string;
  start(options?: { withoutVector?: boolean }): Promise<TestCentral>;
}

const embeddedFactory: CentralFactory = {
  kind: 'embedded',
  label: 'embedded central (PGlite)',
  async start(options) {
    const central = await startEmbeddedCentral({
      dataDir: null,
      port: 0,
      ...(options?.withoutVector ? { withoutVector: true } : {}),
    });
    return {
      kind: 'embedded',
      url: central.url,
      connect: () => connectCentral({ url: central.url, embeddedDefault: false }),
      close: () => central.stop(),
    };
  },
};

function serverFactory(baseUrl: string): CentralFactory {
  return {
    kind: 'server',
    label: 'real PostgreSQL',
    async start() {
      const dbName = `clockface_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      const url = new URL(baseUrl);
      url.pathname = `/${dbName}`;
      const dbUrl = url.toString();
      return {
        kind: 'server',
        url: dbUrl,
        connect: () => connectCentral({ url: dbUrl, embeddedDefault: false }),
        async close() {
          // Roles are cluster-wide: collect the ones this database made (its kiosks' and supervisors' logins, then its own groups),
          // drop the database (which takes every object and grant in it along), then the roles.
          const c = new pg.Client({ connectionString: dbUrl });
          await c.connect();
          const roles: string[] = [];
          const has = await c.query<{ kiosks: boolean; groups: boolean }>(
            "SELECT to_regclass('public.kiosks') IS NOT NULL AS kiosks, to_regclass('public.clockface_roles') IS NOT NULL AS groups",
          );
          if (has.rows[0]?.kiosks) {
            const { rows } = await c.query<{ role_name: string }>('SELECT k.role_name FROM kiosks k JOIN pg_roles r ON r.rolname = k.role_name');
            roles.push(...rows.map((r) => r.role_name));
          }
          const supervisors = await c.query<{ x: boolean }>("SELECT to_regclass('public.supervisors') IS NOT NULL AS x");
          if (supervisors.rows[0]?.x) {
            const { rows } = await c.query<{ role_name: string }>('SELECT s.role_name FROM supervisors s JOIN pg_roles r ON r.rolname = s.role_name');
            roles.push(...rows.map((r) => r.role_name));
          }
          if (has.rows[0]?.groups) {
            const { rows } = await c.query<{ role_name: string }>("SELECT role_name FROM clockface_roles ORDER BY kind = 'registrar' DESC");
            roles.push(...rows.map((r) => r.role_name));
          }
          await c.end();
          const root = new pg.Client({ connectionString: baseUrl });
          await root.connect();
          await root.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
          for (const role of roles) await root.query(`DROP ROLE IF EXISTS ${root.escapeIdentifier(role)}`);
          await root.end();
        },
      };
    },
  };
}

/**
 * The centrals every database test runs against: always the embedded one; the real server too when
 * CLOCKFACE_TEST_DATABASE_URL is set (a superuser URL). global-setup.ts reports a missing server once.
 */
export function centralFactories(): CentralFactory[] {
  const serverUrl = process.env['CLOCKFACE_TEST_DATABASE_URL'];
  if (!serverUrl && requireSystemParts()) {
    throw new Error(`missing ${realPostgresPart().name}; ${realPostgresPart().howTo}`);
  }
  return serverUrl ? [embeddedFactory, serverFactory(serverUrl)] : [embeddedFactory];
}

/**
 * Only the real server, for behaviour the embedded central cannot have (login roles, concurrent transactions). Where
 * there is none, `what` shows as a skipped test saying so (and how to get a server), not as nothing at all.
 */
export function serverFactories(what = 'what needs a real PostgreSQL server'): CentralFactory[] {
  const servers = centralFactories().filter((f) => f.kind === 'server');
  if (servers.length === 0) partsPresent(what, [realPostgresPart()]);
  return servers;
}

export async function startMigrated(factory: CentralFactory): Promise<TestCentral> {
  const central = await factory.start();
  const client = await central.connect();
  try {
    await migrateCentral(client);
  } finally {
    await client.end();
  }
  return central;
}
