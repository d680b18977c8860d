import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ClockfaceError } from '../../shared/errors.js';
import { DEFAULT_POLL_SECONDS } from '../../shared/kiosk/heartbeat.js';
import { DEFAULT_MATCH_POLICY } from '../../shared/kiosk/match-policy.js';
import { DEFAULT_WATCH_SECONDS } from './central/gateway.js';

/**
 * A kiosk folder holds `kiosk.json` (these settings; it contains the kiosk's database password, so it is written
 * readable by its owner only) and `kiosk.db` (roster cache, punches, outbox).
 */
export const SETTINGS_FILE = 'kiosk.json';
export const DATABASE_FILE = 'kiosk.db';

const postgresUrl = z
  .string()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'a postgres:// URL');

const policySchema = z
  .object({
    threshold: z.number().positive().max(2),
    margin: z.number().min(0).max(1),
    framesRequired: z.number().int().min(1).max(30),
    frameWindow: z.number().int().min(1).max(30),
    /** null: every decision waits for framesRequired of frameWindow frames. */
    singleFrame: z.object({ maxDistance: z.number().min(0).max(2), minMargin: z.number().min(0).max(2) }).nullable(),
    debounceSeconds: z.number().min(0).max(86_400),
    confirmOppositeSeconds: z.number().min(0).max(86_400),
    maxShiftHours: z.number().positive().max(72),
    mode: z.enum(['auto', 'in', 'out']),
  })
  .partial();

export const kioskSettingsSchema = z.object({
  kioskName: z.string().min(1),
  site: z.string().min(1),
  roleName: z.string().min(1),
  /** The primary: punches are written here, and the roster is read here unless rosterUrl is set. */
  url: postgresUrl,
  /** central kiosks.id; `kiosk add --json` prints it, `kiosk init` looks it up when absent. */
  kioskId: z.number().int().positive().optional(),
  /** A read replica for roster reads. LISTEN still goes to the primary: NOTIFY is not replicated. */
  rosterUrl: postgresUrl.optional(),
  /**
   * 'transaction': url (and rosterUrl) lead through a pooler in transaction mode, PgBouncer set up as in
   * docs/operations.md ("A thousand kiosks"): no startup options, no LISTEN; roster changes are found by looking at
   * central's roster head every `watchSeconds`. 'none': direct connections, LISTEN plus the poll.
   */
  pooler: z.enum(['none', 'transaction']).default('none'),
  /**
   * Behind a transaction pooler: the login shared by every pooled kiosk for looking at the roster head
   * (roster_watch_head, central 0170), so that each kiosk's own login needs a server session only for its own work.
   * Without it the kiosk looks with its own login (roster_head).
   */
  watchLogin: z.object({ user: z.string().min(1), password: z.string().min(1) }).optional(),
  /** Seconds between looks at the roster head behind a transaction pooler (each drawn from ±25 % of it). */
  watchSeconds: z.number().min(0.2).max(600).default(DEFAULT_WATCH_SECONDS),
  engine: z.enum(['auto', 'sqlite-vss', 'sqlite-vec', 'js']).default('auto'),
  /** Ask central's index when the cache knows nobody and central is reachable. */
  centralFallback: z.boolean().default(true),
  /** Seconds between polls of the change feed; notifications make changes arrive sooner. */
  pollSeconds: z.number().positive().max(3600).default(DEFAULT_POLL_SECONDS),
  /** The optional active check: after recognition, turn the head to a side chosen at random before the punch. */
  liveness: z.enum(['off', 'turn-head']).default('off'),
  /**
   * Keep a small JPEG of the person with each punch, on central, for audits against buddy punching. Off by
   * default: without it no image of anyone is stored anywhere, only face templates.
   */
  auditSnapshots: z.boolean().default(false),
  /** scrypt hash of the admin PIN that opens admin mode and leaves the kiosk; set on first run. */
  adminPinHash: z.string().startsWith('scrypt$').optional(),
  /** Punches per upload statement. */
  uploadBatchSize: z.number().int().min(1).max(10_000).default(500),
  policy: policySchema.default({}),
});

export type KioskSettings = z.infer<typeof kioskSettingsSchema>;
export type KioskSettingsInput = z.input<typeof kioskSettingsSchema>;

export function parseKioskSettings(value: unknown, source: string): KioskSettings {
  const parsed = kioskSettingsSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new ClockfaceError('KIOSK_SETTINGS_INVALID', `${source}: ${problems}`);
  }
  const policy = { ...DEFAULT_MATCH_POLICY, ...parsed.data.policy };
  if (policy.framesRequired > policy.frameWindow) {
    throw new ClockfaceError('KIOSK_SETTINGS_INVALID', `${source}: policy.framesRequired is larger than policy.frameWindow`);
  }
  return parsed.data;
}

export function readKioskSettings(dir: string): KioskSettings {
  const path = join(dir, SETTINGS_FILE);
  if (!existsSync(path)) {
    throw new ClockfaceError('KIOSK_NOT_INITIALISED', `${dir} is not a kiosk folder (no ${SETTINGS_FILE})`, {
      hint: 'Run `clockface kiosk init --kiosk-dir DIR --settings FILE` with the settings `clockface kiosk add --json` printed.',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ClockfaceError('KIOSK_SETTINGS_INVALID', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseKioskSettings(value, path);
}

/** Written to a temporary file and renamed, so a crash never leaves half a settings file. */
export function writeKioskSettings(dir: string, input: KioskSettingsInput): void {
  const path = join(dir, SETTINGS_FILE);
  const settings = parseKioskSettings(input, path); // defaults filled in, and nothing invalid is ever written
  const temp = `${path}.tmp`;
  writeFileSync(temp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
