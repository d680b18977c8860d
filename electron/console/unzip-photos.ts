import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { MAX_IMAGE_BYTES } from '../face/decode-image.js';

/**
 * Unpacks the photos zip of a roster upload into a folder, refusing what could harm the machine rather than the
 * roster: a path that leaves the folder (`../`, absolute, a drive letter), a zip bomb (declared sizes are checked
 * before a byte is unpacked, and the bytes actually unpacked are counted, so a zip that lies about its sizes is
 * stopped at the lie), too many entries, encrypted entries. Every file is written new (`wx`) and owner-only; a zip
 * holding the same name twice is refused, not unpacked over itself. Nothing is unpacked outside `dest`.
 */

export interface UnzipLimits {
  /** At most this many entries (files and folders). */
  maxEntries: number;
  /** At most this many bytes for one file once unpacked. */
  maxEntryBytes: number;
  /** At most this many bytes for all files once unpacked. */
  maxTotalBytes: number;
}

/** A roster's photos: tens of thousands of files; each photo at most what the import reads; 1 GiB in all. */
export const PHOTO_ZIP_LIMITS: UnzipLimits = { maxEntries: 20_000, maxEntryBytes: MAX_IMAGE_BYTES, maxTotalBytes: 2 ** 30 };

export type UnzipProblem = 'zipInvalid' | 'zipUnsafePath' | 'zipTooLarge' | 'zipTooManyFiles' | 'zipEncrypted' | 'zipDuplicate';

/** Why the zip was refused; `problem` picks the sentence the person reads. */
export class UnzipRefused extends Error {
  constructor(readonly problem: UnzipProblem) {
    super(`photos zip refused: ${problem}`);
  }
}

function inside(dest: string, target: string): boolean {
  const rel = relative(dest, target);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Passes the bytes on, failing once more than `limit` have gone by: the check that does not trust the header. */
function atMost(limit: number): (source: Readable) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let seen = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > limit) throw new UnzipRefused('zipTooLarge');
      yield chunk;
    }
  };
}

/** What an unpacking failure means to the person: their zip's fault, or (the disk full…) not theirs, as it was. */
function refusalFor(e: unknown): unknown {
  if (e instanceof UnzipRefused) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  // The same name twice, or a file where the zip also has a folder of that name.
  if (code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR') return new UnzipRefused('zipDuplicate');
  if (/^E[A-Z]+$/.test(code)) return e;
  // yauzl's size checks ("too many bytes in the stream"), zlib's broken data, a bad local header.
  return new UnzipRefused(/too many bytes/.test(String(e)) ? 'zipTooLarge' : 'zipInvalid');
}

/** Unpacks `zipPath` into `dest` (which exists); returns how many files it wrote. */
export async function unzipPhotos(zipPath: string, dest: string, limits: UnzipLimits = PHOTO_ZIP_LIMITS): Promise<number> {
  let zip: yauzl.ZipFile;
  try {
    // yauzl refuses absolute and `..` names itself (strictFileNames off only turns `\` into `/`), and with
    // validateEntrySizes a stream that unpacks to more than its entry declared fails.
    zip = await yauzl.openPromise(zipPath, { autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch {
    throw new UnzipRefused('zipInvalid');
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw new UnzipRefused('zipTooManyFiles');
    let declared = 0;
    let written = 0;
    const entries = zip.eachEntry();
    for (;;) {
      let next: IteratorResult<yauzl.Entry>;
      try {
        next = await entries.next();
      } catch (e) {
        throw new UnzipRefused(/absolute path|invalid relative path|invalid characters/.test(String(e)) ? 'zipUnsafePath' : 'zipInvalid');
      }
      if (next.done) break;
      const entry = next.value;
      const target = resolve(dest, entry.fileName);
      if (!inside(dest, target)) throw new UnzipRefused('zipUnsafePath');
      const folder = entry.fileName.endsWith('/');
      if (!folder) {
        if (entry.isEncrypted()) throw new UnzipRefused('zipEncrypted');
        declared += entry.uncompressedSize;
        if (entry.uncompressedSize > limits.maxEntryBytes || declared > limits.maxTotalBytes) throw new UnzipRefused('zipTooLarge');
      }
      try {
        await mkdir(folder ? target : dirname(target), { recursive: true, mode: 0o700 });
        if (folder) continue;
        const stream = await zip.openReadStreamPromise(entry);
        await pipeline(stream, atMost(entry.uncompressedSize), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      } catch (e) {
        throw refusalFor(e);
      }
      written++;
    }
    return written;
  } finally {
    zip.close();
  }
}
