import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { APP_ROOT } from '../../electron/config/paths.js';
import { KIOSK_MIGRATIONS_DIR, migrateKioskDb } from '../../electron/kiosk/store/kiosk-db.js';
import { loadMigrationFiles } from '../../electron/sql/migration-files.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import {
  CENTRAL_SNAPSHOT_FILE,
  KIOSK_SNAPSHOT_FILE,
  REGENERATE_HINT,
  centralSchemaSnapshot,
  kioskSchemaSnapshot,
  snapshotDiff,
} from '../support/schema-snapshot.js';

/**
 * The schema guard (issue 16): a fresh database migrated by this build must have exactly the committed schema
 * snapshot, so that no change to tables, columns, constraints, indexes, policies, grants, triggers or functions lands
 * without its diff in the snapshot file for a reviewer to read (docs/schema-compatibility.md).
 */
function expectSnapshot(file: string, actual: string): void {
  const shown = relative(APP_ROOT, file);
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (committed === actual) return;
  expect.fail(
    `${shown} does not match the schema the migrations make: ${REGENERATE_HINT}.\n` +
      `(- only in the committed file, + only in a freshly migrated database)\n${snapshotDiff(committed, actual)}`,
  );
}

describe.each(centralFactories())('central schema snapshot on $label', (factory) => {
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

  it('a fresh database after every migration matches resources/sql/central.schema.txt', async () => {
    const first = await centralSchemaSnapshot(client);
    expect(await centralSchemaSnapshot(client), 'the snapshot is deterministic').toBe(first);
    expectSnapshot(CENTRAL_SNAPSHOT_FILE, first);
  });

  it('names a changed column, grant, policy or function body in its diff', async () => {
    const before = await centralSchemaSnapshot(client);
    const { rows } = await client.query<{ role_name: string }>("SELECT role_name FROM clockface_roles WHERE kind = 'kiosk'");
    const kiosk = client.escapeIdentifier(rows[0]!.role_name);
    await client.query('BEGIN');
    try {
      await client.query("ALTER TABLE sites ADD COLUMN probe text DEFAULT 'x'");
      await client.query(`GRANT SELECT ON punch_snapshots TO ${kiosk}`);
      await client.query('ALTER POLICY kiosk_own_row ON kiosks TO PUBLIC');
      await client.query(
        'CREATE OR REPLACE FUNCTION clockface_kiosk_sites() RETURNS SETOF text LANGUAGE sql STABLE AS $$ SELECT code FROM sites $$',
      );
      const diff = snapshotDiff(before, await centralSchemaSnapshot(client));
      expect(diff).toContain("+ column sites.05 probe text null default 'x'::text");
      expect(diff).toContain('+ grant table punch_snapshots: {{kiosk}} INSERT,SELECT');
      expect(diff).toContain('+ policy kiosks.kiosk_own_row permissive SELECT to PUBLIC using');
      // The replaced helper lost its pinned search_path (0050) and its body changed: both show.
      expect(diff).toMatch(/^- function clockface_kiosk_sites\(\) .* set search_path=public, pg_temp body=/m);
      expect(diff).toMatch(/^\+ function clockface_kiosk_sites\(\) args=\(\) returns SETOF text language sql stable owner=\{\{owner\}\} body=\w+$/m);
    } finally {
      await client.query('ROLLBACK');
    }
    expect(await centralSchemaSnapshot(client)).toBe(before);
  });
});

describe('kiosk schema snapshot', () => {
  it('a fresh kiosk database after every migration matches resources/sql/kiosk.schema.txt', () => {
    const db = new Database(':memory:');
    try {
      migrateKioskDb(db, loadMigrationFiles(KIOSK_MIGRATIONS_DIR));
      expectSnapshot(KIOSK_SNAPSHOT_FILE, kioskSchemaSnapshot(db));
    } finally {
      db.close();
    }
  });
});
