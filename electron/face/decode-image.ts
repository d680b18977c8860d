import sharp from 'sharp';
import { ClockfaceError } from '../../shared/errors.js';
import { PAD_GREY } from '../../shared/face/pad.js';
import type { RgbImage } from '../../shared/face/types.js';

/** Longest side the engine works on: detectors resize to ≤512 px anyway, so more only costs time and memory. */
export const MAX_IMAGE_SIDE = 1600;
/** Refuse decompression bombs before decoding: 100 megapixels is far beyond any camera photo of a face. */
export const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes a photo into the engine's RGB format the way a browser shows it: EXIF orientation applied, ICC profiles
 * and grayscale converted to sRGB, alpha flattened onto the padding grey, large images scaled down.
 */
export async function decodeImage(input: string | Buffer): Promise<RgbImage> {
  const grey = { r: PAD_GREY, g: PAD_GREY, b: PAD_GREY };
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
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
