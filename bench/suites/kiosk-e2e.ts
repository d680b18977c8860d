import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { startEmbeddedCentral, type EmbeddedCentral } from '../../electron/central/embedded.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { distribution } from '../../shared/stats/distribution.js';
import { chromiumPart, launchChromium } from '../../test/support/chromium.js';
import { requirePart } from '../support/missing-parts.js';
import { fakeCameraArgs, ffmpegPart } from '../../test/support/fake-camera.js';
import { bbtPhoto, BBT_DIR } from '../../test/support/faces.js';
import { CLI, runCli } from '../../test/support/run-cli.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { sleep } from '../../test/support/waiting.js';

/**
 * The kiosk screen end to end, as a person meets it: Debian's Chromium plays a fake camera (an ffmpeg video of
 * enrolled people's faces, each followed by an empty grey frame), the real renderer analyses frames in WASM with
 * its tiny416 detector, `clockface kiosk serve` (a child process) matches and punches, and punches upload to an
 * embedded central. The kiosk's match policy has `debounceSeconds: 0`, so every new presentation punches (a face
 * still in view after its result is "still here"); the screen shows each result for 3.5 s and then resumes. Two
 * kiosks, one per match policy (POLICIES: the shipped single-frame rule, and today's 2 of 3 frames), are shown the
 * same camera one after the other, and the screen's name for each punch is checked against the face the camera
 * showed (wrong punches).
 *
 * Time to punch is the screen's own figure (`window.clockfaceMetrics.timeToPunchMs`, renderer/kiosk/app.ts): from
 * the end of the analysis of the first frame that showed a face to the confirmation. The page is also watched from
 * outside the app (a script the benchmark adds before the app's own; the app's code is unchanged):
 * - every `submitFrame` call (fetch): when the frame's analysis ended, whether it had a face, the kiosk's answer;
 * - the camera itself, in a worker on a clone of the camera track: when a face appears or leaves (capture clock);
 * - every screen change (camera → result → camera) and the `<video>` element's pauses.
 * From these: the time of one frame (grab + analysis, between two bridge calls), first looks (the face appeared
 * while the camera screen was up, after the grey gap) vs repeat looks (the face was still in view when the result
 * screen closed), and the camera's clock (first camera frame with the face → confirmation) vs the screen's.
 *
 * Found on the way (Chromium 156): the result screen takes the `<video>` out of the page, which pauses it, and the
 * app never plays it again, so after the first result the camera view is frozen on its last frame and the kiosk
 * keeps analysing (and, with a short debounce, punching) that stale frame. The suite shows it on a first page left
 * as shipped ("as shipped" rows), then measures on a second page where the recorder plays the video again as soon
 * as it is paused, i.e. what a fixed app does. Once the app plays its video again itself, the "as shipped" rows
 * show no stale punch and the recorder's extra play() is a no-op.
 */

const SUITE = 'kiosk-e2e';
const PEOPLE = ['amy', 'penny', 'raj'] as const;
type Person = (typeof PEOPLE)[number];
/** Enrolled from photos 1 and 2. */
const ENROL_PHOTOS = [1, 2] as const;
/**
 * The camera shows two other photos of each. Measured: the kiosk's gates refuse amy4 (LOW_SCORE) and penny4
 * (BLURRED) on every frame, and raj3 is "not recognised"; these six pass and punch.
 */
const CAMERA_PHOTOS: Readonly<Record<Person, readonly [1 | 2 | 3 | 4 | 5, 1 | 2 | 3 | 4 | 5]>> = { amy: [3, 5], penny: [3, 5], raj: [4, 5] };
/** The video's face segments in order (makeLookVideo): whose face each one shows. */
const SEGMENTS: readonly Person[] = PEOPLE.flatMap((p) => CAMERA_PHOTOS[p].map(() => p));
/** The name the roster gives each (setUp): "Amy Example". */
const displayName = (p: Person): string => `${p[0]!.toUpperCase()}${p.slice(1)} Example`;
/**
 * One segment per camera photo: the face for FACE_S, then grey for GREY_S. With a result shown for 3.5 s, a look
 * that punches within ~0.5 s resumes while the face is still there (a repeat look, second punch), and the second
 * result ends in the grey gap, so the next face is a fresh first look.
 */
const FACE_S = 6;
const GREY_S = 3;
/** Chromium plays an MJPEG fake camera at 30 fps whatever the file says (measured); a y4m this long would be ~1 GB. */
const CAMERA_FPS = 30;

