import type { RgbImage } from './types.js';

/** Mid grey: what the detector sees around a tight crop. Measured: a border of it lifts SSD detection on
 * 150×150 crops from 6/40 (none) to 40/40 (a border as wide as the image on each side). */
export const PAD_GREY = 128;

/** Puts `border` pixels of grey around the image. Pure, so both runtimes pad to the same bytes. */
export function padRgb(image: RgbImage, border: number): RgbImage {
  if (border <= 0) return image;
  const width = image.width + 2 * border;
  const height = image.height + 2 * border;
  const data = new Uint8Array(width * height * 3).fill(PAD_GREY);
  const rowBytes = image.width * 3;
  for (let y = 0; y < image.height; y++) {
    const from = y * rowBytes;
    data.set(image.data.subarray(from, from + rowBytes), ((y + border) * width + border) * 3);
  }
  return { width, height, data };
}

/** RGBA (canvas ImageData) to RGB: the engine's one input format. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = rgba[i] ?? 0;
    data[j + 1] = rgba[i + 1] ?? 0;
    data[j + 2] = rgba[i + 2] ?? 0;
  }
  return { width, height, data };
}

/** The `width`×`height` part of the image whose top-left corner is (x, y); the rectangle must lie inside it. */
export function cropRgb(image: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 3;
    data.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return { width, height, data };
}
