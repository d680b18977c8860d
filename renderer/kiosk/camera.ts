import type { FaceEngine, AnalyzeResult } from '../../shared/face/engine.js';
import type { FaceDetector } from '../../shared/face/types.js';
import { rgbFromImageData } from '../face/browser-face-engine.js';

export interface CameraFrame {
  analysis: AnalyzeResult;
  /** Size of the analysed frame, for drawing the face box over the video. */
  width: number;
  height: number;
}

export type CameraProblem = 'no-camera' | 'permission-denied' | 'camera-lost';

/**
 * The camera loop: one frame at a time, the next only once the previous one has been analysed and answered, so
 * frames never queue up behind a slow machine (a busy loop skips frames instead). Pixels go to the engine as RGB
 * (see browser-face-engine.ts for why not the video element).
 */
/** Empty frames per small-face probe (see the loop). */
const PROBE_EVERY = 5;

export class CameraLoop {
  private stream: MediaStream | null = null;
  private running = false;
  private readonly canvas = document.createElement('canvas');
  private readonly context: CanvasRenderingContext2D;
  /** Frames in a row with no face at all, and whether the last one had a face too small to match. */
  private emptyInARow = 0;
  private smallFaceSeen = false;

  constructor(
    readonly video: HTMLVideoElement,
    private readonly engine: FaceEngine,
    private readonly detector: FaceDetector,
    private readonly onFrame: (frame: CameraFrame) => Promise<void>,
    private readonly onProblem: (problem: CameraProblem) => void,
    /**
     * Asked before every frame: false while anything but the camera screen is up (PIN pad, admin mode, a result, a
     * question). Asked, not told, so that no overlay can forget to pause it, including one opened before the camera
     * had started.
     */
    private readonly wanted: () => boolean = () => true,
  ) {
    const context = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (!context) throw new Error('no 2D canvas');
    this.context = context;
  }

  async start(): Promise<boolean> {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      this.onProblem(name === 'NotAllowedError' || name === 'SecurityError' ? 'permission-denied' : 'no-camera');
      return false;
    }
    for (const track of this.stream.getVideoTracks()) {
      track.addEventListener('ended', () => {
        this.stop();
        this.onProblem('camera-lost');
      });
    }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.playsInline = true;
    await this.video.play();
    this.running = true;
    void this.loop();
    return true;
  }

  stop(): void {
    this.running = false;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  /** One analysed frame now (admin enrolment takes frames on demand); null when the camera has none. */
  async grab(probeSmallFaces = false): Promise<CameraFrame | null> {
    const width = this.video.videoWidth;
    const height = this.video.videoHeight;
    if (width === 0 || height === 0) return null;
    this.canvas.width = width;
    this.canvas.height = height;
    this.context.drawImage(this.video, 0, 0, width, height);
    const image = this.context.getImageData(0, 0, width, height);
    const analysis = await this.engine.analyze(rgbFromImageData(image), {
      detector: this.detector,
      padding: 0,
      purpose: 'kiosk',
      probeSmallFaces,
    });
    return { analysis, width, height };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      // A paused video shows one old frame forever: never analyse it (it could punch someone who has left).
      if (!this.wanted() || this.video.paused || this.video.readyState < 2) {
        await sleep(60);
        continue;
      }
      // The small-face probe costs a second look at an empty frame: every fifth empty frame while nobody is there
      // (a person walking up waits less for the frame in flight; "Move closer" comes within about half a second),
      // every frame while someone is too far.
      const frame = await this.grab(this.smallFaceSeen || this.emptyInARow % PROBE_EVERY === PROBE_EVERY - 1);
      if (frame) {
        const { analysis } = frame;
        this.emptyInARow = analysis.facesFound === 0 ? this.emptyInARow + 1 : 0;
        this.smallFaceSeen = !analysis.ok && analysis.issues.includes('FACE_TOO_SMALL');
        await this.onFrame(frame);
      }
      await sleep(0); // let the page paint between frames
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
