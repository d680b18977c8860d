import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHOTO_ZIP_LIMITS, UnzipRefused, unzipPhotos, type UnzipLimits } from '../../electron/console/unzip-photos.js';
import { makeZip, type ZipEntry } from '../support/zip.js';

/**
 * The photos zip of the console's roster upload: a person's zip unpacks as it was; what could harm the machine is
 * refused, each with its own reason, and nothing lands outside the folder: names that climb out (`../`, absolute,
 * backslashes), a zip bomb (one entry, or all together, over the limits), a zip that declares fewer bytes than it
 * holds, too many entries, the same name twice, a file that is not a zip.
 */

describe('unpacking a roster upload\'s photos zip', () => {
  let root: string;
  let n = 0;
  const unzip = async (entries: readonly ZipEntry[] | Buffer, limits?: UnzipLimits) => {
    const dir = join(root, `case-${++n}`);
    mkdirSync(join(dir, 'photos'), { recursive: true });
    const zip = join(dir, 'photos.zip');
    writeFileSync(zip, Buffer.isBuffer(entries) ? entries : makeZip(entries));
    const dest = join(dir, 'photos');
    try {
      return { dest, count: await unzipPhotos(zip, dest, limits), problem: null };
    } catch (e) {
      if (!(e instanceof UnzipRefused)) throw e;
      return { dest, count: 0, problem: e.problem };
    }
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'clockface-unzip-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('unpacks folders and files as they were, readable by the owner only', async () => {
    const { dest, count, problem } = await unzip([
      { name: 'amy/', data: Buffer.alloc(0) },
      { name: 'amy/amy1.png', data: Buffer.from('one') },
      { name: 'raj/raj 2.jpg', data: Buffer.from('two') },
      { name: 'Zoë/李.png', data: Buffer.from('three') },
    ]);
    expect(problem).toBeNull();
    expect(count).toBe(3);
    expect(readFileSync(join(dest, 'raj', 'raj 2.jpg'), 'utf8')).toBe('two');
    expect(readFileSync(join(dest, 'Zoë', '李.png'), 'utf8')).toBe('three');
    expect(statSync(join(dest, 'amy', 'amy1.png')).mode & 0o077).toBe(0);
  });

  it('refuses every name that leaves the folder, and writes nothing outside it', async () => {
    for (const name of ['../escaped.png', 'amy/../../escaped.png', '/tmp/escaped.png', 'amy\\..\\..\\escaped.png', 'C:/escaped.png']) {
      const { dest, problem } = await unzip([{ name: 'amy/amy1.png', data: Buffer.from('ok') }, { name, data: Buffer.from('evil') }]);
      expect(problem, name).toBe('zipUnsafePath');
      expect(existsSync(join(dest, '..', 'escaped.png')), name).toBe(false);
      expect(existsSync(join(dest, '..', '..', 'escaped.png')), name).toBe(false);
    }
    expect(existsSync('/tmp/escaped.png')).toBe(false);
  });

  it('refuses a zip bomb by its declared sizes before unpacking it, and a zip that lies about them while unpacking', async () => {
    // 40 MB of zeros packs into ~40 kB: over the 32 MB a photo may have.
    const bomb = await unzip([{ name: 'bomb.png', data: Buffer.alloc(40 * 2 ** 20) }]);
    expect(bomb.problem).toBe('zipTooLarge');
    expect(readdirSync(bomb.dest)).toEqual([]);
    expect(PHOTO_ZIP_LIMITS.maxEntryBytes).toBe(32 * 2 ** 20);
    // Each entry small, all together too much.
    const small: UnzipLimits = { maxEntries: 100, maxEntryBytes: 1000, maxTotalBytes: 1500 };
    expect((await unzip([{ name: 'a.png', data: Buffer.alloc(1000) }, { name: 'b.png', data: Buffer.alloc(1000) }], small)).problem).toBe('zipTooLarge');
    // Declares 10 bytes, holds a megabyte: stopped at the lie, not at the end.
    const liar = await unzip([{ name: 'liar.png', data: Buffer.alloc(2 ** 20, 7), declaredSize: 10 }]);
    expect(liar.problem).toBe('zipTooLarge');
    expect(existsSync(join(liar.dest, 'liar.png')) ? statSync(join(liar.dest, 'liar.png')).size : 0).toBeLessThanOrEqual(10);
  });

  it('refuses too many entries, the same name twice, and a file that is not a zip', async () => {
    const few: UnzipLimits = { ...PHOTO_ZIP_LIMITS, maxEntries: 2 };
    expect((await unzip(['a', 'b', 'c'].map((name) => ({ name: `${name}.png`, data: Buffer.from(name) })), few)).problem).toBe('zipTooManyFiles');
    expect((await unzip([{ name: 'a.png', data: Buffer.from('1') }, { name: 'a.png', data: Buffer.from('2') }])).problem).toBe('zipDuplicate');
    expect((await unzip([{ name: 'a', data: Buffer.from('1') }, { name: 'a/b.png', data: Buffer.from('2') }])).problem).toBe('zipDuplicate');
    expect((await unzip(Buffer.from('PK\u0003\u0004 not really a zip'))).problem).toBe('zipInvalid');
    expect((await unzip(makeZip([{ name: 'a.png', data: Buffer.from('x') }]).subarray(0, 40))).problem).toBe('zipInvalid');
  });
});
