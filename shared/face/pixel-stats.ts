import type { FaceBox, RgbImage } from './types.js';

/** Side of the grey grid the face is sampled onto, so that sharpness does not depend on the face's pixel size. */
const GRID = 64;

export interface FacePixelStats {
  /** Mean luma of the face, 0 (black) to 255 (white). */
  brightness: number;
  /** Variance of the Laplacian of the face on a 64×64 grid, over the face's own contrast (×100): low means
   * blurred, whatever the lighting. */
  sharpness: number;
}

/**
 * Brightness and sharpness of the face region, from raw RGB pixels. Pure arithmetic, so the kiosk (browser) and
 * enrolment (Node) measure the same numbers from the same pixels.
 */
export function facePixelStats(image: RgbImage, box: FaceBox): FacePixelStats {
  // The inner part of the box: the detector's box includes hair and background at its edges.
  const x0 = Math.max(0, Math.floor(box.x + box.width * 0.15));
  const y0 = Math.max(0, Math.floor(box.y + box.height * 0.15));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width * 0.85));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height * 0.85));
  const w = x1 - x0;
  const h = y1 - y0;
  if (w <= 0 || h <= 0) return { brightness: 0, sharpness: 0 };

  // Area-average the region onto the grid (a box filter: downscaling without aliasing).
  const grid = new Float64Array(GRID * GRID);
  const counts = new Uint32Array(GRID * GRID);
  let lumaSum = 0;
  for (let y = y0; y < y1; y++) {
    const gy = Math.min(GRID - 1, Math.floor(((y - y0) * GRID) / h));
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 3;
      const luma = 0.299 * (image.data[i] ?? 0) + 0.587 * (image.data[i + 1] ?? 0) + 0.114 * (image.data[i + 2] ?? 0);
      lumaSum += luma;
      const gx = Math.min(GRID - 1, Math.floor(((x - x0) * GRID) / w));
      const g = gy * GRID + gx;
      grid[g] = (grid[g] ?? 0) + luma;
      counts[g] = (counts[g] ?? 0) + 1;
    }
  }
  for (let g = 0; g < grid.length; g++) {
    const n = counts[g] ?? 0;
    grid[g] = n > 0 ? (grid[g] ?? 0) / n : 0;
  }
  // A face smaller than the grid leaves cells empty; fill them from the left neighbour so edges are not invented.
  for (let g = 1; g < grid.length; g++) if ((counts[g] ?? 0) === 0) grid[g] = grid[g - 1] ?? 0;

  // Contrast of the face itself, so that a dim but sharp face does not read as blurred.
  let gridSum = 0;
  let gridSumSq = 0;
  for (const v of grid) {
    gridSum += v;
    gridSumSq += v * v;
  }
  const gridMean = gridSum / grid.length;
  const contrast = gridSumSq / grid.length - gridMean * gridMean;

  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < GRID - 1; y++) {
    for (let x = 1; x < GRID - 1; x++) {
      const c = grid[y * GRID + x] ?? 0;
      const lap =
        (grid[(y - 1) * GRID + x] ?? 0) +
        (grid[(y + 1) * GRID + x] ?? 0) +
        (grid[y * GRID + x - 1] ?? 0) +
        (grid[y * GRID + x + 1] ?? 0) -
        4 * c;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  const laplacianVariance = sumSq / n - mean * mean;
  return { brightness: lumaSum / (w * h), sharpness: contrast > 1 ? (100 * laplacianVariance) / contrast : 0 };
}
