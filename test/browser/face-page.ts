/**
 * The page script of the browser face tests (bundled by test/support/face-page-server.ts, loaded in Chromium).
 * It runs the renderer's face engine and exposes `window.clockfaceFace`, which the Node side drives through
 * `page.evaluate`. Everything crossing that boundary is plain JSON: pixels go as base64, descriptors as number[].
 */
import { createBrowserFaceEngine, rgbFromSource } from '../../renderer/face/browser-face-engine.js';
import type { AnalyzeOptions, AnalyzeResult, FaceEngine } from '../../shared/face/engine.js';
import type { HeadPose } from '../../shared/face/head-pose.js';
import type { QualityIssue } from '../../shared/face/quality.js';
import type { FaceBox, RgbImage } from '../../shared/face/types.js';

export interface PageFace {
  descriptor: number[];
  score: number;
  box: FaceBox;
  pose: HeadPose;
}

export interface PageResult {
  ok: boolean;
  issues: QualityIssue[];
  facesFound: number;
  face: PageFace | null;
  /** Time spent in engine.analyze, in milliseconds. */
  ms: number;
}

export interface PageUrlResult extends PageResult {
  /** The pixels the browser decoded, so the test can compare them with Node's decoding byte for byte. */
  decoded: { width: number; height: number; base64Rgb: string };
}

export interface FacePageApi {
  /** Creates the engine; returns the backend that runs ('wasm' also when 'webgl' was asked for and failed). */
  init(backend: 'wasm' | 'webgl'): Promise<string>;
  analyzeRaw(base64Rgb: string, width: number, height: number, options: AnalyzeOptions): Promise<PageResult>;
  /** Fetches and decodes an image the way the kiosk will (createImageBitmap, canvas, getImageData) and analyses it. */
  analyzeUrl(url: string, options: AnalyzeOptions): Promise<PageUrlResult>;
  numTensors(): number;
}

declare global {
  interface Window {
    clockfaceFace?: FacePageApi;
  }
}

let engine: FaceEngine | null = null;

function requireEngine(): FaceEngine {
  if (!engine) throw new Error('call init(backend) first');
  return engine;
}

function fromBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

async function analyze(image: RgbImage, options: AnalyzeOptions): Promise<PageResult> {
  const started = performance.now();
  const result: AnalyzeResult = await requireEngine().analyze(image, options);
  const ms = performance.now() - started;
  const face = result.face
    ? {
        descriptor: Array.from(result.face.descriptor.values),
        score: result.face.score,
        box: { ...result.face.box },
        pose: { ...result.face.pose },
      }
    : null;
  return { ok: result.ok, issues: result.ok ? [] : result.issues, facesFound: result.facesFound, face, ms };
}

async function decodeUrl(url: string): Promise<RgbImage> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  // 'from-image' applies EXIF orientation (sharp's .rotate()); 'default' converts an ICC profile to sRGB
  // (sharp's .toColourspace('srgb')). rgbFromSource flattens alpha onto the padding grey, as decodeImage does.
  const bitmap = await createImageBitmap(await response.blob(), {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'default',
  });
  try {
    return rgbFromSource(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

const api: FacePageApi = {
  async init(backend) {
    engine = await createBrowserFaceEngine({ modelsUrl: '/models/', wasmUrl: '/wasm/', backend });
    return engine.backend;
  },
  analyzeRaw(base64Rgb, width, height, options) {
    const data = fromBase64(base64Rgb);
    if (data.length !== width * height * 3) {
      throw new Error(`expected ${width * height * 3} RGB bytes for ${width}×${height}, got ${data.length}`);
    }
    return analyze({ width, height, data }, options);
  },
  async analyzeUrl(url, options) {
    const image = await decodeUrl(url);
    const result = await analyze(image, options);
    return { ...result, decoded: { width: image.width, height: image.height, base64Rgb: toBase64(image.data) } };
  },
  numTensors() {
    return requireEngine().numTensors();
  },
};

window.clockfaceFace = api;
