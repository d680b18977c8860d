import { FACE_MODEL_ID } from '../../shared/face-model.js';
import type { FaceEngine } from '../../shared/face/engine.js';
import type { FrameOutcomeView, KioskStatusView, PinOutcomeView } from '../../shared/kiosk/contract.js';
import { createBrowserFaceEngine } from '../face/browser-face-engine.js';
import type { KioskBridge } from './bridge.js';
import { CameraLoop, sleep, type CameraFrame, type CameraProblem } from './camera.js';
import { el, formatTime, playConfirmation } from './dom.js';
import type { Strings } from './i18n.js';
import { AdminPanel } from './admin.js';

/** How long a result stays on screen before the camera view returns. */
const RESULT_MS = 3_500;
/** Frames in a row that must find nobody before the screen says "Not recognised" (one bad frame is not enough). */
const UNKNOWN_FRAMES = 4;

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

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: KioskBridge,
    private readonly t: Strings,
  ) {
    window.clockfaceMetrics = this.metrics;
  }

  async start(): Promise<void> {
    const header = el('header', {}, [
      el('h1', {}, ['Clockface']),
      this.badge,
      el('button', { class: 'link', id: 'open-admin', onclick: () => this.openAdmin() }, [this.t.openAdmin]),
    ]);
    this.root.replaceChildren(header, this.stage);
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
      this.camera = new CameraLoop(this.video, this.engine, 'tiny416', (f) => this.onFrame(f), (p) => this.onCameraProblem(p));
      await this.camera.start();
    }
    // Someone may already be at the PIN pad or in admin mode while the models loaded: leave them there.
    if (this.atRest()) this.showHome();
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
    this.admin?.setStatus(status);
    if (changed && this.atRest()) this.showHome();
  }

  private screen(name: string, ...children: Node[]): void {
    this.root.dataset['screen'] = name;
    this.stage.replaceChildren(...children);
  }

  /** The resting screen: camera and guidance, or what stands in its way. */
  private showHome(): void {
    this.camera?.setPaused(false);
    if (this.status?.nobodyEnrolled) {
      this.camera?.setPaused(true);
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
      this.guidance.textContent = response.error.message;
      return;
    }
    await this.onOutcome(response.value);
  }

  private async onOutcome(outcome: FrameOutcomeView): Promise<void> {
    // The frame was in flight when someone opened the PIN pad or admin mode: only a punch it made still shows.
    const punchedOrAlready = outcome.kind === 'punched' || outcome.kind === 'already';
    if (this.root.dataset['screen'] !== 'camera' && !punchedOrAlready) return;
    if (outcome.kind !== 'not-recognised') this.unknownInARow = 0;
    switch (outcome.kind) {
      case 'no-face':
        if (!outcome.issues.includes('NO_FACE')) this.firstFaceAt ??= performance.now();
        else this.firstFaceAt = null;
        this.guidance.textContent = outcome.issues.map((i) => this.t.issues[i]).filter((v, i, a) => a.indexOf(v) === i).join(' · ');
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
        return this.showResult('not-recognised', this.t.notRecognised, '', [
          el('button', { class: 'primary', onclick: () => this.backHome() }, [this.t.tryAgain]),
          el('button', { class: 'secondary', onclick: () => this.showPin() }, [this.t.usePin]),
        ]);
      case 'punched':
      case 'already':
        return this.showPunch(outcome);
    }
  }

  private showPunch(outcome: Extract<FrameOutcomeView | PinOutcomeView, { kind: 'punched' | 'already' }>): Promise<void> {
    const time = formatTime(outcome.at);
    const dir = outcome.direction === 'in' ? this.t.in : this.t.out;
    if (outcome.kind === 'punched') {
      if (this.firstFaceAt !== null) this.metrics.timeToPunchMs.push(performance.now() - this.firstFaceAt);
      if ('punchId' in outcome && this.status?.auditSnapshots) void this.attachSnapshot(outcome.punchId);
      playConfirmation();
      const headline = outcome.direction === 'in' ? this.t.clockedIn : this.t.clockedOut;
      const extra = this.status && !this.status.online ? [el('p', { class: 'queued' }, [this.t.queued])] : [];
      return this.showResult(`punched-${outcome.direction}`, headline, `${outcome.employee.fullName} · ${time}`, extra);
    }
    return this.showResult('already', this.t.already(dir, time), outcome.employee.fullName, []);
  }

  private async showResult(name: string, headline: string, detail: string, actions: Node[]): Promise<void> {
    this.camera?.setPaused(true);
    this.screen(
      'result',
      el('div', { class: `result ${name}`, id: 'result', 'data-result': name }, [
        el('h2', { id: 'result-headline' }, [headline]),
        el('p', { id: 'result-detail' }, [detail]),
        ...actions,
      ]),
    );
    // "Not recognised" waits longer for a choice (try again, or the PIN), then returns by itself.
    await sleep(name === 'not-recognised' ? RESULT_MS * 3 : RESULT_MS);
    if (this.root.dataset['screen'] === 'result') await this.backHome();
  }

  private async backHome(): Promise<void> {
    this.firstFaceAt = null;
    await this.bridge.api.resetFrames({});
    this.showHome();
  }

  private showPin(): void {
    this.camera?.setPaused(true);
    const number = el('input', { id: 'pin-employee', inputmode: 'text', autocomplete: 'off', 'aria-label': this.t.employeeNo });
    const pin = el('input', { id: 'pin-code', type: 'password', inputmode: 'numeric', autocomplete: 'off', 'aria-label': this.t.pin });
    const message = el('p', { class: 'message', id: 'pin-message', role: 'alert' });
    const form = el('form', { class: 'pin', id: 'pin-form' }, [
      el('label', {}, [this.t.employeeNo, number]),
      el('label', {}, [this.t.pin, pin]),
      message,
      el('button', { class: 'primary', type: 'submit' }, [this.t.punch]),
      el('button', { class: 'secondary', type: 'button', onclick: () => void this.backHome() }, [this.t.cancel]),
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        const r = await this.bridge.api.punchWithPin({ employeeNo: number.value.trim(), pin: pin.value });
        pin.value = '';
        if (!r.ok) {
          message.textContent = r.error.message;
          return;
        }
        const o = r.value;
        if (o.kind === 'wrong') message.textContent = this.t.wrongPin(o.attemptsLeft);
        else if (o.kind === 'locked') message.textContent = this.t.lockedUntil(formatTime(o.until));
        else await this.showPunch(o);
      })();
    });
    this.screen('pin', form);
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
    if (this.admin) return;
    this.camera?.setPaused(true);
    this.admin = new AdminPanel(this.bridge, this.t, () => this.camera, () => {
      this.admin = null;
      void this.backHome();
    });
    if (this.status) this.admin.setStatus(this.status);
    this.screen('admin', this.admin.element);
  }
}
