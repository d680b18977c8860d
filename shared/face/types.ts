/** Face detectors the engine can run. SSD MobileNet v1 for enrolment; the kiosk may trade accuracy for speed. */
export type FaceDetector = 'ssd' | 'tiny320' | 'tiny416';
export const FACE_DETECTORS: readonly FaceDetector[] = ['ssd', 'tiny320', 'tiny416'];

export interface Point {
  x: number;
  y: number;
}

/** A rectangle in the coordinates of the image given to the engine (padding already removed). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A 128-D face descriptor and the model that made it: descriptors of different models are not comparable. */
export interface FaceDescriptor {
  modelId: string;
  values: Float32Array;
}

/** An image as raw 8-bit RGB pixels, row-major, 3 bytes a pixel: the one input format both runtimes hand over. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}
