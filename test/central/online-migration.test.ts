import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { CENTRAL_MIGRATIONS_DIR } from '../../electron/config/paths.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { migrateCentral, outsideTransactionStatements, OUTSIDE_TRANSACTION_MARK } from '../../electron/central/migrate.js';
import { CentralGateway, closeSession } from '../../electron/kiosk/central/index.js';
import { loadMigrationFiles, type MigrationFile } from '../../electron/sql/migration-files.js';
import { centralFactories, serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addSite } from '../support/roster-fixtures.js';

/**
 * Migrations that run outside a transaction (issue 19): `CREATE INDEX CONCURRENTLY` rebuilds central's hnsw index
 * without blocking kiosks, and refuses a transaction block, so the runner applies such a file statement by statement.
 * On the server, kiosks punch and search through their own gateway while the rebuild runs, and none of them waits for
 * it or fails.
 */

/** A migration that rebuilds the face index with other graph settings, the way a shipped one would. */
function rebuildMigration(version: number, m: number): MigrationFile {
  const sql = `${OUTSIDE_TRANSACTION_MARK}
-- A crash between two statements leaves an invalid index_rebuild behind: the first statement drops it on the next run.
DROP INDEX CONCURRENTLY IF EXISTS face_templates_embedding_rebuild;
CREATE INDEX CONCURRENTLY face_templates_embedding_rebuild ON face_templates
  USING hnsw (embedding vector_l2_ops) WITH (m = ${m}, ef_construction = 64);
DROP INDEX CONCURRENTLY IF EXISTS face_templates_embedding_hnsw;
ALTER INDEX face_templates_embedding_rebuild RENAME TO face_templates_embedding_hnsw;
`;
  return { version, name: 'rebuild_face_index_test', sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

const shipped = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR);
const TEST_VERSION = 9_000;

/** The face index's graph setting m, and whether PostgreSQL may use it. */
async function faceIndex(client: pg.ClientBase): Promise<{ m: string | null; valid: boolean; count: number }> {
  const { rows } = await client.query<{ options: string[] | null; valid: boolean }>(
    `SELECT c.reloptions AS options, i.indisvalid AS valid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
     WHERE c.relname = 'face_templates_embedding_hnsw'`,
  );
  const { rows: all } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'face_templates' AND indexdef LIKE '%USING hnsw%'",
  );
  const m = rows[0]?.options?.find((o) => o.startsWith('m='))?.slice(2) ?? null;
  return { m, valid: rows[0]?.valid ?? false, count: all[0]?.n ?? 0 };
}

describe('outside-transaction migration files', () => {
  it('split into their statements, comments and blank lines dropped', () => {
    expect(outsideTransactionStatements(rebuildMigration(1, 24))).toEqual([
      'DROP INDEX CONCURRENTLY IF EXISTS face_templates_embedding_rebuild;',
      'CREATE INDEX CONCURRENTLY face_templates_embedding_rebuild ON face_templates\n  USING hnsw (embedding vector_l2_ops) WITH (m = 24, ef_construction = 64);',
      'DROP INDEX CONCURRENTLY IF EXISTS face_templates_embedding_hnsw;',
      'ALTER INDEX face_templates_embedding_rebuild RENAME TO face_templates_embedding_hnsw;',
    ]);
  });

  it('refuse function bodies and a statement without its closing semicolon', () => {
    const file = (sql: string): MigrationFile => ({ version: 1, name: 'x', sql, checksum: '' });
    expect(() => outsideTransactionStatements(file(`${OUTSIDE_TRANSACTION_MARK}\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;`))).toThrow(/function bodies/);
    expect(() => outsideTransactionStatements(file(`${OUTSIDE_TRANSACTION_MARK}\nSELECT 1;\nSELECT 2`))).toThrow(/no closing/);
  });
});

