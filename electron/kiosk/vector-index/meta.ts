import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ClockfaceError } from '../../../shared/errors.js';
import type { VectorEngineName } from './types.js';

/**
 * One row per index: which table holds its vectors now, how many, and a generation that every committed change
 * replaces in the same transaction as the change itself.
 *
 * The generation is how an index notices that someone else changed it. `PRAGMA data_version` would say that
 * *another connection* committed *something* to the file (the roster, a punch…), which is both too much (most
 * commits do not touch the index) and too little (two VectorIndex objects sharing one connection never see each
 * other's commits there). Reading this row costs one primary-key lookup per search.
 */
export const META_TABLE = 'vector_index_meta';

export interface IndexMeta {
  dataTable: string;
  generation: number;
  rowCount: number;
}

const NAME = /^[a-z_][a-z0-9_]{0,40}$/;

/** Table names go into SQL text (identifiers cannot be bound), so only plain names are accepted. */
export function checkIndexName(name: string): void {
  if (!NAME.test(name)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `an index name is lowercase letters, digits and underscores, got "${name}"`);
  }
}

export function ensureMetaTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (
    index_name TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    data_table TEXT NOT NULL,
    generation INTEGER NOT NULL,
    row_count INTEGER NOT NULL
  ) STRICT`);
}

/** Creates the index's row if missing (another connection may have created it first: that one wins). */
export function ensureMetaRow(db: Database.Database, indexName: string, engine: VectorEngineName, dataTable: string): void {
  db.prepare(
    `INSERT INTO ${META_TABLE} (index_name, engine, data_table, generation, row_count) VALUES (?, ?, ?, 0, 0)
     ON CONFLICT (index_name) DO NOTHING`,
  ).run(indexName, engine, dataTable);
}

/** Prepared reader and writer of one index's row, for the connection that prepared them. */
export class MetaRow {
  private readonly select: Database.Statement<[string], { data_table: string; generation: number; row_count: number }>;
  private readonly update: Database.Statement<[string, number, number, string]>;

  constructor(
    db: Database.Database,
    private readonly indexName: string,
  ) {
    this.select = db.prepare(`SELECT data_table, generation, row_count FROM ${META_TABLE} WHERE index_name = ?`);
    this.update = db.prepare(
      `UPDATE ${META_TABLE} SET data_table = ?, row_count = ?, generation = ? WHERE index_name = ?`,
    );
  }

  read(): IndexMeta {
    const row = this.select.get(this.indexName);
    if (!row) throw new Error(`vector index ${this.indexName} has no row in ${META_TABLE}`);
    return { dataTable: row.data_table, generation: row.generation, rowCount: row.row_count };
  }

  /** Records a committed change (call inside the writing transaction); returns the new generation. */
  write(dataTable: string, rowCount: number): number {
    const generation = randomInt(1, 2 ** 47);
    if (this.update.run(dataTable, rowCount, generation, this.indexName).changes !== 1) {
      throw new Error(`vector index ${this.indexName} has no row in ${META_TABLE}`);
    }
    return generation;
  }
}
