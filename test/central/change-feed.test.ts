import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { INITIAL_WATERMARK, readRosterChanges, type RosterChange } from '../../electron/central/roster-feed.js';
import { centralFactories, serverFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { sleep } from '../support/waiting.js';

/** A kiosk-like reader: polls from its watermark and remembers every change it was given. */
class FeedReader {
  watermark = INITIAL_WATERMARK;
  readonly received: RosterChange[] = [];
  constructor(private readonly client: pg.ClientBase, private readonly pageSize = 10_000) {}

  async poll(): Promise<RosterChange[]> {
    const page = await readRosterChanges(this.client, this.watermark, this.pageSize);
    expect(page.snapshotNeeded).toBe(false);
    this.received.push(...page.changes);
    this.watermark = page.nextWatermark;
    return page.changes;
  }

  async drain(): Promise<void> {
    while ((await this.poll()).length > 0) {
      /* keep reading pages */
    }
  }
}

async function allSeqs(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ seq: string }>('SELECT seq::text FROM roster_changes ORDER BY roster_changes.seq');
  return rows.map((r) => r.seq);
}

function sortedSeqs(changes: RosterChange[]): string[] {
  return changes.map((c) => c.seq).sort((a, b) => Number(a) - Number(b));
}

describe.each(centralFactories())('roster change feed on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  const random = seededRandom(3);

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    await addSite(admin, 'south');
  });
  afterAll(async () => {
    await admin.end();
    await central.close();
  });

  it('records every kind of roster change, keys only', async () => {
    const reader = new FeedReader(admin);
    await reader.drain();
    const id = await addEmployee(admin, 'F-1', 'north');
    const templateId = await addTemplate(admin, id, randomDescriptor(random));
    await admin.query("UPDATE employees SET full_name = 'Renamed' WHERE id = $1", [id]);
    await admin.query('UPDATE employees SET active = false WHERE id = $1', [id]);
    await admin.query("UPDATE employees SET site = 'south' WHERE id = $1", [id]);
    await admin.query('UPDATE employees SET site = site WHERE id = $1', [id]); // no real change: no feed row
    await admin.query('DELETE FROM face_templates WHERE id = $1', [templateId]);
    await admin.query('DELETE FROM employees WHERE id = $1', [id]);
    await reader.drain();
    const seen = reader.received.map((c) => [c.entity, c.op, c.site, c.templateId]);
    expect(seen).toEqual([
      ['employee', 'upsert', 'north', null],
      ['template', 'upsert', 'north', templateId],
      ['employee', 'upsert', 'north', null],
      ['employee', 'upsert', 'north', null],
      ['employee', 'delete', 'north', null], // moved away: north's kiosks drop the person
      ['employee', 'upsert', 'south', null],
      ['template', 'delete', 'south', templateId],
      ['employee', 'delete', 'south', null],
    ]);
    expect(reader.received.every((c) => c.employeeId === id)).toBe(true);
    const columns = await admin.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'roster_changes' ORDER BY 1",
    );
    expect(columns.rows.map((r: { column_name: string }) => r.column_name)).toEqual([
      'changed_at', 'employee_id', 'entity', 'op', 'seq', 'site', 'template_id', 'txid',
    ]);
  });

  it('an empty poll keeps the reader where it is and returns nothing twice', async () => {
    const reader = new FeedReader(admin);
    await reader.drain();
    const before = reader.received.length;
    expect(await reader.poll()).toEqual([]);
    expect(await reader.poll()).toEqual([]);
    expect(reader.received.length).toBe(before);
  });

  it('pages never split a transaction and deliver every change once', async () => {
    const reader = new FeedReader(admin, 7);
    await reader.drain();
    const start = reader.received.length;
    await admin.query('BEGIN');
    for (let i = 0; i < 20; i++) await addEmployee(admin, `BULK-${i}`, 'north');
    await admin.query('COMMIT');
    for (let i = 0; i < 10; i++) await addEmployee(admin, `SOLO-${i}`, 'south');
    const pages: RosterChange[][] = [];
    for (;;) {
      const page = await reader.poll();
      if (page.length === 0) break;
      pages.push(page);
    }
    expect(pages[0]).toHaveLength(20); // the 20-row transaction came whole, beyond the page size of 7
    expect(pages.slice(1).map((p) => p.length)).toEqual([7, 3]);
    const fresh = reader.received.slice(start);
    expect(new Set(fresh.map((c) => c.seq)).size).toBe(30);
    expect(sortedSeqs(reader.received)).toEqual(await allSeqs(admin));
  });

  it('a reader behind the pruned horizon is told to take a snapshot', async () => {
    const stale = INITIAL_WATERMARK;
    await admin.query("SELECT prune_roster_changes(interval '0 seconds')");
    const page = await readRosterChanges(admin, stale);
    expect(page.snapshotNeeded).toBe(true);
    expect(page.changes).toEqual([]);
    // From the watermark it is handed, it follows the feed normally again.
    await addEmployee(admin, 'AFTER-PRUNE', 'north');
    const next = await readRosterChanges(admin, page.nextWatermark);
    expect(next.snapshotNeeded).toBe(false);
    expect(next.changes.map((c) => c.op)).toEqual(['upsert']);
  });
});

