import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { euclideanDistance } from '../../shared/face/descriptor.js';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import type { AnalyzeOptions, AnalyzeResult } from '../../shared/face/engine.js';
import type { RgbImage } from '../../shared/face/types.js';
import type { PageResult } from '../browser/face-page.js';
import { chromiumPart, launchChromium } from '../support/chromium.js';
import { startFacePageServer, type FacePageServer } from '../support/face-page-server.js';
import { bbtPhoto, PEOPLE } from '../support/faces.js';
import { partsPresent, requireSystemParts } from '../support/system-parts.js';

/**
 * Enrolment runs the face engine in Node, the kiosk runs it in the browser: a person enrolled on one must be
 * recognised on the other. These tests measure how far the two runtimes' descriptors of the same photo lie apart.
 * For scale: the match threshold is ~0.55 and the closest two different people in ../shared/faces are ~0.6 apart.
 */

const ENROL: AnalyzeOptions = { detector: 'ssd', padding: 'auto', purpose: 'enrol' };
const SLOW = 300_000;

interface Photo {
  name: string;
  path: string;
  /** Where the test page server serves it. */
  url: string;
}

const PHOTOS: Photo[] = PEOPLE.flatMap((person) =>
  ([1, 2, 3, 4, 5] as const).map((n) => ({
    name: `${person}${n}`,
    path: bbtPhoto(person, n),
    url: `/faces/bbt/${person}/${person}${n}.png`,
  })),
);

interface NodeRun {
  photo: Photo;
  image: RgbImage;
  result: AnalyzeResult;
  ms: number;
}

function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return euclideanDistance(a, b);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (x: number): string => (x === 0 ? '0' : x.toExponential(2));

/** Node's side, once per file: sharp decoding, then the engine on tfjs WASM. */
let nodeRunsOnce: Promise<NodeRun[]> | null = null;
function nodeRuns(): Promise<NodeRun[]> {
  nodeRunsOnce ??= (async () => {
    const engine = await nodeFaceEngine();
    const runs: NodeRun[] = [];
    for (const photo of PHOTOS) {
      const image = await decodeImage(photo.path);
      const started = performance.now();
      const result = await engine.analyze(image, ENROL);
      runs.push({ photo, image, result, ms: performance.now() - started });
    }
    return runs;
  })();
  return nodeRunsOnce;
}

