import { it } from 'vitest';
import { chromiumPart } from './chromium.js';
import { cjkFontPart } from './cjk-font.js';
import { ffmpegPart } from './fake-camera.js';
import { tmpfsPart } from './tmpfs.js';
import { opensslPart, pgClusterPart } from './pg-cluster.js';
import { pgbouncerPart } from './pgbouncer.js';

/**
 * System parts that some tests need and that a plain `npm ci` does not bring (a real PostgreSQL with pgvector,
 * Chromium, later the BLAS libraries). Tests run wherever the part is present and say plainly when it is not;
 * with CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 (set by .ci/run) a missing part is a failure instead.
 */
export function requireSystemParts(): boolean {
  return process.env['CLOCKFACE_REQUIRE_SYSTEM_PARTS'] === '1';
}

export interface SystemPart {
  name: string;
  present: boolean;
  /** How to get it, for the message printed when it is missing. */
  howTo: string;
}

export function realPostgresPart(): SystemPart {
  return {
    name: 'real PostgreSQL + pgvector (CLOCKFACE_TEST_DATABASE_URL)',
    present: Boolean(process.env['CLOCKFACE_TEST_DATABASE_URL']),
    howTo: 'run `eval "$(sudo bash scripts/install-postgres.sh)"` (Debian) or point CLOCKFACE_TEST_DATABASE_URL at a superuser URL',
  };
}

export function systemParts(): SystemPart[] {
  return [realPostgresPart(), chromiumPart(), cjkFontPart(), ffmpegPart(), tmpfsPart(), pgClusterPart(), opensslPart(), pgbouncerPart()];
}

/**
 * Whether a file's system parts are all here. Where one is missing (and CI does not require it), registers one
 * test that shows as SKIPPED, named with what is not tested, what is missing and how to get it: never a placeholder
 * that passes, never a file that ends in vitest's bare "No test suite found". With CLOCKFACE_REQUIRE_SYSTEM_PARTS=1
 * (CI) a missing part is an error instead.
 */
export function partsPresent(what: string, parts: readonly SystemPart[]): boolean {
  const missing = parts.filter((p) => !p.present);
  if (missing.length === 0) return true;
  const why = missing.map((p) => `${p.name} (${p.howTo})`).join('; ');
  if (requireSystemParts()) throw new Error(`CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 but missing ${why}`);
  it.skipIf(true)(`${what}: not tested here, missing ${why}`, () => undefined);
  return false;
}
