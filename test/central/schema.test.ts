import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { addEmployee, addSite, addTemplate, randomDescriptor, seededRandom } from '../support/roster-fixtures.js';

/** Inserts a template from raw vector text, bypassing the client-side checks, to prove the database refuses it. */
function insertRaw(client: pg.Client, employeeId: number, vectorText: string, model = FACE_MODEL_ID) {
  return client.query(
    "INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES ($1, $2, $3, 'import')",
    [employeeId, model, vectorText],
  );
}

describe.each(centralFactories())('central schema constraints on $label', (factory) => {
  let central: TestCentral;
  let client: pg.Client;
  let employeeId: number;
  const random = seededRandom(7);

  beforeAll(async () => {
    central = await startMigrated(factory);
    client = await central.connect();
    await addSite(client, 'hq', 'Europe/Berlin');
    employeeId = await addEmployee(client, 'E-1', 'hq');
  });
  afterAll(async () => {
    await client.end();
    await central.close();
  });

  it('stores a 128-D descriptor of the known model', async () => {
    await addTemplate(client, employeeId, randomDescriptor(random));
    const { rows } = await client.query('SELECT vector_dims(embedding) AS d, model_id FROM face_templates');
    expect(rows).toEqual([{ d: 128, model_id: FACE_MODEL_ID }]);
  });

  it('refuses a descriptor of another dimension', async () => {
    const short = `[${randomDescriptor(random).slice(0, 127).join(',')}]`;
    await expect(insertRaw(client, employeeId, short)).rejects.toThrow(/expected 128 dimensions, not 127/);
    const long = `[${[...randomDescriptor(random), 0.1].join(',')}]`;
    await expect(insertRaw(client, employeeId, long)).rejects.toThrow(/expected 128 dimensions, not 129/);
  });

  it('refuses NaN and infinite values', async () => {
    const values = randomDescriptor(random).map(String);
    values[5] = 'NaN';
    await expect(insertRaw(client, employeeId, `[${values.join(',')}]`)).rejects.toThrow(/NaN not allowed/);
    values[5] = 'Infinity';
    await expect(insertRaw(client, employeeId, `[${values.join(',')}]`)).rejects.toThrow(/infinite value not allowed/);
  });

  it('refuses a descriptor from an unknown model', async () => {
    const text = `[${randomDescriptor(random).join(',')}]`;
    await expect(insertRaw(client, employeeId, text, 'facenet512@1')).rejects.toThrow(/face_templates_model_id_fkey/);
  });

  it('refuses the all-zero vector a broken pipeline produces', async () => {
    await expect(insertRaw(client, employeeId, `[${new Array(128).fill(0).join(',')}]`)).rejects.toThrow(
      /face_templates_embedding_nonzero/,
    );
  });

  it('refuses a duplicate employee number, an unknown site and an unknown time zone', async () => {
    await expect(addEmployee(client, 'E-1', 'hq')).rejects.toThrow(/employees_employee_no_key/);
    await expect(addEmployee(client, 'E-2', 'nowhere')).rejects.toThrow(/employees_site_fkey/);
    await expect(addSite(client, 'moon', 'Moon/Base')).rejects.toThrow(/unknown time zone "Moon\/Base"/);
  });

  it('sets received_at from the server clock, whatever the kiosk sends', async () => {
    await client.query("INSERT INTO kiosks (name, role_name, site) VALUES ('k1', 'clockface_kiosk_k1_test', 'hq')");
    await client.query(
      `INSERT INTO punches (id, employee_id, kiosk_id, direction, punched_at, received_at, method, match_distance)
       SELECT gen_random_uuid(), $1, id, 'in', now() - interval '1 hour', '2000-01-01', 'face', 0.3 FROM kiosks`,
      [employeeId],
    );
    const { rows } = await client.query<{ fresh: boolean }>(
      "SELECT received_at > now() - interval '1 minute' AS fresh FROM punches",
    );
    expect(rows).toEqual([{ fresh: true }]);
  });
});
