import { FACE_MODEL_ID } from '../face-model.js';
import { headPose, type HeadPose } from './head-pose.js';
import { cropRgb, padRgb } from './pad.js';
import { facePixelStats } from './pixel-stats.js';
import { assessQuality, DEFAULT_QUALITY, type QualityIssue, type QualityThresholds } from './quality.js';
import type { FaceBox, FaceDescriptor, FaceDetector, Point, RgbImage } from './types.js';

/**
 * The one face pipeline. Node (enrolment, the CLI) and the browser (the kiosk) hand it raw RGB pixels and the
 * face-api namespace of their runtime; everything from there on is this code, so the two cannot drift.
 */

/** The part of face-api (@vladmandic/face-api) the engine uses: satisfied by its Node and browser builds. */
export interface FaceApiLike {
  tf: {
    tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): TensorLike;
    memory(): { numTensors: number };
    getBackend(): string;
  };
  detectAllFaces(input: TensorLike, options: unknown): {
    withFaceLandmarks(): { withFaceDescriptors(): Promise<RawFace[]> };
  };
  SsdMobilenetv1Options: new (options: { minConfidence: number; maxResults: number }) => unknown;
  TinyFaceDetectorOptions: new (options: { inputSize: number; scoreThreshold: number }) => unknown;
}

interface TensorLike {
  dispose(): void;
}

interface RawFace {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: ReadonlyArray<{ x: number; y: number }> };
  descriptor: Float32Array;
}

/** One analysed face, in the coordinates of the image given (padding removed). */
export interface FaceAnalysis {
  box: FaceBox;
  score: number;
  landmarks: Point[];
  pose: HeadPose;
  brightness: number;
  sharpness: number;
  descriptor: FaceDescriptor;
  /** Empty when the face is good enough for its purpose. */
  issues: QualityIssue[];
}

export interface AnalyzeOptions {
  detector: FaceDetector;
  /**
   * Grey border around the image, as a fraction of its longer side. 'auto' first looks without a border and, when
   * that finds no face, looks again with a border as wide as the image: tight crops need it, camera frames do not.
   */
  padding: number | 'auto';
  /**
   * 'enrol' refuses a photo with several faces; 'kiosk' takes the largest when it clearly dominates (the person at
   * the front, someone far behind in the queue) and refuses the frame with MULTIPLE_FACES when another face is
   * close to it in size (two people side by side: naming either would be a guess).
   */
  purpose: 'enrol' | 'kiosk';
  quality?: QualityThresholds;
  /**
   * When the frame has no face, look again at its centre half. The tiny detector misses faces under about 60 px
   * in a 640×480 frame (it sees the frame at 416 px); the centre crop is seen 1.3× larger, which finds 38–60 px
   * faces (measured on ../shared/faces, docs/kiosk.md "Face engine"). A face found only this way is never matched: it comes back
   * as FACE_TOO_SMALL, so the screen can say "Move closer" instead of "Look at the camera".
   */
  probeSmallFaces?: boolean;
}

export type AnalyzeResult =
  | { ok: true; face: FaceAnalysis; facesFound: number }
  | { ok: false; issues: QualityIssue[]; face: FaceAnalysis | null; facesFound: number };

const DETECTION_FLOOR = 0.3; // below this the detector's guess is noise; LOW_SCORE applies above it

/**
 * A kiosk frame's largest face is punched only when it is at least this much wider than every other confident face.
 * Someone queueing a step behind is about half as wide (ratio ≥ 1.8); two people side by side are within 1.2 of each
 * other. 1.4 leaves room either way.
 */
export const DOMINANT_FACE_RATIO = 1.4;

function detectorOptions(api: FaceApiLike, detector: FaceDetector): unknown {
  if (detector === 'ssd') return new api.SsdMobilenetv1Options({ minConfidence: DETECTION_FLOOR, maxResults: 10 });
  return new api.TinyFaceDetectorOptions({
    inputSize: detector === 'tiny320' ? 320 : 416,
    scoreThreshold: DETECTION_FLOOR,
  });
}

export class FaceEngine {
  constructor(
    private readonly api: FaceApiLike,
    readonly modelId: string = FACE_MODEL_ID,
  ) {}

  /** tfjs backend in use ('wasm', 'webgl', …), for diagnostics. */
  get backend(): string {
    return this.api.tf.getBackend();
  }

  /** Live tensors: constant from one frame to the next, or something leaks. */
  numTensors(): number {
    return this.api.tf.memory().numTensors;
  }

