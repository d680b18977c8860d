import { FACE_MODEL_ID } from '../../shared/face-model.js';
import type { FaceEngine } from '../../shared/face/engine.js';
import type { FrameOutcomeView, KioskStatusView, PinOutcomeView } from '../../shared/kiosk/contract.js';
import { createBrowserFaceEngine } from '../face/browser-face-engine.js';
import type { KioskBridge } from './bridge.js';
import { CameraLoop, sleep, type CameraFrame, type CameraProblem } from './camera.js';
import { el, formatDate, formatTime, playSound, setSiteTimeZone } from './dom.js';
import { chooseLanguage, chosenLanguage, sayError, type Strings } from './i18n.js';
import { Keypad } from './keypad.js';
import { AdminPanel } from './admin.js';

/** How long a result stays on screen before the camera view returns. */
const RESULT_MS = 3_500;
/** Frames in a row that must find nobody before the screen says "Not recognised" (one bad frame is not enough). */
const UNKNOWN_FRAMES = 4;
/** The PIN pad goes back to the camera after this long without a key pressed; a half-typed PIN is forgotten. */
export const PIN_IDLE_MS = 30_000;
/** "Clock OUT?" waits this long for an answer; no answer records nothing. */
const CONFIRM_MS = 15_000;
/** How long a "clocked IN meanwhile" notice stays over the PIN pad or admin mode. */
const NOTICE_MS = 6_000;

/** Measured for the diagnostics panel and the kiosk-e2e benchmark: first frame with a face → confirmation shown. */
export interface KioskMetrics {
  timeToPunchMs: number[];
  framesAnalysed: number;
  startedAt: number;
  /** Live tfjs tensors after the latest frame: flat over hours, or the loop leaks. */
  tensors: number;
  /** Frames with a usable face (a descriptor was computed and sent). */
  faceFrames: number;
}

declare global {
  interface Window {
    clockfaceMetrics?: KioskMetrics;
  }
}

/**
 * The clock-in screen. States: the camera with guidance; a result (clocked IN/OUT, already, not recognised); the
 * PIN pad; "nobody enrolled yet"; camera or model problems (the PIN pad still works); admin mode.
 */
