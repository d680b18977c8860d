import type pg from 'pg';
import { expect } from 'vitest';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { fromVectorLiteral } from '../../electron/central/vector-literal.js';
import type { KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { blobToDescriptor, type RosterSync, type SyncResult } from '../../electron/kiosk/roster-sync.js';
import type { VectorIndex } from '../../electron/kiosk/vector-index/index.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';

/** What central says a kiosk should hold: active employees of its sites, templates of the kiosk's model. */
export interface Expected {
  employees: Map<number, { employeeNo: string; fullName: string; pinHash: string | null }>;
  templates: Map<number, { employeeId: number; vector: Float32Array }>;
}

export async function expectedFor(admin: pg.ClientBase, kioskId: number): Promise<Expected> {
  const sites = `SELECT site FROM kiosks WHERE id = $1 UNION SELECT site FROM kiosk_sites WHERE kiosk_id = $1`;
  const e = await admin.query<{ id: number; employee_no: string; full_name: string; pin_hash: string | null }>(
    `SELECT id::int AS id, employee_no, full_name, pin_hash FROM employees WHERE active AND erased_at IS NULL AND site IN (${sites})`,
    [kioskId],
  );
  const t = await admin.query<{ id: number; employee_id: number; embedding: string }>(
    `SELECT t.id::int AS id, t.employee_id::int AS employee_id, t.embedding::text AS embedding
     FROM face_templates t JOIN employees e ON e.id = t.employee_id
     WHERE e.active AND e.erased_at IS NULL AND e.site IN (${sites}) AND t.model_id = $2`,
    [kioskId, FACE_MODEL_ID],
  );
  return {
    employees: new Map(e.rows.map((r) => [r.id, { employeeNo: r.employee_no, fullName: r.full_name, pinHash: r.pin_hash }])),
    templates: new Map(t.rows.map((r) => [r.id, { employeeId: r.employee_id, vector: fromVectorLiteral(r.embedding) }])),
  };
}

export function expectCacheEquals(db: KioskDatabase, index: VectorIndex, expected: Expected): void {
  const employees = db.prepare('SELECT id, employee_no, full_name, pin_hash FROM employees ORDER BY id').all() as Array<{
    id: number;
    employee_no: string;
    full_name: string;
    pin_hash: string | null;
  }>;
  expect(new Map(employees.map((r) => [r.id, { employeeNo: r.employee_no, fullName: r.full_name, pinHash: r.pin_hash }]))).toEqual(
    expected.employees,
  );
  const templates = db.prepare('SELECT id, employee_id, embedding FROM templates ORDER BY id').all() as Array<{
    id: number;
    employee_id: number;
    embedding: Buffer;
  }>;
  expect(templates.map((t) => t.id).sort((a, b) => a - b)).toEqual([...expected.templates.keys()].sort((a, b) => a - b));
  for (const t of templates) {
    const want = expected.templates.get(t.id);
    expect(t.employee_id).toBe(want?.employeeId);
    // float32 travels exactly (pgvector's binary form): the vectors are bit-identical, not just close.
    expect(Array.from(blobToDescriptor(t.embedding))).toEqual(Array.from(want?.vector ?? []));
  }
  expect(db.prepare('SELECT count(*) AS n FROM index_pending').get()).toEqual({ n: 0 });
  expect(index.count()).toBe(templates.length);
  for (const t of templates.slice(0, 25)) {
    const [hit] = index.search(blobToDescriptor(t.embedding), 1);
    expect(hit?.templateId).toBe(t.id);
    expect(hit?.distance).toBeLessThan(1e-5);
  }
}


/**
 * Syncs until the kiosk's watermark has passed every transaction committed so far, summing what the syncs did.
 * One sync is not always enough on a real server: the feed only hands out transactions older than the oldest one
 * still running anywhere in the cluster (other databases included), and other test files write concurrently.
 */
export async function syncUntilCaughtUp(admin: pg.ClientBase, kiosk: RegisteredKiosk, sync: RosterSync): Promise<SyncResult> {
  const mark = BigInt((await admin.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);
  const client = await connectAsKiosk(kiosk.settings);
  try {
    let total: SyncResult | null = null;
    for (let attempt = 0; attempt < 600; attempt++) {
      const r = await sync.sync(client);
      total = total === null
        ? r
        : {
            ...r,
            kind: total.kind === 'snapshot' ? 'snapshot' : r.kind,
            snapshotReason: total.snapshotReason ?? r.snapshotReason,
            changesRead: total.changesRead + r.changesRead,
            employeesUpserted: total.employeesUpserted + r.employeesUpserted,
            employeesRemoved: total.employeesRemoved + r.employeesRemoved,
            templatesUpserted: total.templatesUpserted + r.templatesUpserted,
            templatesRemoved: total.templatesRemoved + r.templatesRemoved,
          };
      if (BigInt(r.watermark) > mark) return total;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the change feed did not catch up within 60 s');
  } finally {
    await client.end();
  }
}

