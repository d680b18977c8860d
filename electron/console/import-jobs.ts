import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isClockfaceError, type ErrorCode } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { explainSqlError } from '../central/sql-errors.js';
import type { PhotoVerdict } from '../roster/enrol-photos.js';
import { importRoster, type ImportSummary } from '../roster/import-roster.js';
import type { ConsoleSession } from './sessions.js';

const log = createLogger('console.roster-import');

/**
 * The console's roster imports: one per session at a time, from upload through preview to apply. The import itself
 * is `importRoster`, the CLI's, run on the person's own connection (so central's rights and its audit log see their
 * login); the preview is its dry run. Both run in the background while the page polls `status`.
 *
 * The uploaded files live in an owner-only temp folder that is removed once the import is applied (or fails, or is
 * discarded, or replaced by a new upload) and, at the latest, when the session's connection ends (sign-out, idle
 * expiry, the console stopping). Nothing here is logged but counts and codes: the files hold names and faces.
 */

export type ImportPhase = 'previewing' | 'previewed' | 'applying' | 'applied' | 'failed';

export interface ImportSettings {
  mirror: boolean;
  maxSharePercent: number;
  allowDuplicateFace: boolean;
}

export interface ImportJob {
  /** Random, in the job's URLs; an apply is accepted once, while the job is previewed. */
  readonly id: string;
  readonly dir: string;
  readonly csvPath: string;
  /** The name the file had on the person's computer: messages about the file say it, not the temp path. */
  readonly csvName: string;
  readonly photosDir: string | null;
  readonly photos: number;
  readonly settings: ImportSettings;
  phase: ImportPhase;
  progress: { done: number; total: number };
  preview: ImportSummary | null;
  result: ImportSummary | null;
  failure: { code: ErrorCode; message: string } | null;
  /** The face engine's verdicts from the preview, by photo hash: the apply does not analyse the same photos again. */
  readonly verdicts: Map<string, PhotoVerdict>;
}

export type NewImport = Pick<ImportJob, 'dir' | 'csvPath' | 'csvName' | 'photosDir' | 'photos' | 'settings'>;

const running = (job: ImportJob | undefined): boolean => job?.phase === 'previewing' || job?.phase === 'applying';

export class ImportJobs {
  private readonly bySession = new WeakMap<ConsoleSession, ImportJob>();
  private readonly watched = new WeakSet<ConsoleSession>();

  /** A folder for a new upload (owner-only, as mkdtemp makes it). */
  static newFolder(): Promise<string> {
    return mkdtemp(join(tmpdir(), 'clockface-import-'));
  }

  current(session: ConsoleSession): ImportJob | null {
    return this.bySession.get(session) ?? null;
  }

  /** The session's job with this id, or null (another id: gone, or never this session's). */
  find(session: ConsoleSession, id: string): ImportJob | null {
    const job = this.bySession.get(session);
    return job && job.id === id ? job : null;
  }

  isRunning(session: ConsoleSession): boolean {
    return running(this.bySession.get(session));
  }

  /**
   * Takes a new upload as the session's job and starts its preview. The session's earlier job, applied or only
   * previewed, is dropped with its files; while one runs, the new upload is refused (null) and its folder removed.
   */
  async start(session: ConsoleSession, upload: NewImport): Promise<ImportJob | null> {
    const earlier = this.bySession.get(session);
    if (running(earlier)) {
      await remove(upload.dir);
      return null;
    }
    if (earlier) await remove(earlier.dir);
    const job: ImportJob = {
      ...upload,
      id: randomBytes(16).toString('base64url'),
      phase: 'previewing',
      progress: { done: 0, total: 0 },
      preview: null,
      result: null,
      failure: null,
      verdicts: new Map(),
    };
    this.bySession.set(session, job);
    this.watch(session);
    this.run(session, job, false);
    return job;
  }

  /** Applies a previewed job (once: a second click finds it applying). False when it is not waiting to be applied. */
  apply(session: ConsoleSession, id: string, allowMassDeactivation: boolean): boolean {
    const job = this.find(session, id);
    if (!job || job.phase !== 'previewed') return false;
    job.phase = 'applying';
    job.failure = null;
    this.run(session, job, true, allowMassDeactivation);
    return true;
  }

  /** Drops the session's job and its files, unless it is running. */
  async discard(session: ConsoleSession, id: string): Promise<boolean> {
    const job = this.find(session, id);
    if (!job || running(job)) return false;
    this.bySession.delete(session);
    await remove(job.dir);
    return true;
  }

  private run(session: ConsoleSession, job: ImportJob, apply: boolean, allowMassDeactivation = false): void {
    job.progress = { done: 0, total: 0 };
    const work = session.serial((client) =>
      importRoster(client, job.csvPath, {
        dryRun: !apply,
        allowDuplicateFace: job.settings.allowDuplicateFace,
        photoVerdicts: job.verdicts,
        onProgress: (done, total) => {
          job.progress = { done, total };
        },
        ...(job.photosDir !== null ? { photosDir: job.photosDir } : {}),
        ...(job.settings.mirror ? { mirror: { maxSharePercent: job.settings.maxSharePercent, allowMassDeactivation } } : {}),
      }),
    );
    void work.then(
      async (summary) => {
        if (apply) {
          job.result = summary;
          job.phase = 'applied';
          await remove(job.dir);
        } else {
          job.preview = summary;
          job.phase = 'previewed';
        }
      },
      async (e: unknown) => {
        const explained = explainSqlError(e);
        if (isClockfaceError(explained)) {
          job.failure = { code: explained.code, message: explained.message.split(job.csvPath).join(job.csvName) };
        } else {
          // Only what kind of failure: a driver's message can quote a row's values.
          log.error('roster import failed', { apply, error: e instanceof Error ? e.name : typeof e });
          job.failure = { code: 'INTERNAL', message: '' };
        }
        // Central changed since the preview and a site is now over the cap: nothing was written; the person may
        // confirm and apply again.
        if (apply && job.failure.code === 'MASS_DEACTIVATION_REFUSED') {
          job.phase = 'previewed';
          return;
        }
        job.phase = 'failed';
        await remove(job.dir);
      },
    );
  }

  /** Removes the session's files when its connection ends, however it ends. */
  private watch(session: ConsoleSession): void {
    if (this.watched.has(session)) return;
    this.watched.add(session);
    session.client.once('end', () => {
      const job = this.bySession.get(session);
      this.bySession.delete(session);
      if (job) void remove(job.dir);
    });
  }
}

async function remove(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch((e: unknown) => {
    log.warn('could not remove an import folder', { error: e instanceof Error ? e.message : String(e) });
  });
}