describe.each(centralFactories())('an outside-transaction migration on $label', (factory) => {
  let central: TestCentral;
  let client: pg.Client;

  beforeAll(async () => {
    central = await startMigrated(factory);
    client = await central.connect();
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('is applied once, recorded in the ledger, and leaves one valid index with the new settings', async () => {
    expect((await faceIndex(client)).m).toBe('16');
    const first = await migrateCentral(client, [...shipped, rebuildMigration(TEST_VERSION, 24)]);
    expect(first.applied.map((f) => f.version)).toEqual([TEST_VERSION]);
    expect(await faceIndex(client)).toEqual({ m: '24', valid: true, count: 1 });
    const again = await migrateCentral(client, [...shipped, rebuildMigration(TEST_VERSION, 24)]);
    expect(again.applied).toEqual([]);
    const { rows } = await client.query('SELECT name FROM clockface_migrations WHERE version = $1', [TEST_VERSION]);
    expect(rows).toEqual([{ name: 'rebuild_face_index_test' }]);
  });

  it('finishes on the next run after a crash between two of its statements', async () => {
    const file = rebuildMigration(TEST_VERSION + 1, 20);
    // The crash: the first two statements ran (a new index beside the old one), the process died before the rest.
    for (const statement of outsideTransactionStatements(file).slice(0, 2)) await client.query(statement);
    expect((await faceIndex(client)).count).toBe(2);
    const result = await migrateCentral(client, [...shipped, rebuildMigration(TEST_VERSION, 24), file]);
    expect(result.applied.map((f) => f.version)).toEqual([TEST_VERSION + 1]);
    expect(await faceIndex(client)).toEqual({ m: '20', valid: true, count: 1 });
  });
});

// The embedded central serves all its connections on one session, so no lock of its parts two migrators there; it runs
// its migrations itself at start, before it accepts any connection (serve-embedded.ts).
describe.each(serverFactories('two migrators on separate sessions'))('two migrators at once, on $label', (factory) => {
  let central: TestCentral;
  let client: pg.Client;

  beforeAll(async () => {
    central = await startMigrated(factory);
    client = await central.connect();
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('one applies it, the other waits for it and applies nothing', async () => {
    const other = await central.connect();
    try {
      const files = [...shipped, rebuildMigration(TEST_VERSION, 24)];
      const results = await Promise.all([migrateCentral(client, files), migrateCentral(other, files)]);
      const applied = results.flatMap((r) => r.applied.map((f) => f.version));
      expect(applied).toEqual([TEST_VERSION]);
      expect(await faceIndex(client)).toEqual({ m: '24', valid: true, count: 1 });
    } finally {
      await other.end();
    }
  });
});

describe.each(serverFactories('kiosks punching and searching during an index rebuild'))('an index rebuild while kiosks work, on $label', (factory) => {
  const TEMPLATES = 10_000;
  let central: TestCentral;
  let client: pg.Client;
  let kiosk: RegisteredKiosk;

  beforeAll(async () => {
    central = await startMigrated(factory);
    client = await central.connect();
    await addSite(client, 'hq');
    await client.query(
      `INSERT INTO employees (employee_no, full_name, site) SELECT 'P' || g, 'Person ' || g, 'hq' FROM generate_series(1, $1::int) g`,
      [TEMPLATES / 4],
    );
    // The subquery mentions the outer row so that every template gets its own random vector.
    await client.query(
      `INSERT INTO face_templates (employee_id, model_id, embedding, source)
       SELECT e.id, 'faceapi-resnet128@1', (SELECT array_agg(random() * 0.4 - 0.2) FROM generate_series(1, 128) WHERE e.id + r > 0)::vector, 'import'
       FROM employees e, generate_series(1, 4) r`,
    );
    // As autovacuum does within a minute of a bulk load: without statistics the people search plans badly (see the note).
    await client.query('ANALYZE employees, face_templates');
    kiosk = await registerKiosk(client, central.url, { name: 'rebuild-door', site: 'hq' });
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('kiosks keep punching and searching on their own logins while CREATE INDEX CONCURRENTLY runs, and none fails', async () => {
    const gateway = new CentralGateway(() => ({ kioskName: kiosk.settings.kioskName, kioskId: kiosk.id, url: kiosk.settings.url }));
    const { rows: people } = await client.query<{ id: string; embedding: string }>(
      'SELECT employee_id::text AS id, embedding::text FROM face_templates ORDER BY id LIMIT 50',
    );
    const watcher = await central.connect();
    let building = true;
    let seenBuilding = 0;
    let punched = 0;
    let searched = 0;
    const failures: string[] = [];
    const migration = migrateCentral(client, [...shipped, rebuildMigration(TEST_VERSION, 24)]).finally(() => {
      building = false;
    });
    try {
      // Kiosk work, one punch and one search at a time, for as long as the migration runs.
      while (building) {
        const { rows: progress } = await watcher.query("SELECT count(*)::int AS n FROM pg_stat_progress_create_index WHERE command = 'CREATE INDEX CONCURRENTLY'");
        const duringBuild = (progress[0] as { n: number }).n > 0;
        const person = people[punched % people.length];
        if (!person) throw new Error('no seeded person');
        const session = await gateway.connectPrimary();
        try {
          const stored = await gateway.insertPunches(session, [
            { id: randomUUID(), employee_id: Number(person.id), direction: punched % 2 ? 'out' : 'in', punched_at: new Date().toISOString(), method: 'face', match_distance: 0.3, liveness: 'not_checked' },
          ]);
          if (stored !== 1) failures.push(`punch ${punched} stored ${stored}`);
          punched++;
        } catch (e) {
          failures.push(`punch: ${(e as Error).message}`);
        } finally {
          await closeSession(session);
        }
        try {
          const descriptor = Float32Array.from(JSON.parse(person.embedding) as number[]);
          const found = await gateway.nearestPeople(descriptor);
          // Two people, the nearest and the next (the match rule's margin). Which ones is the benchmark's question:
          // these vectors are uniform random, the graph search's worst case.
          if (found.length !== 2) failures.push(`search ${searched} found ${found.length} people`);
          searched++;
        } catch (e) {
          failures.push(`search: ${(e as Error).message}`);
        }
        if (duringBuild) seenBuilding++;
      }
      await migration;
    } finally {
      await migration.catch(() => undefined);
      await watcher.end();
    }
    expect(failures).toEqual([]);
    // The work overlapped the build itself, not only the statements around it.
    expect(seenBuilding).toBeGreaterThanOrEqual(3);
    expect(await faceIndex(client)).toEqual({ m: '24', valid: true, count: 1 });
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM punches WHERE kiosk_id = $1', [kiosk.id]);
    expect(rows[0]?.n).toBe(punched);
    console.log(`[online rebuild] ${TEMPLATES} templates: ${punched} punches and ${searched} searches while it ran (${seenBuilding} seen during the index build), none failed`);
  });
});
