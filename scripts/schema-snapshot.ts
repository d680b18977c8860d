/**
 * `npm run schema:snapshot`: rewrites the committed schema snapshots from a fresh migration of each database kind.
 *
 *   resources/sql/central.schema.txt  central after every migration (embedded PGlite; the test also compares it on
 *                                     a real PostgreSQL 15 server, which gives the same text)
 *   resources/sql/kiosk.schema.txt    the kiosk's SQLite database after every migration
 *
 * test/central/schema-snapshot.test.ts fails while a file differs from what the migrations make. Run this after
 * adding a migration, read `git diff resources/sql/*.schema.txt`, and check it against docs/schema-compatibility.md.
 *
 * `--check` writes nothing and exits 1 with the difference when a file is out of date.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import Database from 'better-sqlite3';
import { connectCentral } from '../electron/central/connect.js';
import { startEmbeddedCentral } from '../electron/central/embedded.js';
import { migrateCentral } from '../electron/central/migrate.js';
import { APP_ROOT } from '../electron/config/paths.js';
import { KIOSK_MIGRATIONS_DIR, migrateKioskDb } from '../electron/kiosk/store/kiosk-db.js';
import { loadMigrationFiles } from '../electron/sql/migration-files.js';
import {
  CENTRAL_SNAPSHOT_FILE,
  KIOSK_SNAPSHOT_FILE,
  centralSchemaSnapshot,
  kioskSchemaSnapshot,
  snapshotDiff,
} from '../test/support/schema-snapshot.js';

async function centralSnapshot(): Promise<string> {
  const central = await startEmbeddedCentral({ dataDir: null, port: 0 });
  try {
    const client = await connectCentral({ url: central.url, embeddedDefault: false });
    try {
      await migrateCentral(client);
      return await centralSchemaSnapshot(client);
    } finally {
      await client.end();
    }
  } finally {
    await central.stop();
  }
}

function kioskSnapshot(): string {
  const db = new Database(':memory:');
  try {
    migrateKioskDb(db, loadMigrationFiles(KIOSK_MIGRATIONS_DIR));
    return kioskSchemaSnapshot(db);
  } finally {
    db.close();
  }
}

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of [
  [CENTRAL_SNAPSHOT_FILE, await centralSnapshot()],
  [KIOSK_SNAPSHOT_FILE, kioskSnapshot()],
] as const) {
  const shown = relative(APP_ROOT, file);
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (committed === text) {
    console.log(`${shown}: up to date`);
    continue;
  }
  if (check) {
    stale++;
    console.log(`${shown}: out of date\n${snapshotDiff(committed, text)}`);
  } else {
    writeFileSync(file, text);
    console.log(`${shown}: written; review it with \`git diff ${shown}\`\n${snapshotDiff(committed, text)}`);
  }
}
if (stale > 0) {
  console.log('run `npm run schema:snapshot` and review the diff');
  process.exitCode = 1;
}
