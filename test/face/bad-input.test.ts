import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, MAX_IMAGE_SIDE } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import type { AnalyzeOptions, FaceEngine } from '../../shared/face/engine.js';
import { descriptorDistance } from '../../shared/face/descriptor.js';
import { bbtPhoto, GROUP_DIR } from '../support/faces.js';

const ENROL: AnalyzeOptions = { detector: 'ssd', padding: 'auto', purpose: 'enrol' };

describe('bad and awkward input: a clear error code or a result, never a crash or a hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-bad-'));
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await nodeFaceEngine();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, data: Buffer | string): string => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  it.each([
    ['an empty file', () => write('empty.png', Buffer.alloc(0))],
    ['random bytes', () => write('noise.jpg', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)))],
    ['a text file', () => write('roster.png', 'employee_no,full_name\n1,Amy\n')],
    ['a truncated PNG', () => write('half.png', readFileSync(bbtPhoto('amy', 1)).subarray(0, 2000))],
    ['a missing file', () => join(dir, 'not-there.png')],
  ])('%s → IMAGE_UNREADABLE', async (_, makePath) => {
    await expect(decodeImage(makePath())).rejects.toMatchObject({ code: 'IMAGE_UNREADABLE' });
  });

  it('a decompression bomb (a small file that decodes to 120 megapixels) → IMAGE_TOO_LARGE', async () => {
    const bomb = await sharp({ create: { width: 12_000, height: 10_000, channels: 3, background: '#000' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(2_000_000);
    await expect(decodeImage(write('bomb.png', bomb))).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('a 50-megapixel photo is scaled down first and its face still found', async () => {
    const group = sharp(`${GROUP_DIR}/bbt2.jpg`).resize(8200, 6100, { fit: 'fill' });
    const path = write('huge.jpg', await group.jpeg({ quality: 80 }).toBuffer());
    const image = await decodeImage(path);
    expect(Math.max(image.width, image.height)).toBe(MAX_IMAGE_SIDE);
    const result = await engine.analyze(image, { detector: 'ssd', padding: 0, purpose: 'kiosk' });
    expect(result.face).not.toBeNull();
  });

  it('a PNG with a transparent background gives the same face as the opaque photo', async () => {
    const opaque = await engine.analyze(await decodeImage(bbtPhoto('penny', 5)), ENROL);
    // Make the outer ring transparent: alpha is flattened onto the same grey the engine pads with.
    const { width, height } = await sharp(bbtPhoto('penny', 5)).metadata();
    const mask = Buffer.from(
      `<svg width="${width}" height="${height}"><ellipse cx="${width / 2}" cy="${height / 2}" rx="${width * 0.48}" ry="${height * 0.5}" fill="#fff"/></svg>`,
    );
    const withAlpha = await sharp(bbtPhoto('penny', 5)).ensureAlpha().composite([{ input: mask, blend: 'dest-in' }]).png().toBuffer();
    expect((await sharp(withAlpha).metadata()).hasAlpha).toBe(true);
    const transparent = await engine.analyze(await decodeImage(withAlpha), ENROL);
    expect(transparent.face).not.toBeNull();
    if (!opaque.face || !transparent.face) throw new Error('face expected');
    expect(descriptorDistance(opaque.face.descriptor, transparent.face.descriptor)).toBeLessThan(0.2);
  });

  it('EXIF orientation is applied: a sideways-stored JPEG tagged "rotate 90°" reads like the upright one', async () => {
    const upright = write('upright.jpg', await sharp(bbtPhoto('sheldon', 1)).jpeg({ quality: 95 }).toBuffer());
    const sideways = write(
      'sideways.jpg',
      await sharp(bbtPhoto('sheldon', 1)).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
    );
    const a = await decodeImage(upright);
    const b = await decodeImage(sideways);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    const fa = await engine.analyze(a, ENROL);
    const fb = await engine.analyze(b, ENROL);
    if (!fa.face || !fb.face) throw new Error('face expected');
    expect(Math.abs(fb.face.pose.roll)).toBeLessThan(10);
    expect(descriptorDistance(fa.face.descriptor, fb.face.descriptor)).toBeLessThan(0.15);
  });

  it('grayscale photos are turned into three channels', async () => {
    const meta = await sharp(bbtPhoto('amy', 1)).metadata();
    const gray = await decodeImage(await sharp(bbtPhoto('amy', 1)).grayscale().toBuffer());
    expect(gray.data.length).toBe((meta.width ?? 0) * (meta.height ?? 0) * 3);
    expect((await engine.analyze(gray, ENROL)).face).not.toBeNull();
  });
});
