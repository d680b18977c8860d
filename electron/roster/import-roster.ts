import { readFileSync, statSync } from 'node:fs';
import { ClockfaceError, isClockfaceError } from '../../shared/errors.js';
import { readImageFile } from '../face/decode-image.js';
import type pg from 'pg';
import type { FaceEngine } from '../../shared/face/engine.js';
import { createLogger } from '../../shared/logger.js';
import { nodeFaceEngine } from '../face/node-face-engine.js';
import { analyzePhoto, EnrolmentRefused, sha256, storeTemplateGuarded, type PhotoVerdict } from './enrol-photos.js';
import { hashPin, NEW_PIN_PATTERN, verifyPin } from '../security/pin-hash.js';
import { parseRoster, type RosterRow, type RowError, type RowErrorCode } from './roster-csv.js';
import { applyMirror, mirrorRefusal, planMirror, type MirrorOptions, type MirrorSummary } from './roster-mirror.js';
import {
  enrolledPhotoHashes,
  ensureSite,
  findEmployees,
  upsertEmployee,
  type NewTemplate,
  type StoredEmployee,
  type UpsertOutcome,
} from './roster-store.js';

const log = createLogger('roster.import');

export interface ImportOptions {
  photosDir?: string;
  dryRun: boolean;
  allowDuplicateFace: boolean;
  threshold?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Mirror mode: deactivate the active employees of the file's sites whom the file does not name (roster-mirror.ts). */
  mirror?: MirrorOptions;
  /**
   * Verdicts on photos by their sha256, kept by the caller between a preview (dry run) and its apply, so the apply
   * does not run the face engine over the same photos again. Held in memory only.
   */
  photoVerdicts?: Map<string, PhotoVerdict>;
}

export type RowOutcome = UpsertOutcome | 'failed';

/** One row of the file and what became (or, on a dry run, would become) of it. */
export interface RowResult {
  line: number;
  employeeNo: string | null;
  /** Null for a row that could not be read (its fields are not trusted). */
  fullName: string | null;
  site: string | null;
  outcome: RowOutcome;
  templatesAdded: number;
  code?: RowErrorCode;
  reason?: string;
}

export interface ImportSummary {
  file: string;
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  templatesAdded: number;
  sitesCreated: string[];
  errors: RowError[];
  /** Every row of the file by line: the errors above, and what the valid rows did. */
  results: RowResult[];
  /** Mirror mode's deactivations; null without mirror mode. */
  mirror: MirrorSummary | null;
}

interface PreparedTemplate extends NewTemplate {
  photo: string;
}

interface PreparedRow {
  row: RosterRow;
  pinHash: string | undefined;
  templates: PreparedTemplate[];
}

async function prepare(
  rows: readonly RosterRow[],
  existing: Map<string, StoredEmployee>,
  enrolled: Map<string, Set<string>>,
  verdicts: Map<string, PhotoVerdict>,
  errors: RowError[],
  onRowDone: () => void,
): Promise<PreparedRow[]> {
  const prepared: PreparedRow[] = [];
  let engine: FaceEngine | null = null;
  for (const row of rows) {
    try {
      const templates: PreparedTemplate[] = [];
      for (const photo of row.photos) {
        let bytes: Buffer;
        try {
          bytes = readImageFile(photo);
        } catch (e) {
          if (!isClockfaceError(e)) throw e;
          throw new EnrolmentRefused('PHOTO_UNREADABLE', `${photo.split('/').at(-1) ?? photo}: ${e.message}`);
        }
        const hash = sha256(bytes);
        if (enrolled.get(row.employeeNo)?.has(hash) || templates.some((t) => t.photoSha256 === hash)) continue;
        let verdict = verdicts.get(hash);
        if (!verdict) {
          engine ??= await nodeFaceEngine();
          verdict = await analyzePhoto(engine, bytes);
          verdicts.set(hash, verdict);
        }
        if (!verdict.ok) throw new EnrolmentRefused(verdict.code, `${photo.split('/').at(-1) ?? photo}: ${verdict.reason}`);
        templates.push({ photo, photoSha256: hash, descriptor: verdict.descriptor, quality: verdict.quality, source: 'import' });
      }
      const stored = existing.get(row.employeeNo)?.pinHash ?? null;
      // Keep the stored hash when the PIN is the same: a new salt would look like a change to every kiosk.
      const unchanged = row.pin === null || (stored !== null && (await verifyPin(row.pin, stored)));
      if (!unchanged && row.pin !== null && !NEW_PIN_PATTERN.test(row.pin)) {
        throw new EnrolmentRefused('INVALID_PIN', 'pin: a new or changed PIN needs 6 to 8 digits (a shorter PIN is kept only while it stays the same)');
      }
      const pinHash = unchanged || row.pin === null ? undefined : await hashPin(row.pin);
      prepared.push({ row, pinHash, templates });
    } catch (e) {
      if (!(e instanceof EnrolmentRefused)) throw e;
      errors.push({ line: row.line, employeeNo: row.employeeNo, code: e.code, reason: e.message });
      onRowDone();
    }
  }
  return prepared;
}