  async analyze(image: RgbImage, options: AnalyzeOptions): Promise<AnalyzeResult> {
    if (options.padding === 'auto') {
      // A tight crop (the face fills the frame, or nothing is found) is looked at again with a border as wide as
      // the image. Measured on 150×150 crops: unpadded SSD finds 6/40 faces, and those with worse scores and
      // alignment; padded it finds 40/40. Large photos keep their resolution.
      const plain = await this.analyzeWithBorder(image, 0, options);
      const minScore = (options.quality ?? DEFAULT_QUALITY).minScore;
      const tight = plain.face === null || plain.face.score < minScore || plain.face.box.width > image.width * 0.4;
      if (!tight) return plain;
      const padded = await this.analyzeWithBorder(image, Math.max(image.width, image.height), options);
      return padded.face !== null ? padded : plain;
    }
    const border = Math.round(options.padding * Math.max(image.width, image.height));
    const result = await this.analyzeWithBorder(image, border, options);
    if (result.facesFound > 0 || !options.probeSmallFaces) return result;
    return this.probeCentre(image, options, result);
  }

  /** See {@link AnalyzeOptions.probeSmallFaces}. */
  private async probeCentre(image: RgbImage, options: AnalyzeOptions, empty: AnalyzeResult): Promise<AnalyzeResult> {
    const x = Math.floor(image.width / 4);
    const y = Math.floor(image.height / 4);
    const centre = cropRgb(image, x, y, Math.floor(image.width / 2), Math.floor(image.height / 2));
    const probed = await this.analyzeWithBorder(centre, 0, { ...options, probeSmallFaces: false });
    if (probed.face === null) return empty;
    const face: FaceAnalysis = {
      ...probed.face,
      box: { ...probed.face.box, x: probed.face.box.x + x, y: probed.face.box.y + y },
      landmarks: probed.face.landmarks.map((p) => ({ x: p.x + x, y: p.y + y })),
      issues: ['FACE_TOO_SMALL', ...probed.face.issues.filter((i) => i !== 'FACE_TOO_SMALL')],
    };
    return { ok: false, issues: face.issues, face, facesFound: probed.facesFound };
  }

  private async analyzeWithBorder(image: RgbImage, border: number, options: AnalyzeOptions): Promise<AnalyzeResult> {
    const input = padRgb(image, border);
    const tensor = this.api.tf.tensor3d(input.data, [input.height, input.width, 3], 'int32');
    let faces: RawFace[];
    try {
      faces = await this.api
        .detectAllFaces(tensor, detectorOptions(this.api, options.detector))
        .withFaceLandmarks()
        .withFaceDescriptors();
    } finally {
      // face-api disposes its own intermediates; the input tensor is ours (measured: 1 leaked tensor per frame).
      tensor.dispose();
    }
    if (faces.length === 0) return { ok: false, issues: ['NO_FACE'], face: null, facesFound: 0 };

    const largest = faces.reduce((a, b) =>
      b.detection.box.width * b.detection.box.height > a.detection.box.width * a.detection.box.height ? b : a,
    );
    const quality = options.quality ?? DEFAULT_QUALITY;
    const face = this.describe(image, largest, border, quality);
    const issues = [...face.issues];
    // Only confident detections count as another person: a faint false detection must not refuse a good photo.
    const others = faces.filter((f) => f !== largest && f.detection.score >= quality.minScore);
    const rival = others.some((f) => f.detection.box.width * DOMINANT_FACE_RATIO > largest.detection.box.width);
    if (options.purpose === 'enrol' ? others.length > 0 : rival) issues.unshift('MULTIPLE_FACES');
    if (issues.length > 0) return { ok: false, issues, face, facesFound: faces.length };
    return { ok: true, face, facesFound: faces.length };
  }

  private describe(image: RgbImage, raw: RawFace, border: number, quality: QualityThresholds): FaceAnalysis {
    const b = raw.detection.box;
    const box: FaceBox = { x: b.x - border, y: b.y - border, width: b.width, height: b.height };
    const landmarks = raw.landmarks.positions.map((p) => ({ x: p.x - border, y: p.y - border }));
    const pose = headPose(landmarks);
    const { brightness, sharpness } = facePixelStats(image, box);
    const issues = assessQuality(
      { score: raw.detection.score, faceSize: box.width, pose, brightness, sharpness },
      quality,
    );
    return {
      box,
      score: raw.detection.score,
      landmarks,
      pose,
      brightness,
      sharpness,
      descriptor: { modelId: this.modelId, values: Float32Array.from(raw.descriptor) },
      issues,
    };
  }
}
