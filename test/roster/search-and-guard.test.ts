import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportSummary } from '../../electron/roster/import-roster.js';
import type { Neighbour } from '../../electron/cli/commands/search.js';
import type { SearchDecision } from '../../electron/cli/commands/search.js';
import { BBT_DIR, bbtPhoto, PEOPLE } from '../support/faces.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { runCli } from '../support/run-cli.js';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import type { DuplicateFaceReport } from '../../electron/roster/duplicate-faces.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';

const HEADER = 'employee_no,full_name,department,site,photos,pin';
const employeeNo = (person: string) => `BBT-${person.toUpperCase()}`;

describe.each(centralFactories())('central 1:N search and the duplicate-face guard on $label', (factory) => {
  let central: TestCentral;
  let root: string;
  const cli = (args: string[]) => runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 300_000);
  const importCsv = async (name: string, csv: string, extra: string[] = []) => {
    writeFileSync(join(root, name), csv);
    const result = await cli(['roster', 'import', join(root, name), '--photos', BBT_DIR, '--json', ...extra]);
    return { result, summary: JSON.parse(result.stdout) as ImportSummary };
  };

  beforeAll(async () => {
    central = await startMigrated(factory);
    root = mkdtempSync(join(tmpdir(), 'clockface-search-'));
    // Everyone enrolled from their first four photos; the fifth is kept back as the probe.
    const rows = PEOPLE.map(
      (p) => `${employeeNo(p)},${p},Cast,pasadena,${[1, 2, 3, 4].map((n) => `${p}/${p}${n}.png`).join(';')},`,
    );
    const { result, summary } = await importCsv('cast.csv', `${HEADER}\n${rows.join('\n')}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(summary).toMatchObject({ created: 8, failed: 0, templatesAdded: 32 });
  });
  afterAll(async () => {
    await central.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each(PEOPLE.map((p) => [p]))('`clockface search %s5.png` puts that person first', async (person) => {
    const result = await cli(['search', bbtPhoto(person, 5), '--json', '--k', '3']);
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { neighbours: Neighbour[]; decision: SearchDecision };
    expect(answer.neighbours[0]?.employeeNo).toBe(employeeNo(person));
    expect(answer.neighbours).toHaveLength(3);
    expect(new Set(answer.neighbours.map((n) => n.employeeNo)).size).toBe(3); // one row per person
  });

  it("refuses penny's photo under a new employee number, unless told it is right", async () => {
    const csv = `${HEADER}\nNEW-1,Not Penny,Front,pasadena,penny/penny5.png,\n`;
    const refused = await importCsv('impostor.csv', csv);
    expect(refused.result.code).toBe(1);
    expect(refused.summary.errors).toEqual([
      expect.objectContaining({ line: 2, employeeNo: 'NEW-1', code: 'DUPLICATE_FACE', reason: expect.stringContaining('BBT-PENNY') }),
    ]);
    expect(refused.summary.created).toBe(0);
    const allowed = await importCsv('impostor.csv', csv, ['--allow-duplicate-face']);
    expect(allowed.summary).toMatchObject({ created: 1, failed: 0, templatesAdded: 1 });
  });

  it('a refused row does not report the new site it would have created', async () => {
    const csv = `${HEADER}\nNEW-2,Also Not Penny,Front,penny-town,penny/penny5.png,\n`;
    const refused = await importCsv('impostor-site.csv', csv);
    expect(refused.summary.errors).toEqual([expect.objectContaining({ employeeNo: 'NEW-2', code: 'DUPLICATE_FACE' })]);
    expect(refused.summary.sitesCreated).toEqual([]);
    const admin = await central.connect();
    try {
      expect((await admin.query("SELECT 1 FROM sites WHERE code = 'penny-town'")).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('the same face twice in one file is caught too (the guard sees rows applied earlier in the batch)', async () => {
    // Make sheldon a stranger to central first, so the only earlier holder of the face is line 2 of this file.
    const admin = await central.connect();
    await admin.query(
      "DELETE FROM face_templates WHERE employee_id = (SELECT id FROM employees WHERE employee_no = 'BBT-SHELDON')",
    );
    await admin.end();
    const both = `${HEADER}\nTWIN-1,First,Ops,pasadena,sheldon/sheldon5.png,\nTWIN-2,Second,Ops,pasadena,sheldon/sheldon5.png,\n`;
    const result = await importCsv('twins.csv', both);
    expect(result.summary).toMatchObject({ created: 1, failed: 1 });
    expect(result.summary.errors).toEqual([
      expect.objectContaining({ line: 3, code: 'DUPLICATE_FACE', reason: expect.stringContaining('TWIN-1') }),
    ]);
  });

  it("a face a kiosk enrolled that belongs to someone at another site: the kiosk's guard cannot see it, `roster duplicates` does", async () => {
    const admin = await central.connect();
    try {
      await admin.query("INSERT INTO sites (code, name) VALUES ('austin', 'Austin')");
      const kiosk = await registerKiosk(admin, central.url, { name: 'austin-door', site: 'austin' });
      // Leonard's own face, enrolled at a kiosk in austin as someone new (the kiosk compares with austin only).
      const { rows: face } = await admin.query<{ e: string }>(
        "SELECT t.embedding::text AS e FROM face_templates t JOIN employees e ON e.id = t.employee_id WHERE e.employee_no = 'BBT-LEONARD' LIMIT 1",
      );
      const enrolled = await admin.query<{ templates_added: number; duplicate_employee_no: string | null }>(
        'SELECT templates_added, duplicate_employee_no FROM kiosk_enrol($1, $2, $3, $4, $5::vector[])',
        [kiosk.id, 'AUS-1', 'Leo Nard', FACE_MODEL_ID, `{"${face[0]?.e}"}`],
      );
      expect(enrolled.rows[0]).toEqual({ templates_added: 1, duplicate_employee_no: null });
    } finally {
      await admin.end();
    }
    const found = await cli(['roster', 'duplicates', '--json']);
    expect(found.code, found.stderr).toBe(0);
    const report = JSON.parse(found.stdout) as DuplicateFaceReport;
    expect(report.templatesChecked).toBe(1); // only what kiosks added, by default
    expect(report.pairs).toEqual([
      expect.objectContaining({ employeeNo: 'AUS-1', site: 'austin', enrolledAtKiosk: 'austin-door', otherEmployeeNo: 'BBT-LEONARD', otherSite: 'pasadena', distance: 0 }),
    ]);
    const text = await cli(['roster', 'duplicates', '--all']);
    expect(text.stdout).toMatch(/AUS-1 \(Leo Nard, site austin, enrolled at kiosk austin-door\) looks like BBT-LEONARD \(leonard, site pasadena\): distance 0\.000/);
    expect(text.stdout).toMatch(/pair\(s\) of employees within 0\.55 of each other; \d+ template\(s\) checked/);
    const all = JSON.parse((await cli(['roster', 'duplicates', '--all', '--json'])).stdout) as DuplicateFaceReport;
    expect(all.templatesChecked).toBeGreaterThan(report.templatesChecked); // IT's own imports are checked too
    expect((await cli(['roster', 'duplicates', '--threshold', 'lots'])).code).toBe(2);
  });

  it('`clockface search` applies the kiosk rule: a look-alike behind 300 templates of one person makes it ambiguous, and inactive people do not count', async () => {
    // Howard's fifth photo, as `clockface search` sees it.
    const engine = await nodeFaceEngine();
    const analysis = await engine.analyze(await decodeImage(bbtPhoto('howard', 5)), { detector: 'ssd', padding: 'auto', purpose: 'kiosk' });
    const probe = Array.from(analysis.face?.descriptor.values ?? []);
    expect(probe).toHaveLength(128);
    const admin = await central.connect();
    try {
      const { rows: ids } = await admin.query<{ id: number }>(
        `INSERT INTO employees (employee_no, full_name, site) VALUES ('MANY-1', 'Many Templates', 'pasadena'), ('LOOK-1', 'Look Alike', 'pasadena')
         RETURNING id::int`,
      );
      // 300 templates within 0.01 of the probe for one person; one template 0.04 away for the other.
      await admin.query(
        `INSERT INTO face_templates (employee_id, model_id, embedding, source)
         SELECT $1, $4, (SELECT array_agg(c + (random() - 0.5) * 0.0015) FROM unnest($2::real[]) c WHERE r > 0)::vector, 'import'
         FROM generate_series(1, $3::int) r`,
        [ids[0]?.id, probe, 300, FACE_MODEL_ID],
      );
      await admin.query("INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES ($1, $2, $3, 'import')", [
        ids[1]?.id,
        FACE_MODEL_ID,
        `[${probe.map((v, i) => (i === 0 ? v + 0.04 : v)).join(',')}]`,
      ]);
      const search = async (...extra: string[]) => {
        const r = await cli(['search', bbtPhoto('howard', 5), '--json', '--k', '3', ...extra]);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as { neighbours: Neighbour[]; decision: SearchDecision };
      };
      const both = await search();
      expect(both.neighbours.slice(0, 2).map((n) => n.employeeNo)).toEqual(['MANY-1', 'LOOK-1']);
      expect(both.decision).toMatchObject({ match: null, verdict: 'ambiguous' });
      // The look-alike leaves: a clear match again; listed only when asked, marked inactive, and never decisive.
      await admin.query("UPDATE employees SET active = false WHERE employee_no = 'LOOK-1'");
      const clear = await search();
      expect(clear.neighbours.map((n) => n.employeeNo)).not.toContain('LOOK-1');
      expect(clear.decision).toMatchObject({ match: 'MANY-1', verdict: 'candidate' });
      const listed = await search('--include-inactive');
      expect(listed.neighbours[1]).toMatchObject({ employeeNo: 'LOOK-1', active: false });
      expect(listed.decision).toMatchObject({ match: 'MANY-1' });
    } finally {
      await admin.query("DELETE FROM face_templates WHERE employee_id IN (SELECT id FROM employees WHERE employee_no IN ('MANY-1', 'LOOK-1'))");
      await admin.end();
    }
  });
});
