import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { migrateCentral, requireMigrated } from '../../electron/central/migrate.js';
import { centralStatus } from '../../electron/central/status.js';
import { CENTRAL_MIGRATIONS_DIR } from '../../electron/config/paths.js';
import { loadMigrationFiles } from '../../electron/sql/migration-files.js';
import { ClockfaceError } from '../../shared/errors.js';
import { centralFactories, type TestCentral } from '../support/centrals.js';

/** Everything a migration could create or change, as one comparable text. */
async function schemaFingerprint(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ f: string }>(`
    SELECT string_agg(x, E'\\n' ORDER BY x) AS f FROM (
      SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relrowsecurity::text AS x
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
      UNION ALL SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type
        FROM information_schema.columns WHERE table_schema = 'public'
      UNION ALL SELECT 'pol ' || tablename || '.' || policyname FROM pg_policies WHERE schemaname = 'public'
      UNION ALL SELECT 'fn ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.proname NOT LIKE 'vector%'
      UNION ALL SELECT 'mig ' || version || ' ' || checksum FROM clockface_migrations
      UNION ALL SELECT 'model ' || model_id FROM face_models
    ) s`);
  return rows[0]?.f ?? '';
}

describe.each(centralFactories())('migrations on $label', (factory) => {
  let central: TestCentral;
  let client: pg.Client;
  const files = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR);

  beforeAll(async () => {
    central = await factory.start();
    client = await central.connect();
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('refuses to use an unmigrated database and says how to fix it', async () => {
    await expect(requireMigrated(client)).rejects.toMatchObject({ code: 'CENTRAL_NOT_MIGRATED' });
    const status = await centralStatus(client);
    expect(status.schemaVersion).toBe(0);
    expect(status.counts).toBeNull();
  });

  it('applies every migration once, and a second run changes nothing', async () => {
    const first = await migrateCentral(client);
    expect(first.applied.map((m) => m.version)).toEqual(files.map((f) => f.version));
    const before = await schemaFingerprint(client);

    const second = await migrateCentral(client);
    expect(second.applied).toEqual([]);
    expect(await schemaFingerprint(client)).toBe(before);
    await requireMigrated(client);

    const status = await centralStatus(client);
    expect(status.schemaVersion).toBe(files.at(-1)?.version);
    expect(status.pendingMigrations).toBe(0);
    expect(status.pgvector).toMatch(/^0\.\d+\.\d+$/);
    expect(status.counts).toEqual({
      sites: 0, employeesActive: 0, employeesInactive: 0, faceTemplates: 0, kiosks: 0, punches: 0, rosterChanges: 0,
    });
  });

  it('two migrators at once: both succeed and the schema is applied once', async () => {
    const other = await central.connect();
    try {
      const results = await Promise.all([migrateCentral(client), migrateCentral(other)]);
      expect(results.flatMap((r) => r.applied)).toEqual([]);
      const { rows } = await client.query('SELECT count(*)::int AS n FROM clockface_migrations');
      expect(rows[0]).toEqual({ n: files.length });
    } finally {
      await other.end();
    }
  });

  it('refuses a database migrated by a newer Clockface', async () => {
    await client.query("INSERT INTO clockface_migrations (version, name, checksum) VALUES (9990, 'future', 'x')");
    try {
      const error = await migrateCentral(client).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClockfaceError);
      expect(error).toMatchObject({ code: 'CENTRAL_SCHEMA_TOO_NEW' });
      expect(String((error as ClockfaceError).message)).toContain('9990');
      await expect(requireMigrated(client)).rejects.toMatchObject({ code: 'CENTRAL_SCHEMA_TOO_NEW' });
    } finally {
      await client.query('DELETE FROM clockface_migrations WHERE version = 9990');
    }
  });

  it('refuses a database whose applied migration differs from the shipped file', async () => {
    const edited = files.map((f, i) => (i === 0 ? { ...f, sql: `${f.sql}\n-- edited`, checksum: 'edited' } : f));
    await expect(migrateCentral(client, edited)).rejects.toMatchObject({ code: 'CENTRAL_SCHEMA_MODIFIED' });
  });
});

describe('a PostgreSQL server without pgvector', () => {
  // The embedded central can be started without the extension; a real server with pgvector installed cannot be
  // made to lack it from a test, so this case is proven on the embedded one.
  it('gets a message that names the missing extension and the fix, and nothing is created', async () => {
    const factory = centralFactories()[0];
    if (!factory) throw new Error('no embedded central');
    const central = await factory.start({ withoutVector: true });
    const client = await central.connect();
    try {
      const error = await migrateCentral(client).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CENTRAL_VECTOR_MISSING' });
      expect((error as ClockfaceError).message).toMatch(/"vector" extension \(pgvector\)/);
      expect((error as ClockfaceError).hint).toMatch(/install-postgres\.sh|pgvector/);
      const { rows } = await client.query("SELECT to_regclass('public.employees') IS NULL AS absent");
      expect(rows[0]).toEqual({ absent: true });
    } finally {
      await client.end();
      await central.close();
    }
  });
});
