import { openSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ClockfaceError } from '../../shared/errors.js';
import { PAD_GREY } from '../../shared/face/pad.js';
import type { RgbImage } from '../../shared/face/types.js';

/** Longest side the engine works on: detectors resize to ≤512 px anyway, so more only costs time and memory. */
export const MAX_IMAGE_SIDE = 1600;
/** Refuse decompression bombs before decoding: 100 megapixels is far beyond any camera photo of a face. */
export const MAX_INPUT_PIXELS = 100_000_000;
/** Refuse oversized files before reading them: a 100-megapixel camera JPEG is about 30 MB; a face photo far less. */
export const MAX_IMAGE_BYTES = 32 * 2 ** 20;
/**
 * The photo formats taken. Everything else sharp could open is refused before decoding: SVG (a program for librsvg,
 * with external references and entity expansion), PDF, and formats no camera writes.
 */
const PHOTO_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff']);

const tooLarge = () => new ClockfaceError('IMAGE_TOO_LARGE', `image file is larger than ${MAX_IMAGE_BYTES / 2 ** 20} MB`);

/** Reads a photo file, refusing one over {@link MAX_IMAGE_BYTES} from its size, before its bytes are read. */
export function readImageFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ClockfaceError('IMAGE_UNREADABLE', `cannot open the image (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ClockfaceError('IMAGE_UNREADABLE', 'not a file');
    if (stat.size > MAX_IMAGE_BYTES) throw tooLarge();
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Decodes a photo into the engine's RGB format the way a browser shows it: EXIF orientation applied, ICC profiles
 * and grayscale converted to sRGB, alpha flattened onto the padding grey, large images scaled down.
 */
export async function decodeImage(input: string | Buffer): Promise<RgbImage> {
  if (typeof input !== 'string') return decodeBytes(input);
  try {
    return await decodeBytes(readImageFile(input));
  } catch (e) {
    // A message about a file names the file: "not a readable image" alone leaves a person guessing which.
    if (e instanceof ClockfaceError) throw new ClockfaceError(e.code, `${input}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
    throw e;
  }
}

async function decodeBytes(bytes: Buffer): Promise<RgbImage> {
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge();
  const grey = { r: PAD_GREY, g: PAD_GREY, b: PAD_GREY };
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' } as const;
  try {
    // The header alone says the format: anything but a photo format is refused without being decoded.
    const { format } = await sharp(bytes, options).metadata();
    if (!PHOTO_FORMATS.has(format)) {
      throw new ClockfaceError('IMAGE_UNREADABLE', `not a photo (${format}); use JPEG, PNG, WebP or TIFF`);
    }
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .flatten({ background: grey })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    if (e instanceof ClockfaceError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    if (/exceeds pixel limit/i.test(message)) {
      throw new ClockfaceError('IMAGE_TOO_LARGE', `image is larger than ${MAX_INPUT_PIXELS / 1e6} megapixels`, {
        cause: e,
      });
    }
    throw new ClockfaceError('IMAGE_UNREADABLE', `not a readable image (${firstLine(message)})`, { cause: e });
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]?.slice(0, 200) ?? s;
}
