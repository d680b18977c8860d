import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { ClockfaceError } from '../../../shared/errors.js';
import { DESCRIPTOR_LENGTH } from '../../../shared/face-model.js';
import { loadVss } from './engines.js';
import { ensureMetaRow, ensureMetaTable, MetaRow, META_TABLE, type IndexMeta } from './meta.js';
import { byDistance, checkIds, checkK, checkQuery, descriptorBlob, packRows, rowBlob, type PackedRows } from './rows.js';
import type { VectorHit, VectorIndex, VectorRow } from './types.js';

/**
 * Rows per committed chunk for an index that will hold `finalSize` rows. Inside one transaction sqlite-vss inserts
 * cost grows with the square of the rows pending; every commit rewrites the whole Faiss index (51 MB at 100k). So
 * the best chunk grows with the index. Measured (2 cores, file in WAL mode): 10k rows 0.40 s with chunks of 500,
 * 0.30 s with 1000, 0.58 s with 2000; 100k rows 32 s with 500, 17 s with 1000, 12 s with 2000, 8.9 s with 4000,
 * 14 s with 8000.
 */
export function vssChunkRows(finalSize: number): number {
  return Math.min(4000, Math.max(500, Math.round(12 * Math.sqrt(finalSize))));
}

/** A flat (exact) Faiss index with an id map, so that rows can be deleted (HNSW factories cannot). */
const FACTORY = 'Flat,IDMap2';

interface View {
  /** The vss0 table the statements below read. */
  table: string;
  /** Generation of the index that the connection's in-memory Faiss copy holds. */
  generation: number;
  /** Rows in that copy. Never search an empty copy: Faiss aborts the whole process on k = 0. */
  count: number;
  search: Database.Statement<[Buffer, number], { rowid: number; distance: number }>;
  insert: Database.Statement<[bigint, Buffer]>;
  exists: Database.Statement<[bigint], { one: number }>;
  /** Deletes a JSON array of ids. One statement per batch: every DELETE on vss0 scans the whole table. */
  removeMany: Database.Statement<[string]>;
}

const STALE = Symbol('stale');

/**
 * sqlite-vss: a Faiss flat index stored as one blob in a shadow table.
 *
 * Hazard: a connection reads that blob into memory the first time a statement names the table, and from then on
 * searches and writes that private copy; commits by other connections are never seen. (A connection that had
 * searched kept missing a row another connection committed; a fresh connection saw it.) Worse, a stale copy that
 * writes would commit itself over the other connection's rows. So this index works through a connection of its
 * own, which it throws away and reopens whenever the generation row says that the index moved on; reads and writes
 * check the generation in the same transaction as the work. A database in memory has only one connection and
 * needs none of this: the caller's connection is used.
 */
