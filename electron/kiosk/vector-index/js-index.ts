import type Database from 'better-sqlite3';
import { ClockfaceError } from '../../../shared/errors.js';
import { DESCRIPTOR_LENGTH } from '../../../shared/face-model.js';
import { ensureMetaRow, ensureMetaTable, MetaRow } from './meta.js';
import { byDistance, checkIds, checkK, checkQuery, DESCRIPTOR_BYTES, packRows, rowBlob, type PackedRows } from './rows.js';
import type { VectorHit, VectorIndex, VectorRow } from './types.js';

const D = DESCRIPTOR_LENGTH;

/**
 * The baseline: vectors in a plain table, scanned from a Float32Array copy in memory. The copy is reloaded when
 * the table's generation moves (another connection or another index object wrote), and updated in place after this
 * object's own writes, unless they ran inside the caller's transaction: that may still roll back, so the copy is
 * then dropped and reloaded at the next search.
 */
export class JsIndex implements VectorIndex {
  readonly engine = 'js' as const;
  private readonly table: string;
  private readonly meta: MetaRow;
  private readonly statements: {
    all: Database.Statement<[], { template_id: number; descriptor: Buffer }>;
    upsert: Database.Statement<[bigint, Buffer]>;
    exists: Database.Statement<[bigint], { one: number }>;
    remove: Database.Statement<[bigint]>;
    clear: Database.Statement<[]>;
  };
  /** Generation of the table the memory copy reflects; null when the copy must be reloaded. */
  private loaded: number | null = null;
  private ids: number[] = [];
  private slotOf = new Map<number, number>();
  private data = new Float32Array(0);

