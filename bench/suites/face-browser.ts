import { FACE_DETECTORS, type FaceDetector, type RgbImage } from '../../shared/face/types.js';
import { launchChromium } from '../../test/support/chromium.js';
import { startFacePageServer } from '../../test/support/face-page-server.js';
import type { FacePageApi } from '../../test/browser/face-page.js';

/**
 * The same frames through the renderer's engine in headless Chromium on WASM (what the kiosk runs when WebGL is
 * missing or slow: on this machine WebGL is SwiftShader, ~10× slower). Times come from inside the page.
 */
export async function browserFaceBench(frames: readonly RgbImage[], rounds: number): Promise<Map<FaceDetector, number[]>> {
  const server = await startFacePageServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => window.clockfaceFace !== undefined);
    await page.evaluate(() => (window.clockfaceFace as FacePageApi).init('wasm'));
    const encoded = frames.map((f) => ({ b64: Buffer.from(f.data).toString('base64'), width: f.width, height: f.height }));
    const out = new Map<FaceDetector, number[]>();
    for (const detector of FACE_DETECTORS) {
      const options = { detector, padding: 0, purpose: 'kiosk' } as const;
      const samples: number[] = [];
      for (let r = -1; r < rounds; r++) {
        for (const f of encoded) {
          const result = await page.evaluate(
            ([b64, w, h, o]) => (window.clockfaceFace as FacePageApi).analyzeRaw(b64, w, h, o),
            [f.b64, f.width, f.height, options] as const,
          );
          if (r >= 0) samples.push(result.ms); // round -1 warms up
        }
      }
      out.set(detector, samples);
    }
    return out;
  } finally {
    await browser.close();
    await server.close();
  }
}