/**
 * Watches the camera in a worker, on a clone of the kiosk's camera track (MediaStreamTrackProcessor), so that the
 * page's WASM work, which blocks the main thread for ~100 ms per frame, does not delay it: for every camera frame
 * a 640×2 strip through the middle (where the face is), grey (uniform) or not. Times are the worker's
 * timeOrigin + now, i.e. the same clock as the page's timeOrigin + now. Plain JS: it is sent to the page as text.
 */
const CAMERA_WATCHER = `
onmessage = async (event) => {
  const reader = event.data.readable.getReader();
  const strip = new Uint8Array(640 * 2 * 2);
  let face = null;
  let previous = null;
  let frames = 0;
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) return;
    const at = performance.timeOrigin + performance.now();
    frames++;
    let spread = 0;
    try {
      const width = Math.min(640, frame.codedWidth);
      await frame.copyTo(strip, { rect: { x: 0, y: Math.floor(frame.codedHeight / 4) * 2, width, height: 2 } });
      let s = 0, s2 = 0;
      for (let i = 0; i < width; i++) { s += strip[i]; s2 += strip[i] * strip[i]; }
      spread = Math.sqrt(Math.max(0, s2 / width - (s / width) * (s / width)));
    } finally {
      frame.close();
    }
    const isFace = spread > 6; // the grey frame is uniform (0); a face strip ~25
    const gap = previous === null ? null : at - previous;
    previous = at;
    if (isFace !== face || frames % 30 === 0 || (gap !== null && gap > 50)) postMessage({ at, gap, isFace, changed: isFace !== face, frames });
    face = isFace;
  }
};`

/**
 * In-page recorder, installed before the app's scripts run (the app itself is unchanged). Plain JS, sent as text.
 * - submitFrame calls (fetch): when the frame's analysis ended, whether it had a face, the kiosk's answer;
 * - screen changes (data-screen on #app), and at each punch the screen's own time-to-punch figure;
 * - the camera, through CAMERA_WATCHER on a clone of the track getUserMedia returns;
 * - the <video> element's pauses: removing it from the page (the result screen replaces the camera view) pauses
 *   it, and nothing in the app plays it again, so the camera view freezes on its last frame. With `resume` the
 *   recorder plays it again at once (what a fixed app would do), so that looks see the live camera.
 */
const recorder = (resume: boolean): string => `(() => {
  const log = { frames: [], screens: [], punches: [], camera: [], cameraFrames: 0, cameraStart: null, cameraEnd: null,
    longGaps: [], pauses: 0, resumed: 0, resumeErrors: [], watcherError: null };
  window.__kioskBench = log;
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    if (!url.endsWith('/api/submitFrame')) return realFetch(input, init);
    const sent = performance.now();
    let face = false;
    let issue = null;
    try {
      const body = JSON.parse(init.body);
      face = body.descriptor !== null || !body.issues.includes('NO_FACE');
      issue = body.issues[0] ?? null;
    } catch (e) { /* not a frame we can read */ }
    const response = await realFetch(input, init);
    const frame = { sent, answered: performance.now(), face, issue, kind: 'error' };
    log.frames.push(frame);
    response.clone().json().then((r) => { frame.kind = r.ok ? r.value.kind : 'error:' + r.error.code; }, () => undefined);
    return response;
  };
  const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await realGetUserMedia(constraints);
    try {
      const processor = new MediaStreamTrackProcessor({ track: stream.getVideoTracks()[0].clone() });
      const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(CAMERA_WATCHER)}], { type: 'text/javascript' })));
      worker.onmessage = (e) => {
        const m = e.data;
        const t = m.at - performance.timeOrigin;
        log.cameraFrames = m.frames;
        log.cameraStart ??= t;
        log.cameraEnd = t;
        if (m.gap !== null && m.gap > 50) log.longGaps.push(m.gap);
        if (m.changed) log.camera.push({ t, face: m.isFace });
      };
      worker.onerror = (e) => { log.watcherError = String(e.message); };
      worker.postMessage({ readable: processor.readable }, [processor.readable]);
    } catch (e) {
      log.watcherError = String(e);
    }
    return stream;
  };
  let watchedVideo = null;
  new MutationObserver((records) => {
    for (const record of records) {
      const screen = record.target.getAttribute('data-screen');
      if (record.target.id !== 'app' || screen === record.oldValue) continue;
      const t = performance.now();
      const result = document.querySelector('[data-result]');
      log.screens.push({ t, screen, result: screen === 'result' && result ? result.getAttribute('data-result') : null });
      const video = document.getElementById('camera');
      if (video && video !== watchedVideo) {
        watchedVideo = video;
        video.addEventListener('pause', () => {
          log.pauses++;
          if (${String(resume)}) video.play().then(() => { log.resumed++; }, (e) => { log.resumeErrors.push(String(e)); });
        });
      }
      if (screen === 'result' && result && result.getAttribute('data-result').startsWith('punched')) {
        const m = window.clockfaceMetrics;
        const detail = document.getElementById('result-detail');
        const who = detail ? detail.textContent.split(' · ')[0] : null;
        log.punches.push({ t, who, kioskMs: m ? m.timeToPunchMs[m.timeToPunchMs.length - 1] : null, count: m ? m.timeToPunchMs.length : 0 });
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-screen'] });
})();`;

