import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One numbered SQL migration file, e.g. `0010_init.sql`. */
export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file: an applied migration whose file changed is refused, since shipped files are frozen. */
  checksum: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads the migrations of one database kind, in version order. Stray files are an error, not silently ignored. */
export function loadMigrationFiles(dir: string): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const entry of readdirSync(dir)) {
    const match = FILE_PATTERN.exec(entry);
    if (!match) throw new Error(`unexpected file in ${dir}: ${entry} (migrations are named NNNN_name.sql)`);
    const sql = readFileSync(join(dir, entry), 'utf8');
    files.push({
      version: Number(match[1]),
      name: match[2] ?? entry,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i]?.version === files[i - 1]?.version) {
      throw new Error(`two migrations in ${dir} share version ${files[i]?.version}`);
    }
  }
  return files;
}