// Two writers whose transactions commit out of sequence order need two open transactions at once, which the
// embedded central cannot have (it runs one client's transaction at a time), so these run on the real server.
describe.each(serverFactories())('roster change feed under concurrent writers on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let writers: pg.Client[];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    writers = await Promise.all([1, 2, 3, 4].map(() => central.connect()));
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.end()));
    await admin.end();
    await central.close();
  });

  it('a change committed late with a lower sequence number is delivered, exactly once', async () => {
    const [early, late] = writers as [pg.Client, pg.Client];
    const reader = new FeedReader(admin);
    await reader.drain();

    // A naive reader that remembers the highest seq it saw, for contrast.
    let naiveMaxSeq = BigInt((await allSeqs(admin)).at(-1) ?? '0');
    const naive: string[] = [];
    const naivePoll = async () => {
      const { rows } = await admin.query<{ seq: string }>(
        'SELECT seq::text FROM roster_changes WHERE seq > $1 ORDER BY seq',
        [naiveMaxSeq.toString()],
      );
      for (const r of rows) {
        naive.push(r.seq);
        naiveMaxSeq = BigInt(r.seq);
      }
    };

    await early.query('BEGIN');
    await addEmployee(early, 'SLOW-1', 'north'); // takes the lower seq, commits last
    await late.query('BEGIN');
    await addEmployee(late, 'FAST-1', 'north'); // higher seq, commits first
    await late.query('COMMIT');

    expect(await reader.poll()).toEqual([]); // must wait: an older transaction is still open
    await naivePoll();
    expect(naive).toHaveLength(1); // the naive reader takes FAST-1 and moves past SLOW-1's number

    await early.query('COMMIT');
    const delivered = await reader.poll();
    await naivePoll();

    const { rows } = await admin.query<{ seq: string; employee_no: string }>(
      `SELECT c.seq::text, e.employee_no FROM roster_changes c JOIN employees e ON e.id = c.employee_id
       WHERE e.employee_no IN ('SLOW-1', 'FAST-1') ORDER BY c.seq`,
    );
    expect(rows.map((r) => r.employee_no)).toEqual(['SLOW-1', 'FAST-1']); // sequence order is not commit order
    expect(sortedSeqs(delivered)).toEqual(rows.map((r) => r.seq));
    expect(naive).not.toContain(rows[0]?.seq); // the naive reader skipped it for good
    expect(await reader.poll()).toEqual([]);
  });

  it('random concurrent writers and a polling reader: every change exactly once', async () => {
    const random = seededRandom(42);
    const reader = new FeedReader(admin, 50);
    await reader.drain();
    const baseline = new Set(await allSeqs(admin));
    let writing = true;

    const polling = (async () => {
      while (writing) {
        await reader.poll();
        await sleep(random() * 5);
      }
    })();

    await Promise.all(
      writers.map(async (w, wi) => {
        for (let t = 0; t < 25; t++) {
          await w.query('BEGIN');
          const rows = 1 + Math.floor(random() * 4);
          for (let r = 0; r < rows; r++) {
            const id = await addEmployee(w, `W${wi}-T${t}-R${r}`, 'north');
            await sleep(random() * 4); // hold the transaction open so commits interleave
            if (random() < 0.3) await w.query('UPDATE employees SET active = false WHERE id = $1', [id]);
          }
          if (random() < 0.15) await w.query('ROLLBACK'); // aborted changes must never be delivered
          else await w.query('COMMIT');
        }
      }),
    );
    writing = false;
    await polling;
    await reader.drain();

    const expected = (await allSeqs(admin)).filter((s) => !baseline.has(s));
    const got = reader.received.map((c) => c.seq).filter((s) => !baseline.has(s));
    expect(got.length).toBe(new Set(got).size); // nothing twice
    expect([...got].sort((a, b) => Number(a) - Number(b))).toEqual(expected); // nothing missing, nothing extra
    expect(expected.length).toBeGreaterThan(100);
  });
});