interface FrameLog {
  sent: number;
  answered: number;
  face: boolean;
  /** The frame's first quality issue (NO_FACE, HEAD_TURNED, …), null when it was good enough to match. */
  issue: string | null;
  kind: string;
}
interface PageLog {
  frames: FrameLog[];
  screens: Array<{ t: number; screen: string; result: string | null }>;
  /** `who`: the name the result screen gave. */
  punches: Array<{ t: number; who: string | null; kioskMs: number | null; count: number }>;
  /** What the camera shows from page time t on (performance.now), at each change grey ↔ face. */
  camera: Array<{ t: number; face: boolean }>;
  cameraFrames: number;
  cameraStart: number | null;
  cameraEnd: number | null;
  /** Gaps between two camera frames longer than 50 ms (30 fps: 33 ms). */
  longGaps: number[];
  pauses: number;
  resumed: number;
  resumeErrors: string[];
  watcherError: string | null;
}

/** The camera video: per person and photo, the face centred on grey for FACE_S, then the empty grey frame. */
function makeLookVideo(dir: string): string {
  const out = join(dir, 'looks.mjpeg');
  const photos = PEOPLE.flatMap((p) => CAMERA_PHOTOS[p].map((n) => bbtPhoto(p, n)));
  const args = ['-y', '-loglevel', 'error'];
  for (const photo of photos) args.push('-loop', '1', '-t', String(FACE_S), '-i', photo);
  args.push('-f', 'lavfi', '-i', `color=c=gray:s=640x480:r=${CAMERA_FPS}:d=${GREY_S}`);
  const grey = photos.length;
  const scale = `scale=-2:240,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=gray,fps=${CAMERA_FPS},format=yuv420p,setsar=1`;
  const greyCopies = photos.map((_, i) => `[g${i}]`).join('');
  const filter = [
    ...photos.map((_, i) => `[${i}:v]${scale}[f${i}]`),
    `[${grey}:v]fps=${CAMERA_FPS},format=yuv420p,setsar=1,split=${photos.length}${greyCopies}`,
    `${photos.map((_, i) => `[f${i}][g${i}]`).join('')}concat=n=${photos.length * 2}:v=1:a=0[out]`,
  ].join(';');
  args.push('-filter_complex', filter, '-map', '[out]', '-q:v', '3', '-f', 'mjpeg', out);
  execFileSync('/usr/bin/ffmpeg', args);
  return out;
}

