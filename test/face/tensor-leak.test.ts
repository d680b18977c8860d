import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import { GROUP_DIR } from '../support/faces.js';

describe('a long-running camera loop does not leak', () => {
  it('the tensor count is unchanged after 300 frames (faces, no face, several faces)', async () => {
    const engine = await nodeFaceEngine();
    // 640×480 camera-sized frames: a crowd, one person, an empty scene.
    const scene = await sharp(`${GROUP_DIR}/bbt3.jpg`).resize(640, 480, { fit: 'cover' }).png().toBuffer();
    const frame = async (edit: (s: Sharp) => Sharp) =>
      decodeImage(await edit(sharp(scene)).resize(640, 480, { fit: 'fill' }).png().toBuffer());
    const frames = [
      await frame((s) => s),
      await frame((s) => s.extract({ left: 160, top: 0, width: 320, height: 240 })),
      await frame((s) => s.blur(40)),
    ];
    // Warm up first: the first inference allocates the backend's lasting state.
    await engine.analyze(frames[0]!, { detector: 'tiny320', padding: 0, purpose: 'kiosk' });
    const before = engine.numTensors();
    let found = 0;
    for (let i = 0; i < 300; i++) {
      const detector = i % 10 === 0 ? 'ssd' : 'tiny320';
      const result = await engine.analyze(frames[i % frames.length]!, { detector, padding: 0, purpose: 'kiosk' });
      if (result.face) found++;
    }
    expect(engine.numTensors()).toBe(before);
    expect(found).toBeGreaterThanOrEqual(150); // the loop really ran the whole pipeline on faces
    // 300 real inferences: about a minute on an idle 2-core machine, several when other test files share the CPU.
  }, 600_000);
});