// LISTEN/NOTIFY crosses connections only on a real server (docs/operations.md: the embedded central keeps them apart).
describe.each(serverFactories('notifications to listening kiosks'))('roster notifications on $label', (factory) => {
  let central: TestCentral;
  let admin: pg.Client;
  let listener: pg.Client;
  const heard: Array<{ channel: string; payload: string | undefined }> = [];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'north');
    listener = await central.connect();
    listener.on('notification', (n) => heard.push({ channel: n.channel, payload: n.payload }));
    await listener.query('LISTEN clockface_roster');
    await listener.query('LISTEN clockface_test_fence');
  });
  afterAll(async () => {
    await listener.end();
    await admin.end();
    await central.close();
  });

  /**
   * Roster notifications heard so far, once everything committed before this call has arrived: notifications come in
   * commit order, so a fence sent last has arrived only after all of them.
   */
  let fences = 0;
  const settled = async (): Promise<number> => {
    const fence = String(++fences);
    await admin.query("SELECT pg_notify('clockface_test_fence', $1)", [fence]);
    for (let i = 0; i < 200 && !heard.some((h) => h.channel === 'clockface_test_fence' && h.payload === fence); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(heard.some((h) => h.channel === 'clockface_test_fence' && h.payload === fence), 'fence notification arrived').toBe(true);
    return heard.filter((h) => h.channel === 'clockface_roster').length;
  };

  it('a statement that changes no row wakes no kiosk; a change wakes each once per transaction', async () => {
    await admin.query("INSERT INTO employees (employee_no, full_name, site) VALUES ('Q-1', 'Quiet One', 'north'), ('Q-2', 'Quiet Two', 'north')");
    const start = await settled();
    expect(start).toBeGreaterThanOrEqual(1);
    // What a re-import of an unchanged roster does: upserts that find every row as it is, and a no-op update.
    await admin.query(
      `INSERT INTO employees AS e (employee_no, full_name, site) VALUES ('Q-1', 'Quiet One', 'north'), ('Q-2', 'Quiet Two', 'north')
       ON CONFLICT (employee_no) DO UPDATE SET full_name = EXCLUDED.full_name
       WHERE (e.full_name, e.site) IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.site)`,
    );
    await admin.query("UPDATE employees SET full_name = full_name WHERE employee_no LIKE 'Q-%'");
    await admin.query("DELETE FROM face_templates WHERE employee_id = -1");
    expect(await settled()).toBe(start);
    // A real change, of two rows in one transaction: one notification.
    await admin.query("UPDATE employees SET full_name = full_name || ' (renamed)' WHERE employee_no LIKE 'Q-%'");
    expect(await settled()).toBe(start + 1);
  });
});
