import * as faceapi from '@vladmandic/face-api';
import { FaceEngine, type FaceApiLike } from '../../shared/face/engine.js';
import { PAD_GREY, rgbaToRgb } from '../../shared/face/pad.js';
import type { RgbImage } from '../../shared/face/types.js';

/**
 * The face engine in the browser (the kiosk's renderer, or Chromium in tests): face-api's ESM bundle, which carries
 * tfjs 4.22 with its cpu, webgl and wasm backends, in front of the shared FaceEngine. Everything is loaded from the
 * app's own origin: the model weights from `modelsUrl`, the tfjs wasm binaries from `wasmUrl`; never a CDN.
 *
 * Hand the engine pixels (rgbFromSource / rgbFromImageData), never a canvas or video element: face-api would then
 * resample the element itself, and descriptors drift ~0.1 from Node's (measured); from the same RGB pixels the WASM
 * backend gives Node's descriptors exactly.
 */
export interface BrowserFaceEngineOptions {
  /** Folder with face-api's model files (the package's `model/`), e.g. '/models/'. */
  modelsUrl: string;
  /** Folder with the tfjs-backend-wasm `.wasm` files (the package's `dist/`), e.g. '/wasm/'. */
  wasmUrl: string;
  /**
   * 'wasm' (default) is what Node enrolment runs, so descriptors agree to the last bit. 'webgl' agrees to ~1e-6 on
   * float32 GPUs, but a GPU with half-float textures moves descriptors by up to ~0.1; it falls back to 'wasm' when
   * WebGL cannot start. Check FaceEngine.backend for what runs.
   */
  backend?: 'wasm' | 'webgl';
}

/**
 * The tfjs functions used here. face-api's bundled .d.ts re-exports only a subset of tfjs as `tf` (tensor ops, io,
 * browser), although the ESM bundle's runtime `tf` namespace is the whole of tfjs including the wasm backend's
 * setWasmPaths. This interface states exactly what this file relies on.
 */
interface TfBackendControl {
  setWasmPaths(prefix: string): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
}

// One cast, because the typings lag the runtime (see TfBackendControl); everything after it is checked.
const tf = faceapi.tf as unknown as TfBackendControl;

export async function createBrowserFaceEngine(options: BrowserFaceEngineOptions): Promise<FaceEngine> {
  const wanted = options.backend ?? 'wasm';
  // Before any setBackend: the wasm backend fetches its binary from here when it first initialises.
  tf.setWasmPaths(withSlash(options.wasmUrl));
  let started = false;
  if (wanted === 'webgl') started = await trySetBackend('webgl');
  if (!started && !(await trySetBackend('wasm'))) {
    throw new Error(`the tfjs wasm backend did not start (wasm files expected under ${options.wasmUrl})`);
  }
  await tf.ready();
  const models = withSlash(options.modelsUrl);
  await faceapi.nets.ssdMobilenetv1.loadFromUri(models);
  await faceapi.nets.tinyFaceDetector.loadFromUri(models);
  await faceapi.nets.faceLandmark68Net.loadFromUri(models);
  await faceapi.nets.faceRecognitionNet.loadFromUri(models);
  // face-api's typings omit tf.memory/getBackend, which FaceApiLike needs; the runtime has them (as in Node).
  return new FaceEngine(faceapi as unknown as FaceApiLike);
}

async function trySetBackend(name: 'wasm' | 'webgl'): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** A canvas frame (getImageData) as the engine's RGB; alpha is dropped, so draw onto an opaque canvas. */
export function rgbFromImageData(imageData: ImageData): RgbImage {
  return rgbaToRgb(imageData.data, imageData.width, imageData.height);
}

type Context2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
let scratch: { canvas: OffscreenCanvas | HTMLCanvasElement; context: Context2D } | null = null;

/**
 * Draws a video frame, canvas, image or ImageBitmap at `width` × `height` and reads it back as RGB. Transparent
 * pixels land on the padding grey, as Node's decodeImage flattens alpha onto it. One scratch canvas is reused, so
 * a camera loop does not allocate a canvas per frame.
 */
export function rgbFromSource(source: CanvasImageSource, width: number, height: number): RgbImage {
  if (!(width > 0 && height > 0)) throw new Error(`cannot read a ${width}×${height} image`);
  const { canvas, context } = (scratch ??= createScratch());
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.globalCompositeOperation = 'source-over';
  context.fillStyle = `rgb(${PAD_GREY},${PAD_GREY},${PAD_GREY})`;
  context.fillRect(0, 0, width, height);
  context.drawImage(source, 0, 0, width, height);
  return rgbFromImageData(context.getImageData(0, 0, width, height));
}

function createScratch(): { canvas: OffscreenCanvas | HTMLCanvasElement; context: Context2D } {
  // willReadFrequently keeps the canvas in CPU memory: getImageData every frame would otherwise read back the GPU.
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(1, 1);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context) return { canvas, context };
  }
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas context available');
  return { canvas, context };
}