export class KioskApp {
  private status: KioskStatusView | null = null;
  private camera: CameraLoop | null = null;
  private engine: FaceEngine | null = null;
  private firstFaceAt: number | null = null;
  private readonly metrics: KioskMetrics = { timeToPunchMs: [], framesAnalysed: 0, startedAt: performance.now(), tensors: 0, faceFrames: 0 };
  private readonly badge = el('div', { class: 'badge', id: 'badge' });
  private readonly stage = el('section', { class: 'stage', id: 'stage' });
  private readonly video = el('video', { id: 'camera', autoplay: '' });
  private readonly overlay = el('canvas', { id: 'overlay' });
  private readonly guidance = el('p', { class: 'guidance', id: 'guidance' });
  private problem: CameraProblem | 'models-missing' | null = null;
  private unknownInARow = 0;
  private admin: AdminPanel | null = null;
  /** The idle timer of the open overlay (PIN pad, question): restarted on each key, cleared when it closes. */
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts result screens, so that an earlier result's timer does not cut a later one short. */
  private resultsShown = 0;
  private readonly clock = el('time', { class: 'clock', id: 'clock' });
  private readonly siteName = el('span', { class: 'site', id: 'site-name' });
  private readonly notice = el('p', { class: 'notice', id: 'notice', role: 'status' });
  /** Results are announced (this region); guidance changing every frame is not. */
  private readonly announcer = el('p', { class: 'sr-only', id: 'announcer', 'aria-live': 'polite' });

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: KioskBridge,
    private readonly t: Strings,
    /** languageSwitch: false when no font can show Chinese (main.ts): the switch would lead to boxes. */
    private readonly options: { languageSwitch: boolean } = { languageSwitch: true },
  ) {
    window.clockfaceMetrics = this.metrics;
  }

  async start(): Promise<void> {
    const header = el('header', {}, [
      el('div', { class: 'when' }, [this.clock, this.siteName]),
      this.badge,
      ...(this.options.languageSwitch
        ? [el('button', { class: 'link', id: 'language', lang: chosenLanguage() === 'en' ? 'zh-CN' : 'en', onclick: () => this.switchLanguage() }, [this.t.language])]
        : []),
      el('button', { class: 'link', id: 'open-admin', onclick: () => this.openAdmin() }, [this.t.openAdmin]),
    ]);
    this.root.replaceChildren(header, this.notice, this.stage, this.announcer);
    this.tick();
    setInterval(() => this.tick(), 1_000);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.cancelOverlay();
    });
    this.bridge.onStatus((s) => this.setStatus(s));
    const first = await this.bridge.api.getStatus({});
    if (first.ok) this.setStatus(first.value);
    try {
      this.engine = await createBrowserFaceEngine({ modelsUrl: '/models/', wasmUrl: '/wasm/' });
    } catch (e) {
      this.problem = 'models-missing';
      // The screen says so; the cause goes to main's log, where whoever repairs the install will look.
      const detail = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 300);
      void this.bridge.api.reportProblem({ problem: 'models-missing', detail });
    }
    if (this.engine) {
      // Frames are analysed only while the camera screen is up: every overlay pauses recognition, whenever it opened.
      this.camera = new CameraLoop(this.video, this.engine, 'tiny416', (f) => this.onFrame(f), (p) => this.onCameraProblem(p), () => this.root.dataset['screen'] === 'camera');
      await this.camera.start();
    }
    // Someone may already be at the PIN pad or in admin mode while the models loaded: leave them there.
    if (this.atRest()) this.showHome();
  }

  /** The time and date (the kiosk's time zone, set to its site's) and the site, on every screen. */
  private tick(): void {
    const now = new Date();
    this.clock.dateTime = now.toISOString();
    this.clock.textContent = `${formatTime(now)} · ${formatDate(now)}`;
  }

  private switchLanguage(): void {
    chooseLanguage(chosenLanguage() === 'en' ? 'zh-CN' : 'en');
    location.reload();
  }

  /** Escape (a keyboard at the kiosk, or an accessibility switch): leaves the PIN pad, a question, admin mode. */
  private cancelOverlay(): void {
    const screen = this.root.dataset['screen'];
    if (screen === 'pin' || screen === 'confirm') void this.backHome();
    else if (screen === 'admin') this.admin?.close();
  }

  private restartIdle(ms: number, onIdle: () => void): void {
    this.clearIdle();
    this.idleTimer = setTimeout(onIdle, ms);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** A punch made by a frame already in flight when an overlay opened: said above the overlay, which stays. */
  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.announcer.textContent = text;
    setTimeout(() => {
      if (this.notice.textContent === text) this.notice.textContent = '';
    }, NOTICE_MS);
  }

  /** The camera view or the "nobody enrolled" screen: the screens that status changes may replace. */
  private atRest(): boolean {
    const screen = this.root.dataset['screen'];
    const resting = ['camera', 'nobody-enrolled', 'no-camera', 'permission-denied', 'camera-lost', 'models-missing'];
    return screen === undefined || resting.includes(screen);
  }

  private setStatus(status: KioskStatusView): void {
    const changed = this.status === null || this.status.nobodyEnrolled !== status.nobodyEnrolled;
    this.status = status;
    this.badge.textContent = status.online ? (status.pendingPunches > 0 ? this.t.waiting(status.pendingPunches) : '') : this.t.offline(status.pendingPunches);
    this.badge.dataset['online'] = String(status.online);
    setSiteTimeZone(status.timeZone);
    this.siteName.textContent = status.siteName;
    this.tick();
    this.admin?.setStatus(status);
    if (changed && this.atRest()) this.showHome();
  }

  private screen(name: string, ...children: Node[]): void {
    if (name !== this.root.dataset['screen']) this.clearIdle();
    this.root.dataset['screen'] = name;
    this.stage.replaceChildren(...children);
  }

  /** The resting screen: camera and guidance, or what stands in its way. */
  private showHome(): void {
    if (this.status?.nobodyEnrolled) {
      return this.screen(
        'nobody-enrolled',
        el('h2', {}, [this.t.nobodyEnrolled]),
        el('p', {}, [this.t.nobodyEnrolledHelp]),
        el('button', { class: 'primary', onclick: () => this.openAdmin() }, [this.t.openAdmin]),
      );
    }
    if (this.problem) {
      const [title, help] =
        this.problem === 'models-missing' ? [this.t.modelsMissing, this.t.modelsMissingHelp] : [this.t.noCamera, this.t.noCameraHelp];
      return this.screen(
        this.problem,
        el('h2', {}, [title]),
        el('p', {}, [help]),
        el('button', { class: 'primary', id: 'use-pin', onclick: () => this.showPin() }, [this.t.usePin]),
      );
    }
    this.guidance.textContent = this.t.lookAtCamera;
    delete this.guidance.dataset['state'];
    this.screen(
      'camera',
      el('div', { class: 'viewfinder' }, [this.video, this.overlay]),
      this.guidance,
      el('button', { class: 'secondary', id: 'use-pin', onclick: () => this.showPin() }, [this.t.usePin]),
    );
    // Taking the video out of the page (a result, the PIN pad) pauses it; a paused video would keep handing the
    // loop the same old frame, so it must play again whenever it is back.
    if (this.video.srcObject) void this.video.play().catch(() => undefined);
  }

  private onCameraProblem(problem: CameraProblem): void {
    this.problem = problem;
    if (this.atRest()) this.showHome();
    // A camera plugged back in is picked up without anyone touching the kiosk.
    void (async () => {
      while (this.problem !== null && this.problem !== 'models-missing') {
        await sleep(3_000);
        if (await this.camera?.start()) {
          this.problem = null;
          if (this.atRest()) this.showHome();
        }
      }
    })();
  }

  private async onFrame(frame: CameraFrame): Promise<void> {
    this.metrics.framesAnalysed++;
    this.metrics.tensors = this.engine?.numTensors() ?? 0;
    const { analysis } = frame;
    if (analysis.ok) this.metrics.faceFrames++;
    this.drawBox(frame);
    if (analysis.face && this.firstFaceAt === null) this.firstFaceAt = performance.now();
    const response = await this.bridge.api.submitFrame({
      modelId: analysis.face?.descriptor.modelId ?? FACE_MODEL_ID,
      descriptor: analysis.ok ? Array.from(analysis.face.descriptor.values) : null,
      issues: analysis.ok ? [] : analysis.issues,
      yaw: analysis.face?.pose.yaw ?? null,
    });
    if (!response.ok) {
      if (this.root.dataset['screen'] === 'camera') this.guidance.textContent = sayError(this.t, response.error, formatTime);
      return;
    }
    await this.onOutcome(response.value);
  }

  private async onOutcome(outcome: FrameOutcomeView): Promise<void> {
    // The frame was in flight when someone opened the PIN pad or admin mode: the overlay stays; a punch it made is
    // still said, above it (it was recorded).
    if (this.root.dataset['screen'] !== 'camera') {
      if (outcome.kind === 'punched') {
        const dir = outcome.direction === 'in' ? this.t.in : this.t.out;
        this.showNotice(this.t.punchedMeanwhile(outcome.employee.fullName, dir, formatTime(outcome.at)));
      }
      return;
    }
    if (outcome.kind !== 'not-recognised') this.unknownInARow = 0;
    switch (outcome.kind) {
      case 'no-face':
        if (!outcome.issues.includes('NO_FACE')) this.firstFaceAt ??= performance.now();
        else this.firstFaceAt = null;
        // One message at a time: the issues come worst first (shared/face/quality.ts), and the first is what to do.
        this.guidance.textContent = outcome.issues[0] ? this.t.issues[outcome.issues[0]] : this.t.lookAtCamera;
        return;
      case 'pending':
        this.guidance.textContent = this.t.holdStill;
        return;
      case 'ambiguous':
        this.guidance.textContent = this.t.notSure;
        return;
      case 'turn-head':
        this.guidance.textContent = this.t.turnHead(outcome.direction === 'left' ? this.t.left : this.t.right);
        return;
      case 'not-recognised':
      case 'turn-failed':
        if (outcome.kind === 'not-recognised' && ++this.unknownInARow < UNKNOWN_FRAMES) {
          this.guidance.textContent = this.t.holdStill;
          return;
        }
        this.unknownInARow = 0;
        playSound('refused');
        return this.showResult('not-recognised', this.t.notRecognised, '', [
          el('button', { class: 'primary', onclick: () => this.backHome() }, [this.t.tryAgain]),
          el('button', { class: 'secondary', id: 'result-use-pin', onclick: () => this.showPin() }, [this.t.usePin]),
        ]);
      case 'still-here': {
        // Recognised again without having left: a quiet line, no result screen, no sound, and never a second punch.
        const dir = outcome.direction === 'in' ? this.t.in : this.t.out;
        this.guidance.textContent = this.t.stillHere(dir, formatTime(outcome.at));
        this.guidance.dataset['state'] = 'still-here';
        return;
      }
      case 'confirm':
        return this.askToConfirm(outcome);
      case 'punched':
      case 'already':
        return this.showPunch(outcome);
    }
  }

  /** "Clock OUT? You clocked IN 2 minutes ago": nothing is recorded until yes; no answer in time is a no. */
  private askToConfirm(outcome: Extract<FrameOutcomeView, { kind: 'confirm' }>): void {
    const dir = outcome.direction === 'in' ? this.t.in : this.t.out;
    const lastDir = outcome.lastDirection === 'in' ? this.t.in : this.t.out;
    const minutes = Math.floor((Date.now() - new Date(outcome.lastAt).getTime()) / 60_000);
    const answer = (yes: boolean) => async () => {
      this.clearIdle();
      const r = await this.bridge.api.confirmPunch({ confirmationId: outcome.confirmationId, yes });
      if (r.ok && r.value.kind === 'punched') return this.showPunch(r.value);
      if (!r.ok) return this.showResult('not-recognised', sayError(this.t, r.error, formatTime), '', []);
      return this.showResult('not-punched', this.t.notPunched, outcome.employee.fullName, []);
    };
    const yes = el('button', { class: 'primary', id: 'confirm-yes', onclick: () => void answer(true)() }, [this.t.confirmYes(dir)]);
    this.screen(
      'confirm',
      el('div', { class: 'result confirm', id: 'result', 'data-result': 'confirm', role: 'alertdialog', 'aria-labelledby': 'result-headline' }, [
        el('h2', { id: 'result-headline' }, [this.t.confirmTitle(dir)]),
        el('p', { id: 'result-detail' }, [`${outcome.employee.fullName} · ${this.t.confirmDetail(lastDir, minutes)}`]),
        yes,
        el('button', { class: 'secondary', id: 'confirm-no', onclick: () => void answer(false)() }, [this.t.confirmNo]),
      ]),
    );
    playSound('already');
    this.announcer.textContent = this.t.confirmTitle(dir);
    yes.focus();
    this.restartIdle(CONFIRM_MS, () => void answer(false)());
  }

  private showPunch(outcome: Extract<FrameOutcomeView | PinOutcomeView, { kind: 'punched' | 'already' }>): Promise<void> {
    const time = formatTime(outcome.at);
    const dir = outcome.direction === 'in' ? this.t.in : this.t.out;
    if (outcome.kind === 'punched') {
      if (this.firstFaceAt !== null) this.metrics.timeToPunchMs.push(performance.now() - this.firstFaceAt);
      if ('punchId' in outcome && this.status?.auditSnapshots) void this.attachSnapshot(outcome.punchId);
      playSound('punch');
      const headline = outcome.direction === 'in' ? this.t.clockedIn : this.t.clockedOut;
      const extra = this.status && !this.status.online ? [el('p', { class: 'queued' }, [this.t.queued])] : [];
      if (outcome.workedTodayMinutes !== null) extra.unshift(el('p', { class: 'worked', id: 'result-worked' }, [this.t.workedToday(outcome.workedTodayMinutes)]));
      return this.showResult(`punched-${outcome.direction}`, headline, `${outcome.employee.fullName} · ${time}`, [...extra, this.notYouButton()]);
    }
    playSound('already');
    return this.showResult('already', this.t.already(dir, time), outcome.employee.fullName, [this.notYouButton()]);
  }

  /** On every result naming someone: the way to the PIN pad for whoever was taken for someone else. */
  private notYouButton(): HTMLButtonElement {
    return el('button', { class: 'secondary', id: 'not-you', onclick: () => this.showPin() }, [this.t.notYou]);
  }

  private async showResult(name: string, headline: string, detail: string, actions: Node[]): Promise<void> {
    const shown = ++this.resultsShown;
    this.screen(
      'result',
      el('div', { class: `result ${name}`, id: 'result', 'data-result': name }, [
        el('h2', { id: 'result-headline', tabindex: '-1' }, [headline]),
        el('p', { id: 'result-detail' }, [detail]),
        ...actions,
      ]),
    );
    this.announcer.textContent = detail ? `${headline}. ${detail}` : headline;
    document.getElementById('result-headline')?.focus();
    // "Not recognised" waits longer for a choice (try again, or the PIN), then returns by itself.
    await sleep(name === 'not-recognised' ? RESULT_MS * 3 : RESULT_MS);
    // Only this result returns home: one shown after it (Try again, then a new face) keeps its own full time.
    if (this.root.dataset['screen'] === 'result' && this.resultsShown === shown) await this.backHome();
  }

  private async backHome(): Promise<void> {
    this.firstFaceAt = null;
    await this.bridge.api.resetFrames({});
    this.showHome();
  }

  private showPin(): void {
    const number = el('input', { id: 'pin-employee', autocomplete: 'off', maxlength: '64', autocapitalize: 'characters', 'aria-label': this.t.employeeNo });
    const pin = el('input', { id: 'pin-code', type: 'password', autocomplete: 'off', maxlength: '8', 'aria-label': this.t.pin });
    const message = el('p', { class: 'message', id: 'pin-message', role: 'alert' });
    const idle = () => this.restartIdle(PIN_IDLE_MS, () => void this.backHome());
    const keypad = new Keypad(this.t, [{ input: number, letters: true }, { input: pin, letters: false }], idle);
    // Fields and keypad side by side on a landscape screen, the keypad under the fields on a portrait one (kiosk.css).
    const form = el('form', { class: 'pin', id: 'pin-form' }, [
      el('div', { class: 'pin-fields' }, [
        el('h2', { id: 'pin-title' }, [this.t.pinTitle]),
        el('label', {}, [this.t.employeeNo, number]),
        el('label', {}, [this.t.pin, pin]),
        message,
        el('div', { class: 'actions' }, [
          el('button', { class: 'primary', type: 'submit', id: 'pin-submit' }, [this.t.punch]),
          el('button', { class: 'secondary', type: 'button', id: 'pin-cancel', onclick: () => void this.backHome() }, [this.t.cancel]),
        ]),
      ]),
      keypad.element,
    ]);
    form.addEventListener('input', idle);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      idle();
      // Checked here, in the person's words, before the bridge would refuse it in a developer's.
      if (number.value.trim() === '') {
        message.textContent = this.t.typeEmployeeNo;
        number.focus();
        return;
      }
      if (!/^\d{4,8}$/.test(pin.value)) {
        message.textContent = this.t.typePin;
        pin.focus();
        return;
      }
      void (async () => {
        const r = await this.bridge.api.punchWithPin({ employeeNo: number.value.trim(), pin: pin.value });
        pin.value = '';
        if (!r.ok) {
          message.textContent = sayError(this.t, r.error, formatTime);
          return;
        }
        const o = r.value;
        if (o.kind === 'wrong' || o.kind === 'locked') playSound('refused');
        if (o.kind === 'wrong') message.textContent = this.t.wrongPin(o.attemptsLeft);
        else if (o.kind === 'locked') message.textContent = this.t.lockedUntil(formatTime(o.until));
        else await this.showPunch(o);
      })();
    });
    this.screen('pin', form);
    idle();
    number.focus();
  }

  /** The audit snapshot of a face punch (only when the kiosk is set to keep them): 320×240 JPEG of this moment. */
  private async attachSnapshot(punchId: string): Promise<void> {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    canvas.getContext('2d')?.drawImage(this.video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.7));
    if (!blob) return;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    await this.bridge.api.attachSnapshot({ punchId, jpegBase64: btoa(binary) });
  }

  private drawBox(frame: CameraFrame): void {
    const canvas = this.overlay;
    canvas.width = frame.width;
    canvas.height = frame.height;
    const context = canvas.getContext('2d');
    if (!context) return;
    context.clearRect(0, 0, canvas.width, canvas.height);
    const face = frame.analysis.face;
    if (!face) return;
    context.lineWidth = 4;
    context.strokeStyle = frame.analysis.ok ? '#2ecc71' : '#f1c40f';
    context.strokeRect(face.box.x, face.box.y, face.box.width, face.box.height);
  }

  private openAdmin(): void {
    // Admin mode already open but covered (it should not be): show it again rather than ignore the tap.
    if (!this.admin) {
      this.admin = new AdminPanel(this.bridge, this.t, () => this.camera, () => {
        this.admin = null;
        void this.backHome();
      });
      if (this.status) this.admin.setStatus(this.status);
    }
    this.screen('admin', this.admin.element);
    this.admin.focusFirst();
  }
}
