import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { DEFAULT_MATCH_MARGIN } from '../../shared/face/match-defaults.js';
import { randomDescriptor, seededRandom } from '../support/roster-fixtures.js';
import { sqliteEngines } from '../support/vector-engines.js';

/** A point `distance` away from `from`, in a random direction. */
function at(from: Float32Array, distance: number, random: () => number): Float32Array {
  const dir = Float32Array.from(from, () => random() - 0.5);
  const norm = Math.hypot(...dir);
  return Float32Array.from(from, (v, i) => v + ((dir[i] ?? 0) / norm) * distance);
}

/**
 * The margin rule needs the nearest *other* person. Someone enrolled many times can fill every one of the kiosk's
 * first k hits; a look-alike colleague just beyond them must still make the frame ambiguous, not a match.
 */
describe.each(['js' as const, ...sqliteEngines()])('the kiosk judges a frame against the nearest other person (%s)', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), `clockface-judge-${engine}-`));
  const random = seededRandom(31);
  const query = Float32Array.from(randomDescriptor(random));
  let core: KioskCore;

  beforeAll(() => {
    writeKioskSettings(dir, {
      kioskName: 'door-judge',
      site: 'hq',
      roleName: 'clockface_kiosk_judge',
      url: 'postgres://nobody:secret@127.0.0.1:9/none',
      kioskId: 1,
      engine,
      centralFallback: false,
    });
    core = KioskCore.open(dir);
    const person = core.db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active) VALUES (?, ?, ?, 'hq', 1)");
    const template = core.db.prepare("INSERT INTO templates (id, employee_id, model_id, embedding) VALUES (?, ?, 'faceapi-resnet128@1', ?)");
    person.run(1, 'MANY-1', 'Enrolled Many Times');
    person.run(2, 'LOOK-1', 'Look-alike');
    const rows: Array<{ templateId: number; descriptor: Float32Array }> = [];
    // 60 templates of one person, 0.300–0.318 from the frame; the colleague's single template at 0.33 (within the
    // 0.06 margin of 0.30, so the frame is ambiguous).
    for (let i = 0; i < 60; i++) rows.push({ templateId: 100 + i, descriptor: at(query, 0.3 + i * 0.0003, random) });
    rows.push({ templateId: 900, descriptor: at(query, 0.33, random) });
    for (const r of rows) template.run(r.templateId, r.templateId === 900 ? 2 : 1, Buffer.from(r.descriptor.buffer));
    core.index.rebuild(rows);
  });
  afterAll(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('60 templates of one person within the margin do not hide a look-alike: ambiguous, not a match', () => {
    expect(0.33 - 0.3).toBeLessThan(DEFAULT_MATCH_MARGIN);
    const verdict = core.judgeLocally(query);
    expect(verdict).toMatchObject({ kind: 'ambiguous', employeeId: 1, runnerUpId: 2 });
  });
});