export class VssIndex implements VectorIndex {
  readonly engine = 'sqlite-vss' as const;
  private readonly indexName: string;
  /** The database file, or null when the caller's database lives in memory. */
  private readonly file: string | null;
  private readonly busyTimeoutMs: number;
  private conn: Database.Database;
  private meta: MetaRow;
  private view: View | null = null;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    name: string,
    readonly chosenBecause: string,
    private readonly chunkRows: number | undefined,
  ) {
    this.indexName = `${name}_vss`;
    this.file = mainFile(db);
    this.busyTimeoutMs = Math.max(5000, Number(db.pragma('busy_timeout', { simple: true })) || 0);
    this.conn = this.connect();
    // Looked up before taking the write lock, so that opening an existing index works while the caller's
    // connection holds a write transaction (the private connection would wait for it).
    if (!this.exists()) {
      this.conn
        .transaction(() => {
          ensureMetaTable(this.conn);
          if (!this.exists()) {
            const table = this.newTableName();
            this.conn.exec(createSql(table));
            ensureMetaRow(this.conn, this.indexName, this.engine, table);
          }
        })
        .immediate();
    }
    this.meta = new MetaRow(this.conn, this.indexName);
  }

  rebuild(rows: Iterable<VectorRow>): void {
    const packed = packRows(rows);
    this.refuseInsideCallerTransaction();
    const table = this.newTableName();
    this.conn
      .transaction(() => {
        const active = this.meta.read().dataTable;
        // Leftovers of a rebuild that was interrupted (a crash between chunks).
        for (const leftover of this.tablesOfThisIndex()) if (leftover !== active) this.conn.exec(`DROP TABLE ${leftover}`);
        this.conn.exec(createSql(table));
      })
      .immediate();
    try {
      // Built aside in chunks, then swapped in by one commit: searches meanwhile keep using the old table.
      const insert = this.conn.prepare<[bigint, Buffer]>(`INSERT INTO ${table} (rowid, embedding) VALUES (?, ?)`);
      const chunk = this.chunkRows ?? vssChunkRows(packed.ids.length);
      for (let start = 0; start < packed.ids.length; start += chunk) {
        this.conn
          .transaction(() => {
            for (let i = start; i < Math.min(start + chunk, packed.ids.length); i++) {
              insert.run(BigInt(packed.ids[i] ?? 0), rowBlob(packed, i));
            }
          })
          .immediate();
      }
      this.conn
        .transaction(() => {
          const old = this.meta.read().dataTable;
          this.meta.write(table, packed.ids.length);
          if (old !== table) this.conn.exec(`DROP TABLE IF EXISTS ${old}`);
        })
        .immediate();
    } catch (e) {
      try {
        this.conn.exec(`DROP TABLE IF EXISTS ${table}`);
      } catch {
        // The next rebuild drops it as a leftover.
      }
      throw e;
    } finally {
      this.reconnect();
    }
  }

  add(rows: readonly VectorRow[]): void {
    const packed = packRows(rows);
    this.refuseInsideCallerTransaction();
    const chunk = this.chunkRows ?? vssChunkRows(this.count() + packed.ids.length);
    for (let start = 0; start < packed.ids.length; start += chunk) {
      const end = Math.min(start + chunk, packed.ids.length);
      this.write((view) => {
        const ids = packed.ids.slice(start, end);
        const present = ids.filter((id) => view.exists.get(BigInt(id)) !== undefined);
        const removed = present.length > 0 ? view.removeMany.run(JSON.stringify(present)).changes : 0;
        insertRange(view, packed, start, end);
        return view.count - removed + ids.length;
      });
    }
  }

  remove(templateIds: readonly number[]): void {
    checkIds(templateIds);
    this.refuseInsideCallerTransaction();
    const chunk = this.chunkRows ?? vssChunkRows(this.count());
    for (let start = 0; start < templateIds.length; start += chunk) {
      const ids = templateIds.slice(start, start + chunk);
      this.write((view) => view.count - view.removeMany.run(JSON.stringify(ids)).changes);
    }
  }

  count(): number {
    return this.read((view) => view.count);
  }

  search(descriptor: Float32Array, k: number): VectorHit[] {
    checkQuery(descriptor);
    checkK(k);
    const query = descriptorBlob(descriptor);
    return this.read((view) => {
      if (view.count === 0) return [];
      return (
        view.search
          .all(query, Math.min(k, view.count))
          // Faiss flat L2 indexes report squared distances.
          .map((r) => ({ templateId: r.rowid, distance: Math.sqrt(r.distance) }))
          .sort(byDistance)
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.view = null;
    if (this.file !== null) this.conn.close();
  }

  /** Runs `work` in a read transaction on an up-to-date view. */
  private read<T>(work: (view: View) => T): T {
    this.checkOpen();
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = this.conn.transaction((): { value: T } | typeof STALE => {
        const meta = this.meta.read();
        if (this.view !== null && this.view.generation !== meta.generation) return STALE;
        return { value: work(this.view ?? this.load(meta)) };
      })();
      if (outcome !== STALE) return outcome.value;
      this.reconnect();
    }
    throw new Error(`sqlite-vss index ${this.indexName} kept changing while being read`);
  }

  /**
   * Runs one chunk of changes under the write lock on an up-to-date view; `change` returns the new row count.
   * Any failure throws the connection away: Faiss's in-memory copy may already hold part of the rolled-back chunk.
   */
  private write(change: (view: View) => number): void {
    this.checkOpen();
    for (let attempt = 0; attempt < 3; attempt++) {
      let outcome: { generation: number; count: number } | typeof STALE;
      try {
        outcome = this.conn
          .transaction((): { generation: number; count: number } | typeof STALE => {
            const meta = this.meta.read();
            if (this.view !== null && this.view.generation !== meta.generation) return STALE;
            const view = this.view ?? this.load(meta);
            const count = change(view);
            return { generation: this.meta.write(view.table, count), count };
          })
          .immediate();
      } catch (e) {
        this.reconnect();
        throw e;
      }
      if (outcome === STALE) {
        this.reconnect();
        continue;
      }
      if (this.view !== null) {
        this.view.generation = outcome.generation;
        this.view.count = outcome.count;
      }
      return;
    }
    throw new Error(`sqlite-vss index ${this.indexName} kept changing while being written`);
  }

  /**
   * Prepares the statements on the current table. The first statement that names a vss0 table makes this
   * connection read the Faiss blob, so the copy is the one of this transaction's snapshot, as is `meta`.
   */
  private load(meta: IndexMeta): View {
    const t = meta.dataTable;
    const view: View = {
      table: t,
      generation: meta.generation,
      search: this.conn.prepare(`SELECT rowid, distance FROM ${t} WHERE vss_search(embedding, vss_search_params(?, ?))`),
      insert: this.conn.prepare(`INSERT INTO ${t} (rowid, embedding) VALUES (?, ?)`),
      removeMany: this.conn.prepare(`DELETE FROM ${t} WHERE rowid IN (SELECT value FROM json_each(?))`),
      // vss0's own list of the ids its Faiss index holds, in the same commit as the blob.
      exists: this.conn.prepare(`SELECT 1 AS one FROM ${t}_data WHERE rowid = ?`),
      count: this.conn.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t}_data`).get()?.n ?? 0,
    };
    this.view = view;
    return view;
  }

  private connect(): Database.Database {
    if (this.file === null) {
      loadVss(this.db);
      return this.db;
    }
    const conn = new Database(this.file, { fileMustExist: true, timeout: this.busyTimeoutMs });
    loadVss(conn);
    return conn;
  }

  /** Forgets the in-memory Faiss copy: a new connection reads the blob afresh at its next statement. */
  private reconnect(): void {
    this.view = null;
    if (this.file === null || this.closed) return;
    this.conn.close();
    this.conn = this.connect();
    this.meta = new MetaRow(this.conn, this.indexName);
  }

  private refuseInsideCallerTransaction(): void {
    if (this.db.inTransaction) {
      throw new ClockfaceError(
        'INVALID_ARGUMENT',
        'sqlite-vss commits its changes in chunks of its own, so it cannot write inside an open transaction: ' +
          'commit the roster transaction first, then update the index',
      );
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`sqlite-vss index ${this.indexName} is closed`);
  }

  private exists(): boolean {
    const hasTable = this.conn.prepare('SELECT 1 FROM sqlite_schema WHERE type = ? AND name = ?').get('table', META_TABLE);
    return hasTable !== undefined && this.conn.prepare(`SELECT 1 FROM ${META_TABLE} WHERE index_name = ?`).get(this.indexName) !== undefined;
  }

  private newTableName(): string {
    return `${this.indexName}_${randomBytes(4).toString('hex')}`;
  }

  private tablesOfThisIndex(): string[] {
    const pattern = new RegExp(`^${this.indexName}_[0-9a-f]{8}$`);
    return this.conn
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
      .all()
      .map((r) => r.name)
      .filter((n) => pattern.test(n));
  }
}

function createSql(table: string): string {
  return `CREATE VIRTUAL TABLE ${table} USING vss0(embedding(${DESCRIPTOR_LENGTH}) factory="${FACTORY}")`;
}

function insertRange(view: View, packed: PackedRows, start: number, end: number): void {
  for (let i = start; i < end; i++) view.insert.run(BigInt(packed.ids[i] ?? 0), rowBlob(packed, i));
}

/** Path of the main database file, or null for a database in memory (or a temporary one, which is private too). */
function mainFile(db: Database.Database): string | null {
  const list = db.pragma('database_list') as Array<{ name: string; file: string }>;
  const main = list.find((d) => d.name === 'main');
  return db.memory || !main || main.file === '' ? null : main.file;
}
