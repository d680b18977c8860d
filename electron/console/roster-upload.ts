import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { unzipPhotos } from './unzip-photos.js';

/**
 * Receives the roster import form (multipart: the CSV, optionally a zip of photos, a few fields) into a folder,
 * streaming each file to disk under a size limit of its own, then unpacks the zip (unzip-photos.ts) and deletes it.
 */

/** The CSV: the import reads at most 64 MB (import-roster.ts), so more is refused before it reaches the disk. */
export const MAX_CSV_BYTES = 64 * 2 ** 20;
/**
 * The photos zip: ~2,000 people with a few phone photos each. More is a job for the CLI or several uploads: a browser
 * upload of gigabytes fails in ways nobody can act on, and the folder holds the zip and its contents at once.
 */
export const MAX_ZIP_BYTES = 512 * 2 ** 20;

export type UploadProblem = 'importNoCsv' | 'importTooLarge' | 'importBadUpload';

export class UploadRefused extends Error {
  constructor(readonly problem: UploadProblem) {
    super(`roster upload refused: ${problem}`);
  }
}

export interface ReceivedRoster {
  csvPath: string;
  csvName: string;
  /** The unpacked photos, or null when no zip came. */
  photosDir: string | null;
  photos: number;
  fields: Record<string, string>;
}

function atMost(limit: number): (source: Readable) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let seen = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > limit) throw new UploadRefused('importTooLarge');
      yield chunk;
    }
  };
}

/** The parser's own refusals (a file over busboy's limit, too many parts, not multipart at all) as ours. */
function uploadProblem(e: unknown): unknown {
  if (e instanceof UploadRefused) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new UploadRefused('importTooLarge');
  if (code.startsWith('FST_')) return new UploadRefused('importBadUpload');
  return e;
}

/** Reads the form into `dir` (which exists and is empty). */
export async function receiveRoster(request: FastifyRequest, dir: string): Promise<ReceivedRoster> {
  const csvPath = join(dir, 'roster.csv');
  const zipPath = join(dir, 'photos.zip');
  let csvName: string | null = null;
  let zipSent = false;
  const fields: Record<string, string> = {};
  try {
    const parts = request.parts({ limits: { files: 2, fields: 10, parts: 12, fieldSize: 1024, fileSize: MAX_ZIP_BYTES } });
    for await (const part of parts) {
      if (part.type === 'field') {
        fields[part.fieldname] = typeof part.value === 'string' ? part.value : '';
        continue;
      }
      // A file input left empty still sends a part, with no name and no bytes.
      const target = part.fieldname === 'csv' ? csvPath : part.fieldname === 'photos' ? zipPath : null;
      if (target === null || part.filename === '' || (target === csvPath ? csvName !== null : zipSent)) {
        part.file.resume();
        continue;
      }
      await pipeline(part.file, atMost(target === csvPath ? MAX_CSV_BYTES : MAX_ZIP_BYTES), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      if (part.file.truncated) throw new UploadRefused('importTooLarge');
      if (target === csvPath) csvName = part.filename;
      else zipSent = true;
    }
  } catch (e) {
    throw uploadProblem(e);
  }
  if (csvName === null) throw new UploadRefused('importNoCsv');
  if (!zipSent) return { csvPath, csvName, photosDir: null, photos: 0, fields };
  const photosDir = join(dir, 'photos');
  await mkdir(photosDir, { mode: 0o700 });
  try {
    const photos = await unzipPhotos(zipPath, photosDir);
    return { csvPath, csvName, photosDir, photos, fields };
  } finally {
    await rm(zipPath, { force: true });
  }
}
