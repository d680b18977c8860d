import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, MAX_IMAGE_BYTES, MAX_INPUT_PIXELS } from '../../electron/face/decode-image.js';
import type { ImportSummary } from '../../electron/roster/import-roster.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { recordTally } from '../support/fault-tally.js';
import { bbtPhoto } from '../support/faces.js';
import { runCli } from '../support/run-cli.js';

/**
 * Hostile images (issue 8): decompression bombs, oversized files, truncated and corrupt images, wrong extensions,
 * empty files, SVG and other non-photos. Each is refused with a clear reason, memory stays bounded, and the rest of
 * an import batch goes in. Images never touch the database, so the embedded central is enough here.
 */

/** A PNG whose header declares width × height but which holds almost no data: the classic decompression bomb. */
function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // RGB
  // One row of zeros, compressed: a real decoder would have to allocate the whole image before finding it short.
  const idat = deflateSync(Buffer.alloc(1 + width * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small real JPEG whose frame header (SOF0) is rewritten to declare width × height. */
async function jpegDeclaring(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg({ quality: 50 }).toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no SOF0 marker in the generated JPEG');
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

interface HostileImage {
  kind: string;
  file: string;
  make: () => Promise<Buffer> | Buffer;
  /** What the import must say about it (a regexp on the reason). */
  reason: RegExp;
}

const megapixels = new RegExp(`larger than ${MAX_INPUT_PIXELS / 1e6} megapixels`);

const HOSTILE: HostileImage[] = [
  { kind: 'decompression bomb (PNG 50,000 × 50,000 declared)', file: 'bomb-50k.png', make: () => pngDeclaring(50_000, 50_000), reason: megapixels },
  // Between our limit and sharp's own default (268 MP): only our limitInputPixels stops this one.
  { kind: 'decompression bomb (PNG 15,000 × 15,000 declared)', file: 'bomb-15k.png', make: () => pngDeclaring(15_000, 15_000), reason: megapixels },
  { kind: 'decompression bomb (JPEG 15,000 × 15,000 declared)', file: 'bomb-15k.jpg', make: () => jpegDeclaring(15_000, 15_000), reason: megapixels },
  {
    kind: 'oversized file (a real photo padded to 50 MB)',
    file: 'huge.jpg',
    // Decoders stop at the JPEG's end marker, so without a size cap this would be read whole and enrolled.
    make: async () => Buffer.concat([await sharp(bbtPhoto('leonard', 2)).jpeg().toBuffer(), Buffer.alloc(50 * 2 ** 20)]),
    reason: new RegExp(`larger than ${MAX_IMAGE_BYTES / 2 ** 20} MB`),
  },
  {
    kind: 'truncated image',
    file: 'truncated.jpg',
    make: async () => {
      const jpeg = await sharp(bbtPhoto('howard', 1)).jpeg().toBuffer();
      return jpeg.subarray(0, Math.floor(jpeg.length / 2));
    },
    reason: /not a readable image/,
  },
  { kind: 'truncated image', file: 'truncated.png', make: () => readFileSync(bbtPhoto('raj', 1)).subarray(0, 3000), reason: /not a readable image/ },
  {
    kind: 'corrupt image (bytes flipped inside)',
    file: 'corrupt.png',
    make: () => {
      const png = Buffer.from(readFileSync(bbtPhoto('stuart', 1)));
      for (let i = 200; i < png.length - 100; i += 97) png[i] = (png[i] ?? 0) ^ 0xff;
      return png;
    },
    reason: /not a readable image/,
  },
  { kind: 'zero-byte file', file: 'empty.jpg', make: () => Buffer.alloc(0), reason: /not a readable image/ },
  {
    kind: 'SVG or other non-photo',
    file: 'face.svg',
    make: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><image href="file:///etc/passwd"/><circle cx="200" cy="200" r="150"/></svg>'),
    reason: /not a photo \(svg\)/,
  },
  {
    kind: 'SVG or other non-photo',
    file: 'svg-named.png',
    make: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40000" height="40000"><rect width="100%" height="100%"/></svg>'),
    reason: /not a photo \(svg\)|megapixels/,
  },
  {
    kind: 'SVG or other non-photo',
    file: 'document.jpg',
    make: () => Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
    reason: /not a readable image|not a photo/,
  },
  { kind: 'SVG or other non-photo', file: 'roster.png', make: () => Buffer.from('employee_no,full_name\n1,Amy\n'), reason: /not a readable image/ },
  {
    kind: 'SVG or other non-photo',
    file: 'anim.gif',
    make: () => sharp(bbtPhoto('bernadette', 3)).gif().toBuffer(),
    reason: /not a photo \(gif\)/,
  },
];

/** One tally entry per kind, after the test's assertions passed. */
function recordKinds(kinds: readonly string[], outcome: string): void {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const [kind, count] of counts) recordTally({ area: 'hostile', kind: `image: ${kind}`, count, outcome });
}

describe('hostile images: refused fast and clearly, memory bounded, the rest of the batch imported', () => {
  const root = mkdtempSync(join(tmpdir(), 'clockface-hostile-images-'));
  const photos = join(root, 'photos');
  const factory = centralFactories().find((f) => f.kind === 'embedded');
  let central: TestCentral;
  let admin: pg.Client;

  beforeAll(async () => {
    if (!factory) throw new Error('the embedded central is always available');
    mkdirSync(photos, { recursive: true });
    for (const h of HOSTILE) writeFileSync(join(photos, h.file), await h.make());
    // Good photos around them, one with the wrong extension (a PNG named .jpg): content decides, not the name.
    copyFileSync(bbtPhoto('amy', 1), join(photos, 'amy.png'));
    copyFileSync(bbtPhoto('penny', 1), join(photos, 'penny-really-a-png.jpg'));
    writeFileSync(join(photos, 'sheldon-really-a-jpeg.png'), await sharp(bbtPhoto('sheldon', 1)).jpeg({ quality: 92 }).toBuffer());
    central = await startMigrated(factory);
    admin = await central.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await central?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('decodeImage refuses each one with IMAGE_TOO_LARGE or IMAGE_UNREADABLE, and memory stays bounded', async () => {
    const before = process.resourceUsage().maxRSS; // kB, the peak so far
    for (const h of HOSTILE) {
      const attempt = decodeImage(join(photos, h.file));
      await expect(attempt, h.file).rejects.toMatchObject({ code: expect.stringMatching(/^IMAGE_(TOO_LARGE|UNREADABLE)$/) });
      await expect(decodeImage(join(photos, h.file)), h.file).rejects.toThrow(h.reason);
    }
    const grownMb = (process.resourceUsage().maxRSS - before) / 1024;
    console.log(`[hostile-images] peak RSS grew by ${grownMb.toFixed(0)} MB over ${HOSTILE.length * 2} hostile decodes`);
    // A 50,000 × 50,000 RGB image is 7.5 GB and the 50 MB file 50 MB: neither was ever held in memory.
    expect(grownMb).toBeLessThan(40);
    recordKinds(HOSTILE.map((h) => h.kind), 'decodeImage: IMAGE_TOO_LARGE / IMAGE_UNREADABLE with the reason');
  });

  it('an import batch mixing them with good photos: each bad row refused with its reason, the good rows imported', async () => {
    const lines = ['employee_no,full_name,department,site,photos,pin'];
    HOSTILE.forEach((h, i) => lines.push(`IMG-${i},Hostile ${i},Ops,img,${h.file},`));
    lines.push('IMG-OK-1,Amy,Ops,img,amy.png,');
    lines.push('IMG-OK-2,Penny,Ops,img,penny-really-a-png.jpg,');
    lines.push('IMG-OK-3,Sheldon,Ops,img,sheldon-really-a-jpeg.png,');
    // A good photo and a bomb in the same row: the row is all or nothing.
    lines.push('IMG-MIX,Mixed,Ops,img,amy.png;bomb-15k.png,');
    const file = join(root, 'images.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await runCli(['roster', 'import', file, '--photos', photos, '--json'], { CLOCKFACE_DATABASE_URL: central.url }, 240_000);
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as ImportSummary;
    const byNo = new Map(summary.errors.map((e) => [e.employeeNo, e]));
    HOSTILE.forEach((h, i) => {
      const error = byNo.get(`IMG-${i}`);
      expect(error?.code, h.file).toBe('PHOTO_UNREADABLE');
      expect(error?.reason, h.file).toMatch(h.reason);
      expect(error?.line).toBe(i + 2);
    });
    expect(byNo.get('IMG-MIX')?.code).toBe('PHOTO_UNREADABLE');
    expect(summary).toMatchObject({ created: 3, failed: HOSTILE.length + 1, templatesAdded: 3 });
    const { rows } = await admin.query<{ employee_no: string; templates: number }>(
      `SELECT e.employee_no, count(t.id)::int AS templates FROM employees e LEFT JOIN face_templates t ON t.employee_id = e.id
       WHERE e.employee_no LIKE 'IMG-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { employee_no: 'IMG-OK-1', templates: 1 },
      { employee_no: 'IMG-OK-2', templates: 1 },
      { employee_no: 'IMG-OK-3', templates: 1 },
    ]);
    recordKinds(HOSTILE.map((h) => h.kind), 'import: refused PHOTO_UNREADABLE with the reason; the batch went on');
    recordKinds(['wrong file extension (accepted on its content)', 'wrong file extension (accepted on its content)'], 'imported: content decides, not the name');
  });
});
