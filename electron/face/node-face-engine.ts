import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ClockfaceError } from '../../shared/errors.js';
import { FaceEngine, type FaceApiLike } from '../../shared/face/engine.js';

const require = createRequire(import.meta.url);

/** Where the model weights live: shipped inside @vladmandic/face-api, so no network and no CDN. */
export function faceModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function wasmDir(): string {
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`;
}

type FaceApiNode = typeof import('@vladmandic/face-api');
type Tfjs = typeof import('@tensorflow/tfjs');
interface WasmBackend {
  setWasmPaths(prefix: string): void;
}

let loading: Promise<FaceEngine> | null = null;

/**
 * The face engine in Node, on tfjs's WASM backend (tfjs-node cannot install here, and WASM is what the kiosk's
 * browser runs too). Loads once per process; later calls share it.
 */
export function nodeFaceEngine(modelDir: string = faceModelDir()): Promise<FaceEngine> {
  loading ??= load(modelDir).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

async function load(modelDir: string): Promise<FaceEngine> {
  const manifest = join(modelDir, 'face_recognition_model-weights_manifest.json');
  if (!existsSync(manifest)) {
    throw new ClockfaceError('FACE_MODELS_MISSING', `face model weights not found in ${modelDir}`, {
      hint: 'Reinstall the app (npm ci): the weights ship in the @vladmandic/face-api package.',
    });
  }
  // The package's main entry needs @tensorflow/tfjs-node; the node-wasm build is the one that runs everywhere.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiNode;
  // The node-wasm build requires these two itself: the same module instances as here.
  const tf = require('@tensorflow/tfjs') as Tfjs;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmBackend;
  wasm.setWasmPaths(wasmDir());
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return new FaceEngine(faceapi as unknown as FaceApiLike);
}
