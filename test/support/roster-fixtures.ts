import type pg from 'pg';
import { toVectorLiteral } from '../../electron/central/vector-literal.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';

/** Seeded pseudo-random numbers, so that a failing test fails the same way again (one generator for all tests). */
export { seededRandom } from './face-like-data.js';

export function randomDescriptor(random: () => number): number[] {
  return Array.from({ length: 128 }, () => random() * 0.4 - 0.2);
}

export async function addSite(client: pg.ClientBase, code: string, timeZone = 'UTC'): Promise<void> {
  await client.query('INSERT INTO sites (code, name, time_zone) VALUES ($1, $1, $2)', [code, timeZone]);
}

export async function addEmployee(
  client: pg.ClientBase,
  employeeNo: string,
  site: string,
  fullName = `Employee ${employeeNo}`,
): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    'INSERT INTO employees (employee_no, full_name, site) VALUES ($1, $2, $3) RETURNING id::text',
    [employeeNo, fullName, site],
  );
  return Number(rows[0]?.id);
}

export async function addTemplate(client: pg.ClientBase, employeeId: number, descriptor: number[]): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO face_templates (employee_id, model_id, embedding, source)
     VALUES ($1, $2, $3, 'import') RETURNING id::text`,
    [employeeId, FACE_MODEL_ID, toVectorLiteral(descriptor)],
  );
  return Number(rows[0]?.id);
}