/** Opens the face page and starts its engine; fails with the page's own errors if it cannot. */
async function openFacePage(browser: Browser, server: FacePageServer, backend: 'wasm' | 'webgl') {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${server.url}/`);
  try {
    await page.waitForFunction(() => window.clockfaceFace !== undefined, undefined, { timeout: 30_000 });
    const running = await page.evaluate((b) => window.clockfaceFace!.init(b), backend);
    return { page, running };
  } catch (e) {
    throw new Error(`face page did not start (${String(e)}); page errors: ${errors.join(' | ') || 'none'}`);
  }
}

function analyzeRawInPage(page: Page, image: RgbImage, options: AnalyzeOptions = ENROL): Promise<PageResult> {
  const base64 = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length).toString('base64');
  return page.evaluate(
    ([data, width, height, options]) => window.clockfaceFace!.analyzeRaw(data, width, height, options),
    [base64, image.width, image.height, options] as const,
  );
}

const chromium = chromiumPart();

if (partsPresent('Node and Chromium giving the same descriptors', [chromium])) {
  describe('Node and Chromium give the same descriptors (../shared/faces/bbt, 40 photos)', () => {
    let server: FacePageServer;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      server = await startFacePageServer();
      browser = await launchChromium();
      const opened = await openFacePage(browser, server, 'wasm');
      page = opened.page;
      expect(opened.running).toBe('wasm');
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it(
      'WASM, same pixels: the browser engine reproduces Node descriptors exactly',
      async () => {
        const tensorsBefore = await page.evaluate(() => window.clockfaceFace!.numTensors());
        const started = performance.now();
        // Chromium works in its own process while Node computes: both runtimes run side by side.
        const browserRuns = (async () => {
          const images = await Promise.all(PHOTOS.map((p) => decodeImage(p.path)));
          const results: PageResult[] = [];
          for (const image of images) results.push(await analyzeRawInPage(page, image));
          return results;
        })();
        const [node, browserResults] = await Promise.all([nodeRuns(), browserRuns]);
        const wallSeconds = (performance.now() - started) / 1000;

        const distances: number[] = [];
        node.forEach((run, i) => {
          const inBrowser = browserResults[i]!;
          expect(run.result.face, `${run.photo.name}: Node found no face`).not.toBeNull();
          expect(inBrowser.face, `${run.photo.name}: Chromium found no face`).not.toBeNull();
          const distance = euclidean(run.result.face!.descriptor.values, inBrowser.face!.descriptor);
          distances.push(distance);
          expect(inBrowser.issues, run.photo.name).toEqual(run.result.ok ? [] : run.result.issues);
          expect(Math.abs(inBrowser.face!.score - run.result.face!.score), run.photo.name).toBeLessThan(1e-6);
        });
        const max = Math.max(...distances);
        console.log(
          `[browser agreement] WASM, same pixels: ${distances.length}/${PHOTOS.length} found by both; ` +
            `distance max ${fmt(max)}, median ${fmt(median(distances))}; ` +
            `median analyze Node ${median(node.map((r) => r.ms)).toFixed(0)} ms, ` +
            `Chromium ${median(browserResults.map((r) => r.ms)).toFixed(0)} ms; wall ${wallSeconds.toFixed(1)} s`,
        );
        expect(distances).toHaveLength(PHOTOS.length);
        // Measured: exactly 0 for all 40. The same pixels go through the same JS pipeline (shared/face/engine.ts)
        // and the same tfjs 4.22 WASM kernels (SIMD, one thread, in both runtimes), so the floating-point work is
        // identical. 1e-6 leaves room for nothing but float32 rounding, and is 5 orders under the match threshold.
        expect(max).toBeLessThan(1e-6);
        // The engine disposes its input tensor: nothing is left behind per photo.
        expect(await page.evaluate(() => window.clockfaceFace!.numTensors())).toBe(tensorsBefore);
      },
      SLOW,
    );

    it(
      'WASM, each side decodes the PNG itself (sharp vs createImageBitmap + canvas): same pixels, same descriptors',
      async () => {
        const [node, browserResults] = await Promise.all([
          nodeRuns(),
          (async () => {
            const results = [];
            for (const photo of PHOTOS) {
              results.push(
                await page.evaluate(
                  ([url, options]) => window.clockfaceFace!.analyzeUrl(url, options),
                  [photo.url, ENROL] as const,
                ),
              );
            }
            return results;
          })(),
        ]);

        const distances: number[] = [];
        let pixelsDiffering = 0;
        let maxLevelDiff = 0;
        node.forEach((run, i) => {
          const inBrowser = browserResults[i]!;
          const decoded = Buffer.from(inBrowser.decoded.base64Rgb, 'base64');
          expect([inBrowser.decoded.width, inBrowser.decoded.height], run.photo.name).toEqual([
            run.image.width,
            run.image.height,
          ]);
          for (let j = 0; j < decoded.length; j++) {
            const diff = Math.abs(decoded[j]! - run.image.data[j]!);
            if (diff > 0) pixelsDiffering++;
            maxLevelDiff = Math.max(maxLevelDiff, diff);
          }
          expect(run.result.face, `${run.photo.name}: Node found no face`).not.toBeNull();
          expect(inBrowser.face, `${run.photo.name}: Chromium found no face`).not.toBeNull();
          distances.push(euclidean(run.result.face!.descriptor.values, inBrowser.face!.descriptor));
        });
        const max = Math.max(...distances);
        console.log(
          `[browser agreement] WASM, browser-decoded PNG: ${distances.length}/${PHOTOS.length} found by both; ` +
            `differing RGB bytes ${pixelsDiffering} (max ${maxLevelDiff} levels); ` +
            `distance max ${fmt(max)}, median ${fmt(median(distances))}`,
        );
        expect(distances).toHaveLength(PHOTOS.length);
        // Measured: every byte identical (8-bit RGB and grayscale PNGs without ICC profiles decode losslessly in
        // both), so the descriptors are the same-pixels case above: exactly 0. A JPEG with an ICC profile would not
        // be bit-identical (one level off is enough to move face-api's integer face crop and the descriptor by
        // ~0.07), hence this claim is only made for these PNGs.
        expect(pixelsDiffering).toBe(0);
        expect(max).toBeLessThan(1e-6);
      },
      SLOW,
    );

    it(
      'WebGL (SwiftShader without a GPU), same pixels: within 1e-5 of Node on 3 photos',
      async () => {
        const opened = await openFacePage(browser, server, 'webgl');
        try {
          if (opened.running !== 'webgl') {
            const message = `WebGL did not start in Chromium (the engine fell back to ${opened.running}): WebGL agreement not measured`;
            if (requireSystemParts()) throw new Error(`CLOCKFACE_REQUIRE_SYSTEM_PARTS=1: ${message}`);
            console.warn(`[browser agreement] ${message}`);
            expect(opened.running).toBe('wasm'); // the fallback the kiosk relies on did happen
            return;
          }
          // SwiftShader takes seconds a pass, so skip 'auto''s first, unpadded look: padding 1 is the border 'auto'
          // settles on for these tight crops, and both sides use it.
          const padded: AnalyzeOptions = { ...ENROL, padding: 1 };
          const engine = await nodeFaceEngine();
          const chosen = PHOTOS.filter((p) => ['amy2', 'raj3', 'sheldon1'].includes(p.name));
          expect(chosen).toHaveLength(3);
          const distances: number[] = [];
          const times: number[] = [];
          for (const photo of chosen) {
            const image = await decodeImage(photo.path);
            const inNode = await engine.analyze(image, padded);
            const inBrowser = await analyzeRawInPage(opened.page, image, padded);
            expect(inNode.face, `${photo.name}: Node found no face`).not.toBeNull();
            expect(inBrowser.face, `${photo.name}: WebGL found no face`).not.toBeNull();
            distances.push(euclidean(inNode.face!.descriptor.values, inBrowser.face!.descriptor));
            times.push(inBrowser.ms);
          }
          const max = Math.max(...distances);
          console.log(
            `[browser agreement] WebGL, same pixels: distance max ${fmt(max)}, median ${fmt(median(distances))}; ` +
              `median analyze ${median(times).toFixed(0)} ms`,
          );
          // Measured: max 7.0e-7 here (the prototype saw 8.2e-7 on 40 photos). WebGL computes in float32 textures with other kernels (and summation
          // order) than WASM, so the last bits differ, but no landmark moves enough to shift the integer face crop.
          // A GPU limited to half floats would not pass (up to ~0.1), which is why the kiosk defaults to WASM.
          expect(max).toBeLessThan(1e-5);
        } finally {
          await opened.page.close();
        }
      },
      SLOW,
    );
  });
}