async function applyRow(
  client: pg.ClientBase,
  p: PreparedRow,
  options: ImportOptions,
): Promise<{ outcome: UpsertOutcome; templatesAdded: number; siteCreated: boolean }> {
  const siteCreated = await ensureSite(client, p.row.site);
  const { id, outcome } = await upsertEmployee(
    client,
    { employeeNo: p.row.employeeNo, fullName: p.row.fullName, department: p.row.department, site: p.row.site },
    p.pinHash,
  );
  let templatesAdded = 0;
  for (const t of p.templates) {
    if (await storeTemplateGuarded(client, { id, employeeNo: p.row.employeeNo }, t, options)) templatesAdded++;
  }
  return { outcome: outcome === 'unchanged' && templatesAdded > 0 ? 'updated' : outcome, templatesAdded, siteCreated };
}

/** A roster of 100k people with a few photo names each is ~10 MB; anything far beyond is not a roster. */
const MAX_ROSTER_BYTES = 64 * 2 ** 20;

/**
 * Imports a roster file: validates every row, enrols photos, applies valid rows in batches (each row all or
 * nothing, inside a savepoint), reports every bad row with its line and reason. Re-running the same file changes
 * nothing. With dryRun, everything is checked and then rolled back: the summary is the preview of the real run.
 *
 * In mirror mode the deactivations are planned before anything is written, so a refusal (a site over the cap)
 * leaves central as it was; they are applied after the rows, so a run that dies half-way has added people but
 * taken no one away.
 */
export async function importRoster(client: pg.ClientBase, file: string, options: ImportOptions): Promise<ImportSummary> {
  const bytes = readRosterFile(file);
  const { rows, errors } = parseRoster(bytes, {
    file,
    ...(options.photosDir !== undefined ? { photosDir: options.photosDir } : {}),
  });
  // Before anything else, the progress line included: a refused mirror import does nothing but say why.
  const mirror = options.mirror ? await planMirror(client, new Set(rows.map((r) => r.site)), namedInFile(rows, errors), options.mirror) : null;
  if (mirror?.refused && !options.dryRun) throw mirrorRefusal(mirror);
  const total = rows.length + errors.length;
  let done = errors.length;
  const tick = () => options.onProgress?.(++done, total);
  options.onProgress?.(done, total);

  const numbers = rows.map((r) => r.employeeNo);
  const existing = await findEmployees(client, numbers);
  const enrolled = await enrolledPhotoHashes(client, numbers);
  const verdicts = options.photoVerdicts ?? new Map<string, PhotoVerdict>();
  const summary: ImportSummary = {
    file,
    dryRun: options.dryRun,
    rows: total,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    templatesAdded: 0,
    sitesCreated: [],
    errors,
    results: [],
    mirror,
  };
  const sitesCreated = new Set<string>();
  const applied: RowResult[] = [];
  const batchSize = options.batchSize ?? 200;

  for (let start = 0; start < rows.length; start += batchSize) {
    // Photos are analysed before the transaction opens: no transaction waits on the face engine.
    const batch = await prepare(rows.slice(start, start + batchSize), existing, enrolled, verdicts, errors, tick);
    await applyBatch(client, batch, options, { summary, errors, sitesCreated, applied, tick });
  }
  if (mirror && !options.dryRun) mirror.deactivated = await applyMirror(client, mirror);
  summary.failed = errors.length;
  summary.errors = [...errors].sort((a, b) => a.line - b.line);
  summary.sitesCreated = [...sitesCreated].sort();
  summary.results = rowResults(rows, summary.errors, applied);
  log.info('roster import finished', {
    rows: total,
    created: summary.created,
    updated: summary.updated,
    unchanged: summary.unchanged,
    failed: summary.failed,
    dryRun: options.dryRun,
    ...(mirror ? { deactivations: mirror.deactivations.length, deactivated: mirror.deactivated, refused: mirror.refused } : {}),
  });
  return summary;
}