  constructor(
    private readonly db: Database.Database,
    name: string,
    readonly chosenBecause: string,
  ) {
    this.table = `${name}_js`;
    db.transaction(() => {
      ensureMetaTable(db);
      db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (template_id INTEGER PRIMARY KEY, descriptor BLOB NOT NULL) STRICT`);
      ensureMetaRow(db, this.table, this.engine, this.table);
    })();
    this.meta = new MetaRow(db, this.table);
    this.statements = {
      all: db.prepare(`SELECT template_id, descriptor FROM ${this.table}`),
      upsert: db.prepare(
        `INSERT INTO ${this.table} (template_id, descriptor) VALUES (?, ?)
         ON CONFLICT (template_id) DO UPDATE SET descriptor = excluded.descriptor`,
      ),
      exists: db.prepare(`SELECT 1 AS one FROM ${this.table} WHERE template_id = ?`),
      remove: db.prepare(`DELETE FROM ${this.table} WHERE template_id = ?`),
      clear: db.prepare(`DELETE FROM ${this.table}`),
    };
  }

  rebuild(rows: Iterable<VectorRow>): void {
    const packed = packRows(rows);
    this.write(
      () => {
        this.statements.clear.run();
        this.upsertAll(packed);
        return packed.ids.length;
      },
      () => {
        this.resetMemory(packed.ids.length);
        packed.ids.forEach((id, i) => this.put(id, packed.data.subarray(i * D, (i + 1) * D)));
      },
    );
  }

  add(rows: readonly VectorRow[]): void {
    const packed = packRows(rows);
    this.write(
      (count) => {
        for (const id of packed.ids) if (!this.statements.exists.get(BigInt(id))) count++;
        this.upsertAll(packed);
        return count;
      },
      () => packed.ids.forEach((id, i) => this.put(id, packed.data.subarray(i * D, (i + 1) * D))),
    );
  }

  remove(templateIds: readonly number[]): void {
    checkIds(templateIds);
    this.write(
      (count) => {
        for (const id of templateIds) count -= this.statements.remove.run(BigInt(id)).changes;
        return count;
      },
      () => templateIds.forEach((id) => this.drop(id)),
    );
  }

  count(): number {
    this.refresh();
    return this.ids.length;
  }

  search(descriptor: Float32Array, k: number): VectorHit[] {
    checkQuery(descriptor);
    checkK(k);
    this.refresh();
    return this.scan(descriptor, k);
  }

  close(): void {
    this.resetMemory(0);
    this.loaded = null;
  }

  /**
   * Runs `change` (which returns the new row count) in a transaction with a new generation, then applies
   * `inMemory` to the copy when the copy was current and the change is certainly committed.
   */
  private write(change: (count: number) => number, inMemory: () => void): void {
    const nested = this.db.inTransaction;
    let before = 0;
    let after = 0;
    this.db
      .transaction(() => {
        const meta = this.meta.read();
        before = meta.generation;
        after = this.meta.write(this.table, change(meta.rowCount));
      })
      .immediate();
    if (!nested && this.loaded === before) {
      inMemory();
      this.loaded = after;
    } else {
      this.loaded = null;
    }
  }

  private upsertAll(packed: PackedRows): void {
    packed.ids.forEach((id, i) => this.statements.upsert.run(BigInt(id), rowBlob(packed, i)));
  }

  private refresh(): void {
    if (this.loaded !== null && this.meta.read().generation === this.loaded) return;
    // One read transaction, so that the rows and the generation recorded belong to the same commit.
    this.db.transaction(() => {
      const meta = this.meta.read();
      this.resetMemory(meta.rowCount);
      for (const row of this.statements.all.iterate()) {
        if (row.descriptor.length !== DESCRIPTOR_BYTES) {
          throw new ClockfaceError('INVALID_DESCRIPTOR', `${this.table}: template ${row.template_id} has a malformed vector`);
        }
        const slot = this.slotFor(row.template_id);
        // Copied byte-wise: a blob from SQLite need not be aligned for a Float32Array view.
        row.descriptor.copy(new Uint8Array(this.data.buffer, slot * DESCRIPTOR_BYTES, DESCRIPTOR_BYTES));
      }
      this.loaded = meta.generation;
    })();
  }

  private resetMemory(capacity: number): void {
    this.ids = [];
    this.slotOf = new Map();
    this.data = new Float32Array(Math.max(capacity, 16) * D);
  }

  /** Slot of `id`, appended (growing the array) when new. */
  private slotFor(id: number): number {
    const existing = this.slotOf.get(id);
    if (existing !== undefined) return existing;
    const slot = this.ids.length;
    if ((slot + 1) * D > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.ids.push(id);
    this.slotOf.set(id, slot);
    return slot;
  }

  private put(id: number, descriptor: Float32Array): void {
    this.data.set(descriptor, this.slotFor(id) * D);
  }

  /** Removes `id` by moving the last slot into its place. */
  private drop(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    const last = this.ids.length - 1;
    const lastId = this.ids[last];
    if (slot !== last && lastId !== undefined) {
      this.data.copyWithin(slot * D, last * D, (last + 1) * D);
      this.ids[slot] = lastId;
      this.slotOf.set(lastId, slot);
    }
    this.ids.pop();
    this.slotOf.delete(id);
  }

  /** Plain exhaustive scan keeping the k best in a small sorted array: the reference the extensions must beat. */
  private scan(query: Float32Array, k: number): VectorHit[] {
    const n = this.ids.length;
    const keep = Math.min(k, n);
    const bestD = new Float64Array(keep).fill(Infinity);
    const bestSlot = new Int32Array(keep).fill(-1);
    const data = this.data;
    const q = Float64Array.from(query);
    for (let slot = 0; slot < n; slot++) {
      const base = slot * D;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < D; d += 4) {
        const a = (data[base + d] ?? 0) - (q[d] ?? 0);
        const b = (data[base + d + 1] ?? 0) - (q[d + 1] ?? 0);
        const c = (data[base + d + 2] ?? 0) - (q[d + 2] ?? 0);
        const e = (data[base + d + 3] ?? 0) - (q[d + 3] ?? 0);
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += e * e;
      }
      const sum = s0 + s1 + s2 + s3;
      if (keep === 0 || !(sum < (bestD[keep - 1] ?? Infinity))) continue;
      let i = keep - 1;
      while (i > 0 && (bestD[i - 1] ?? Infinity) > sum) {
        bestD[i] = bestD[i - 1] ?? Infinity;
        bestSlot[i] = bestSlot[i - 1] ?? -1;
        i--;
      }
      bestD[i] = sum;
      bestSlot[i] = slot;
    }
    const hits: VectorHit[] = [];
    for (let i = 0; i < keep; i++) {
      const id = this.ids[bestSlot[i] ?? -1];
      if (id !== undefined) hits.push({ templateId: id, distance: Math.sqrt(bestD[i] ?? Infinity) });
    }
    return hits.sort(byDistance);
  }
}
