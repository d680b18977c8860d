import type pg from 'pg';
import { connectAsKiosk } from '../../electron/central/kiosk-connection.js';
import type { RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import type { TestCentral } from './centrals.js';

/**
 * Runs `body` with a kiosk's rights.
 *
 * Real server: a fresh connection logged in as the kiosk's own role (the production path).
 * Embedded central: it ignores the login role and shares one session among its connections, so the policies are
 * exercised by SET LOCAL ROLE inside one transaction on an admin connection. That proves the policies, not logins;
 * login-level checks run on the real server only.
 */
export async function asKiosk<T>(
  central: TestCentral,
  kiosk: RegisteredKiosk,
  body: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  if (central.kind === 'server') {
    const client = await connectAsKiosk(kiosk.settings);
    try {
      return await body(client);
    } finally {
      await client.end();
    }
  }
  const client = await central.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(kiosk.settings.roleName)}`);
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}
