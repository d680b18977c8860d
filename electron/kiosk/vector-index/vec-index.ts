import type Database from 'better-sqlite3';
import { DESCRIPTOR_LENGTH } from '../../../shared/face-model.js';
import { loadVec } from './engines.js';
import { ensureMetaRow, ensureMetaTable, MetaRow } from './meta.js';
import { byDistance, checkIds, checkK, checkQuery, descriptorBlob, packRows, rowBlob, type PackedRows } from './rows.js';
import type { VectorHit, VectorIndex, VectorRow } from './types.js';

/**
 * sqlite-vec: a vec0 virtual table scanned by brute force on every query. It keeps no copy of the vectors in
 * memory, so every connection always sees the committed state, and its writes are ordinary SQLite writes on the
 * caller's connection: inside a caller's transaction they commit or roll back with it.
 */
export class VecIndex implements VectorIndex {
  readonly engine = 'sqlite-vec' as const;
  private readonly table: string;
  private readonly meta: MetaRow;
  private statements: {
    search: Database.Statement<[Buffer, bigint], { rowid: number; distance: number }>;
    insert: Database.Statement<[bigint, Buffer]>;
    remove: Database.Statement<[bigint]>;
  };

  constructor(
    private readonly db: Database.Database,
    name: string,
    readonly chosenBecause: string,
  ) {
    loadVec(db);
    this.table = `${name}_vec`;
    db.transaction(() => {
      ensureMetaTable(db);
      db.exec(this.createSql());
      ensureMetaRow(db, this.table, this.engine, this.table);
    })();
    this.meta = new MetaRow(db, this.table);
    this.statements = this.prepare();
  }

  private createSql(): string {
    // distance_metric=l2 is the default; spelled out because the face model's threshold is a Euclidean distance.
    return `CREATE VIRTUAL TABLE IF NOT EXISTS ${this.table} USING vec0(embedding float[${DESCRIPTOR_LENGTH}] distance_metric=l2)`;
  }

  private prepare(): VecIndex['statements'] {
    return {
      search: this.db.prepare(
        `SELECT rowid, distance FROM ${this.table} WHERE embedding MATCH ? AND k = ? ORDER BY distance`,
      ),
      // vec0 takes only integer rowids and better-sqlite3 binds a JS number as a REAL: ids go in as bigint.
      insert: this.db.prepare(`INSERT INTO ${this.table} (rowid, embedding) VALUES (?, ?)`),
      remove: this.db.prepare(`DELETE FROM ${this.table} WHERE rowid = ?`),
    };
  }

  rebuild(rows: Iterable<VectorRow>): void {
    const packed = packRows(rows);
    this.db.transaction(() => {
      // Dropped rather than emptied: vec0 does not give back the space of deleted rows.
      this.db.exec(`DROP TABLE IF EXISTS ${this.table}`);
      this.db.exec(this.createSql());
      this.statements = this.prepare();
      this.insertAll(packed);
      this.meta.write(this.table, packed.ids.length);
    })();
  }

  add(rows: readonly VectorRow[]): void {
    const packed = packRows(rows);
    this.db.transaction(() => {
      let count = this.meta.read().rowCount;
      for (const id of packed.ids) count -= this.statements.remove.run(BigInt(id)).changes;
      this.insertAll(packed);
      this.meta.write(this.table, count + packed.ids.length);
    })();
  }

  private insertAll(packed: PackedRows): void {
    packed.ids.forEach((id, i) => this.statements.insert.run(BigInt(id), rowBlob(packed, i)));
  }

  remove(templateIds: readonly number[]): void {
    checkIds(templateIds);
    this.db.transaction(() => {
      let count = this.meta.read().rowCount;
      for (const id of templateIds) count -= this.statements.remove.run(BigInt(id)).changes;
      this.meta.write(this.table, count);
    })();
  }

  count(): number {
    return this.meta.read().rowCount;
  }

  search(descriptor: Float32Array, k: number): VectorHit[] {
    checkQuery(descriptor);
    checkK(k);
    return this.statements.search
      .all(descriptorBlob(descriptor), BigInt(k))
      .map((r) => ({ templateId: r.rowid, distance: r.distance }))
      .sort(byDistance);
  }

  close(): void {
    // Nothing of its own: the connection is the caller's.
  }
}