/** Every employee number the file names, its refused rows' included (see planMirror). */
function namedInFile(rows: readonly RosterRow[], errors: readonly RowError[]): Set<string> {
  const named = new Set(rows.map((r) => r.employeeNo));
  for (const e of errors) if (e.employeeNo !== null) named.add(e.employeeNo);
  return named;
}

/** The rows in file order: the applied ones as they went, the refused ones with their code and reason. */
function rowResults(rows: readonly RosterRow[], errors: readonly RowError[], applied: readonly RowResult[]): RowResult[] {
  const byLine = new Map(rows.map((r) => [r.line, r]));
  const failed = errors.map((e): RowResult => {
    const row = byLine.get(e.line);
    return {
      line: e.line,
      employeeNo: e.employeeNo,
      fullName: row?.fullName ?? null,
      site: row?.site ?? null,
      outcome: 'failed',
      templatesAdded: 0,
      code: e.code,
      reason: e.reason,
    };
  });
  return [...applied, ...failed].sort((a, b) => a.line - b.line);
}

/** The roster file's bytes: a regular file of sane size (`roster import /dev/zero`, or a FIFO, would read forever). */
function readRosterFile(file: string): Buffer {
  try {
    const stat = statSync(file);
    if (!stat.isFile() && !stat.isDirectory()) throw new ClockfaceError('ROSTER_INVALID', `cannot read ${file}: not a regular file`);
    if (stat.size > MAX_ROSTER_BYTES) {
      throw new ClockfaceError('ROSTER_INVALID', `cannot read ${file}: larger than ${MAX_ROSTER_BYTES / 2 ** 20} MB; split it into several files`);
    }
    return readFileSync(file);
  } catch (e) {
    if (e instanceof ClockfaceError) throw e;
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    throw new ClockfaceError('ROSTER_INVALID', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`);
  }
}

/**
 * One batch in one transaction, a savepoint per row: a row central refuses is rolled back alone and reported with its
 * line; the others commit together (or roll back together on a dry run).
 */
async function applyBatch(
  client: pg.ClientBase,
  batch: Awaited<ReturnType<typeof prepare>>,
  options: ImportOptions,
  into: { summary: ImportSummary; errors: ImportSummary['errors']; sitesCreated: Set<string>; applied: RowResult[]; tick: () => void },
): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const p of batch) {
      await client.query('SAVEPOINT roster_row');
      try {
        const result = await applyRow(client, p, options);
        await client.query('RELEASE SAVEPOINT roster_row');
        // Only now is the site really there: a row that fails later (a duplicate face) takes its new site with it.
        if (result.siteCreated) into.sitesCreated.add(p.row.site);
        into.summary[result.outcome]++;
        into.summary.templatesAdded += result.templatesAdded;
        const { line, employeeNo, fullName, site } = p.row;
        into.applied.push({ line, employeeNo, fullName, site, outcome: result.outcome, templatesAdded: result.templatesAdded });
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT roster_row');
        const code: RowErrorCode = e instanceof EnrolmentRefused ? e.code : 'DATABASE_REFUSED';
        const reason = e instanceof Error ? e.message : String(e);
        into.errors.push({ line: p.row.line, employeeNo: p.row.employeeNo, code, reason });
      }
      into.tick();
    }
    await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
