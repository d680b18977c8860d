import type pg from 'pg';
import { explainSqlError } from '../central/sql-errors.js';

/**
 * Runs one statement on central and turns the SQLSTATEs a person can act on (central's `CF…` codes, 42501, 22023)
 * into ClockfaceErrors with their codes, so that a refusal reads as one clear line.
 */
export async function query<T extends pg.QueryResultRow>(client: pg.ClientBase, text: string, params: unknown[] = []): Promise<T[]> {
  try {
    return (await client.query<T>(text, params)).rows;
  } catch (e) {
    throw explainSqlError(e);
  }
}