/** `clockface kiosk serve --port 0` as a child process; resolves with the address it prints. */
function serveKiosk(kioskDir: string, children: ChildProcess[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOCKFACE_')));
    const child = spawn(process.execPath, [CLI, 'kiosk', 'serve', '--kiosk-dir', kioskDir, '--port', '0'], { env });
    children.push(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`kiosk serve printed no address in 60 s: ${err}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /open (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kiosk serve exited (${String(code)}): ${err}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGINT');
  if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The two match policies compared: today's (a punch needs 2 of the last 3 frames) and the shipped one (one frame
 * decides when it is unambiguous, shared/face/match-defaults.ts SINGLE_FRAME_*). Each is its own kiosk on the same
 * central, shown the same camera video.
 */
const POLICIES = {
  shipped: { label: 'shipped policy (one clear frame, else 2 of 3)', singleFrame: undefined },
  twoOfThree: { label: "today's policy (2 of 3 frames)", singleFrame: null },
} as const;
type PolicyName = keyof typeof POLICIES;

/** Central with the people enrolled, a kiosk folder for each policy; returns the kiosk folders. */
async function setUp(work: string, central: EmbeddedCentral): Promise<Record<PolicyName, string>> {
  const admin = new pg.Client({ connectionString: central.url });
  await admin.connect();
  try {
    await migrateCentral(admin);
    await admin.query("INSERT INTO sites (code, name, time_zone) VALUES ('hq', 'HQ', 'UTC')");
  } finally {
    await admin.end();
  }
  const cli = async (args: string[]): Promise<string> => {
    const r = await runCli(args, { CLOCKFACE_DATABASE_URL: central.url }, 180_000);
    if (r.code !== 0) throw new Error(`clockface ${args.join(' ')} failed (${String(r.code)}): ${r.stderr}`);
    return r.stdout;
  };
  const csv = join(work, 'roster.csv');
  const line = (p: Person, i: number): string =>
    `${p.toUpperCase()}-1,${p[0]!.toUpperCase()}${p.slice(1)} Example,Lab,hq,${ENROL_PHOTOS.map((n) => `${p}/${p}${n}.png`).join(';')},${135700 + i}`; // new PINs need 6 to 8 digits
  writeFileSync(csv, `employee_no,full_name,department,site,photos,pin\n${PEOPLE.map(line).join('\n')}\n`);
  await cli(['roster', 'import', csv, '--photos', BBT_DIR]);
  const dirs = {} as Record<PolicyName, string>;
  for (const name of Object.keys(POLICIES) as PolicyName[]) {
    const added = JSON.parse(await cli(['kiosk', 'add', `bench-${name}`, '--site', 'hq', '--json'])) as Record<string, unknown>;
    const settingsFile = join(work, `kiosk-settings-${name}.json`);
    const policy = { debounceSeconds: 0, confirmOppositeSeconds: 0, ...(POLICIES[name].singleFrame === null ? { singleFrame: null } : {}) };
    writeFileSync(settingsFile, JSON.stringify({ ...added, policy }));
    dirs[name] = join(work, `kiosk-${name}`);
    await cli(['kiosk', 'init', '--kiosk-dir', dirs[name], '--settings', settingsFile]);
  }
  return dirs;
}

interface Collected {
  log: PageLog;
  kioskMs: number[];
  framesAnalysed: number;
}

/**
 * Opens the kiosk page (a new page of `browser`, with the recorder), waits for `punches` punches or the deadline,
 * and returns the page's log and metrics; the page is closed (its camera released) before the next one opens.
 */
async function collect(browser: Browser, url: string, resume: boolean, punches: number, deadlineMs: number): Promise<Collected> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.addInitScript({ content: recorder(resume) });
    await page.goto(url);
    await page.waitForSelector('[data-screen="camera"]', { timeout: 120_000 });
    const deadline = Date.now() + deadlineMs;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = (await page.evaluate('window.clockfaceMetrics.timeToPunchMs.length')) as number;
      if (seen >= punches) break;
      // "Not recognised" waits for a choice: take "Try again", as a person would (counted in the results).
      await page.click('[data-result="not-recognised"] button.primary', { timeout: 50 }).catch(() => undefined);
      await sleep(250);
    }
    const watcherError = (await page.evaluate('window.__kioskBench.watcherError')) as string | null;
    if (watcherError) throw new Error(`the camera watcher failed in the page: ${watcherError}`);
    if (seen < punches) console.warn(`[${SUITE}] only ${seen} of ${punches} punches in ${deadlineMs / 1000} s`);
    return (await page.evaluate(
      '({ log: window.__kioskBench, kioskMs: window.clockfaceMetrics.timeToPunchMs, framesAnalysed: window.clockfaceMetrics.framesAnalysed })',
    )) as Collected;
  } finally {
    await page.close();
  }
}

interface Look {
  /** first: the face appeared while the camera screen was up (after the grey gap); repeat: it was in view when the result closed. */
  kind: 'first' | 'repeat';
  /** The screen's own figure. */
  kioskMs: number;
  /** First looks: first camera frame with the face → confirmation. Repeat looks: camera screen back → confirmation. */
  cameraMs: number;
  faceFrames: number;
  /** Grab + analysis of the look's first face frame (null when it was the first frame after the resume). */
  firstFaceFrameMs: number | null;
  /** The camera showed only grey when the punch was confirmed: the punch came from a stale (frozen) frame. */
  stale: boolean;
  /** The screen named someone other than the person the camera showed (first looks; null when not known). */
  wrong: boolean | null;
}

interface Analysis {
  looks: Look[];
  faceFrameMs: number[];
  greyFrameMs: number[];
  roundTripMs: number[];
  /** Time on the camera screen and frames analysed in it. */
  cameraScreenMs: number;
  framesOnCameraScreen: number;
}

/** Splits a page's log into looks, one per punch: from the camera screen's return to the confirmation. */
function analyse(c: Collected): Analysis {
  const { frames, screens, punches, camera } = c.log;
  const intervals: Array<[number, number]> = [];
  let open: number | null = null;
  for (const s of screens) {
    if (s.screen === 'camera' && open === null) open = s.t;
    else if (s.screen !== 'camera' && open !== null) {
      intervals.push([open, s.t]);
      open = null;
    }
  }
  if (open !== null) intervals.push([open, Math.max(open, ...frames.map((f) => f.answered))]);
  const faceShownAt = (t: number): boolean | null => camera.filter((x) => x.t <= t).at(-1)?.face ?? null;

  const out: Analysis = { looks: [], faceFrameMs: [], greyFrameMs: [], roundTripMs: [], cameraScreenMs: 0, framesOnCameraScreen: 0 };
  const frameMs = new Map<FrameLog, number>();
  for (const [from, to] of intervals) {
    out.cameraScreenMs += to - from;
    const inside = frames.filter((f) => f.sent >= from && f.sent <= to);
    out.framesOnCameraScreen += inside.length;
    inside.forEach((f, i) => {
      out.roundTripMs.push(f.answered - f.sent);
      // The first frame after a resume also waited for the camera loop's pause poll (60 ms): not a frame time.
      if (i === 0) return;
      const ms = f.sent - inside[i - 1]!.answered;
      frameMs.set(f, ms);
      (f.face ? out.faceFrameMs : out.greyFrameMs).push(ms);
    });
  }
  for (const punch of punches) {
    if (punch.kioskMs === null) continue;
    const resumedAt = Math.max(...intervals.filter(([from]) => from < punch.t).map(([from]) => from));
    const onset = camera.filter((x) => x.face && x.t <= punch.t).at(-1);
    const first = onset !== undefined && onset.t > resumedAt;
    const lookFrom = first ? onset.t : resumedAt;
    const inLook = frames.filter((f) => f.sent >= lookFrom && f.sent <= punch.t);
    // The camera's k-th face since the page opened is the video's k-th segment (a new page's camera starts the file
    // from its first frame): who was in front of it.
    const onsets = camera.filter((x, i) => x.face && (i === 0 || camera[i - 1]?.face === false) && x.t <= punch.t).length;
    const shown = onsets > 0 ? SEGMENTS[(onsets - 1) % SEGMENTS.length] : undefined;
    const firstFace = inLook.find((f) => f.face);
    out.looks.push({
      kind: first ? 'first' : 'repeat',
      kioskMs: punch.kioskMs,
      cameraMs: punch.t - lookFrom,
      faceFrames: inLook.filter((f) => f.face).length,
      firstFaceFrameMs: firstFace ? (frameMs.get(firstFace) ?? null) : null,
      stale: faceShownAt(punch.t) === false,
      wrong: shown === undefined || punch.who === null ? null : !punch.who.startsWith(displayName(shown)),
    });
  }
  return out;
}

export const kioskE2eSuite: BenchSuite = {
  name: SUITE,
  description:
    'time to punch on the kiosk screen in headless Chromium (WASM, tiny416 as shipped): fake 30 fps camera, enrolled faces 6 s then grey 3 s, ' +
    '`kiosk serve` + embedded central, debounce 0 so every look punches; the shipped policy and 2 of 3 frames side by side',
  async run({ full }) {
    const present = [chromiumPart(), ffmpegPart()].map((part) => requirePart(SUITE, part, 'the kiosk screen'));
    if (present.includes(false)) return [];
    const measured = full ? 60 : 16; // + the page's first punch (cold), reported apart
    const work = mkdtempSync(join(tmpdir(), 'clockface-bench-kiosk-e2e-'));
    const children: ChildProcess[] = [];
    let browser: Browser | null = null;
    let central: EmbeddedCentral | null = null;
    try {
      const t0 = performance.now();
      const loadBefore = loadavg()[0]!;
      central = await startEmbeddedCentral({ dataDir: null, port: 0 });
      const dirs = await setUp(work, central);
      const url = await serveKiosk(dirs.shipped, children);
      const todayUrl = await serveKiosk(dirs.twoOfThree, children);
      const video = makeLookVideo(work);
      browser = await launchChromium(fakeCameraArgs(video));
      const setUpS = (performance.now() - t0) / 1000;
      // As shipped: a few punches, to see what the camera view does after a result screen.
      const shipped = await collect(browser, url, false, 4, 60_000);
      // Measured: the same page with the camera view played again whenever a result screen paused it. One punch per
      // face segment: a face still in view when the result closes is "still here", never punched again.
      const deadline = (measured + 1) * (FACE_S + GREY_S) * 1000 + 30_000;
      const live = await collect(browser, url, true, measured + 1, deadline);
      // Side by side: the same camera, today's policy (2 of 3 frames).
      const today = await collect(browser, todayUrl, true, measured + 1, deadline);
      console.log(
        `[${SUITE}] Chromium ${browser.version()}; set-up ${setUpS.toFixed(0)} s; load average (1 min) ${loadBefore.toFixed(2)} before, ` +
          `${loadavg()[0]!.toFixed(2)} after; measured page: ${live.kioskMs.length} punches, ${live.framesAnalysed} frames analysed, ` +
          `${live.log.cameraFrames} camera frames`,
      );
      return report(shipped, live, today);
    } finally {
      await browser?.close().catch(() => undefined);
      for (const child of children) await stopChild(child);
      await central?.stop().catch((e: unknown) => console.error(`[${SUITE}] embedded central did not stop cleanly`, e));
      rmSync(work, { recursive: true, force: true });
    }
  },
};

function report(shipped: Collected, live: Collected, today: Collected): BenchResult[] {
  const rows: BenchResult[] = [];
  const row = (kase: string, metric: string, value: number, unit: string): void => {
    rows.push({ suite: SUITE, case: kase, metric, value, unit });
  };
  const a = analyse(live);
  const [cold, ...looks] = a.looks; // the page's first punch: models and kernels still cold
  const first = looks.filter((l) => l.kind === 'first');
  const repeat = looks.filter((l) => l.kind === 'repeat');
  const all = distribution(looks.map((l) => l.kioskMs));
  const firstD = distribution(first.map((l) => l.kioskMs));
  const repeatD = distribution(repeat.map((l) => l.kioskMs));
  const firstCamera = distribution(first.map((l) => l.cameraMs));
  const repeatCamera = distribution(repeat.map((l) => l.cameraMs));
  const unseen = distribution(first.map((l) => l.cameraMs - l.kioskMs));
  const face = distribution(a.faceFrameMs);
  const grey = distribution(a.greyFrameMs);
  const firstFace = distribution(first.flatMap((l) => (l.firstFaceFrameMs === null ? [] : [l.firstFaceFrameMs])));
  const perFrame = a.cameraScreenMs / a.framesOnCameraScreen;

  const screen = 'screen clock (first analysed face frame → confirmation)';
  const dist = (kase: string, d: ReturnType<typeof distribution>): void => {
    row(kase, 'p50', d.median, 'ms');
    row(kase, 'p95', d.p95, 'ms');
    row(kase, 'samples', d.n, 'punches');
  };
  // The two policies side by side, on the same camera: first looks (a face arriving after the grey gap).
  const policyRows = (label: string, analysed: Analysis): ReturnType<typeof distribution> => {
    const looksOf = analysed.looks.slice(1).filter((l) => l.kind === 'first');
    const camera = distribution(looksOf.map((l) => l.cameraMs));
    dist(`${label}: time to punch, camera clock, first looks`, camera);
    row(`${label}: time to punch, ${screen}, first looks`, 'p50', distribution(looksOf.map((l) => l.kioskMs)).median, 'ms');
    row(`${label}: face frames analysed per punch`, 'p50', distribution(looksOf.map((l) => l.faceFrames)).median, 'frames');
    row(`${label}: wrong punches (the screen named someone the camera did not show)`, 'count', looksOf.filter((l) => l.wrong === true).length, 'punches');
    row(`${label}: punches whose person could not be told (not counted above)`, 'count', looksOf.filter((l) => l.wrong === null).length, 'punches');
    return camera;
  };
  const shippedCamera = policyRows(POLICIES.shipped.label, a);
  const todayCamera = policyRows(POLICIES.twoOfThree.label, analyse(today));
  row('ratio: shipped policy / 2 of 3, camera clock, first looks', 'p50 ratio', shippedCamera.median / todayCamera.median, 'x');
  dist(`time to punch, ${screen}, all looks`, all);
  dist(`time to punch, ${screen}, first looks (face appeared after the grey gap)`, firstD);
  // A face still in view when the result closes is "still here" (issue 15): a repeat look is a defect now.
  row('repeat looks: punches while the same face stayed in view after a result', 'count', repeat.length, 'punches');
  if (repeat.length > 0) dist(`time to punch, ${screen}, repeat looks (face still in view when the result closed)`, repeatD);
  if (cold) row(`time to punch, ${screen}, the page's first punch (cold; not in the rows above)`, 'value', cold.kioskMs, 'ms');
  dist('time to punch, camera clock (first camera frame with the face → confirmation), first looks', firstCamera);
  row('camera clock − screen clock, first looks (time before the screen clock starts)', 'p50', unseen.median, 'ms');
  if (repeat.length > 0) row('repeat looks: camera view back → confirmation', 'p50', repeatCamera.median, 'ms');
  row('one frame: grab + analysis, frames with a face', 'p50', face.median, 'ms');
  row('one frame: grab + analysis, frames with a face', 'p95', face.p95, 'ms');
  row('one frame: grab + analysis, first face frame after the grey gap', 'p50', firstFace.median, 'ms');
  row('one frame: grab + analysis, grey frames (no face)', 'p50', grey.median, 'ms');
  row('one frame: submitFrame round trip to kiosk serve', 'p50', distribution(a.roundTripMs).median, 'ms');
  row('one frame: camera-screen time / frames analysed', 'mean', perFrame, 'ms');
  row('face frames analysed per punch (shipped policy)', 'p50', distribution(looks.map((l) => l.faceFrames)).median, 'frames');
  row('ratio: time to punch (screen clock, all) / one frame (camera-screen time per frame)', 'p50 ratio', all.median / perFrame, 'x');
  row('ratio: time to punch (screen clock, all) / one face frame', 'p50 ratio', all.median / face.median, 'x');
  if (repeat.length > 0) row('ratio: first looks / repeat looks, screen clock', 'p50 ratio', firstD.median / repeatD.median, 'x');
  row('ratio: camera clock / screen clock, first looks', 'p50 ratio', firstCamera.median / firstD.median, 'x');
  row('ratio: first face frame after the grey gap / face frames', 'p50 ratio', firstFace.median / face.median, 'x');
  const log = live.log;
  const cameraS = ((log.cameraEnd ?? 0) - (log.cameraStart ?? 0)) / 1000;
  const fps = cameraS > 0 ? log.cameraFrames / cameraS : Number.NaN;
  row('camera: frames delivered to the page', 'rate', fps, 'fps');
  row('camera: gaps between frames over 50 ms (frames lost before the page)', 'count', log.longGaps.length, 'gaps');
  row('camera: frames analysed while the camera screen is up', 'rate', 1000 / perFrame, 'fps');
  row('camera: share of camera frames analysed (the loop skips the rest by design)', 'share', (100 * (1000 / perFrame)) / fps, '%');
  row('bridge errors answering frames', 'count', log.frames.filter((f) => f.kind.startsWith('error')).length, 'frames');
  row('frames with a face refused by the quality gates', 'count', log.frames.filter((f) => f.face && f.issue !== null).length, 'frames');
  row('"not recognised" results (the bench takes "Try again")', 'count', log.screens.filter((x) => x.result === 'not-recognised').length, 'screens');
  row('punches while the camera showed only grey (stale frame), measured page', 'count', a.looks.filter((l) => l.stale).length, 'punches');
  row('camera view paused by a result screen (the bench plays it again), measured page', 'count', log.pauses, 'pauses');
  const s = analyse(shipped);
  row('as shipped (video not played again): punches', 'count', s.looks.length, 'punches');
  row('as shipped: punches while the camera showed only grey (stale frame)', 'count', s.looks.filter((l) => l.stale).length, 'punches');
  row('as shipped: camera view paused by a result screen', 'count', shipped.log.pauses, 'pauses');
  return rows;
}
