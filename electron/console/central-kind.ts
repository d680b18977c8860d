import type pg from 'pg';

/**
 * Whether central is the embedded one (PGlite), which accepts any login as its superuser: there the console
 * cannot let central decide who someone is, and signs people in against its own admin account instead.
 */
export async function isEmbeddedCentral(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ embedded: boolean }>("SELECT version() LIKE '%PGlite%' AS embedded");
  return rows[0]?.embedded === true;
}
