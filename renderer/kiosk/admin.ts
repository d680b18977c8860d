import type { BridgeError } from '../../shared/errors.js';
import { KIOSK_REQUESTS, type KioskStatusView } from '../../shared/kiosk/contract.js';
import type { KioskBridge } from './bridge.js';
import { sleep, type CameraLoop } from './camera.js';
import { el, formatDate, formatTime } from './dom.js';
import { sayError, type Strings } from './i18n.js';
import { Keypad } from './keypad.js';

/** Good frames an enrolment takes: several looks, so that one odd frame does not become the template. */
const ENROL_FRAMES = 5;
/** How long enrolment waits for a camera that is still starting, and then for its good frames. */
const CAMERA_WAIT_MS = 30_000;
/** Admin mode closes (and forgets its session) after this long with nobody touching it: a kiosk is left alone. */
export const ADMIN_IDLE_MS = 180_000;

/**
 * Admin mode, behind the admin PIN (set on first run): enrol from the camera, punch direction and threshold, sync
 * now, diagnostics. The admin token lives only in this object; closing admin mode forgets it.
 */
/** Where the admin panel speaks: its message line, a sentence, and a refusal from the bridge said by its code. */
interface PanelVoice {
  message: HTMLElement;
  say: (text: string) => void;
  refused: (error: BridgeError, sentence?: string) => void;
}

export class AdminPanel {
  readonly element = el('div', { class: 'admin', id: 'admin' });
  private token: string | null = null;
  private status: KioskStatusView | null = null;
  private readonly diagnostics = el('pre', { class: 'diagnostics', id: 'admin-diagnostics' });
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly bridge: KioskBridge,
    private readonly t: Strings,
    /** A getter: admin mode may open before the camera has started. */
    private readonly camera: () => CameraLoop | null,
    private readonly onClose: () => void,
  ) {
    // Any touch or key inside admin mode keeps it open; none for ADMIN_IDLE_MS closes it.
    for (const type of ['pointerdown', 'keydown', 'input']) this.element.addEventListener(type, () => this.restartIdle());
    this.restartIdle();
    this.showLogin();
  }

  private restartIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), ADMIN_IDLE_MS);
  }

  /** Focus where the admin starts: the PIN field, or the panel's heading. Called once the panel is on screen. */
  focusFirst(): void {
    (this.element.querySelector<HTMLElement>('#admin-pin') ?? this.element.querySelector<HTMLElement>('h2'))?.focus();
  }

  setStatus(status: KioskStatusView): void {
    const first = this.status === null;
    this.status = status;
    const metrics = window.clockfaceMetrics;
    const times = metrics?.timeToPunchMs ?? [];
    const a = this.t.admin;
    const d = a.diag;
    const when = (iso: string) => `${formatDate(new Date(iso))} ${formatTime(iso)}`;
    // Said for a person, in the screen's language: times in the kiosk's zone, online in words; the sync error as
    // what it means (status.lastError is only a code; central's own message names its address and this kiosk's
    // login, and stays in the kiosk's log and `clockface kiosk status` for IT).
    this.diagnostics.textContent = [
      d.kiosk(status.kioskName, status.site),
      d.model(status.modelId, status.engine),
      `${d.roster(status.employees, status.templates)} · ${a.lastSync(status.lastSyncAt ? when(status.lastSyncAt) : a.never)}`,
      `${status.online ? a.online : a.offline} · ${d.waiting(status.pendingPunches)}${status.lastError ? ` · ${a.syncProblem}` : ''}`,
      d.clock(status.clockOffsetMs),
      metrics ? d.frames(metrics.framesAnalysed, (metrics.framesAnalysed / ((performance.now() - metrics.startedAt) / 1000)).toFixed(1)) : '',
      times.length ? d.timeToPunch(Math.round(times.at(-1) ?? 0)) : '',
    ]
      .filter(Boolean)
      .join('\n');
    if (first && this.token === null) this.showLogin();
  }

  /** The admin PIN field; `notice` is said above it (why admin mode asks again). */
  private showLogin(notice = ''): void {
    const needsPin = this.status?.needsAdminPin ?? false;
    const pin = el('input', { id: 'admin-pin', type: 'password', autocomplete: 'off', maxlength: '8', 'aria-label': this.t.admin.enterPin });
    const keypad = new Keypad(this.t, [{ input: pin, letters: false }], () => this.restartIdle());
    const message = el('p', { class: 'message', id: 'admin-message', role: 'alert' }, [notice]);
    const form = el('form', { class: 'pin' }, [
      el('div', { class: 'pin-fields' }, [
        el('h2', {}, [this.t.admin.title]),
        el('label', {}, [needsPin ? this.t.admin.setPin : this.t.admin.enterPin, pin]),
        message,
        el('div', { class: 'actions' }, [
          el('button', { class: 'primary', type: 'submit', id: 'admin-unlock' }, [this.t.admin.unlock]),
          el('button', { class: 'secondary', type: 'button', id: 'admin-cancel', onclick: () => this.close() }, [this.t.cancel]),
        ]),
      ]),
      keypad.element,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!/^\d{4,8}$/.test(pin.value)) {
        message.textContent = this.t.admin.pinFormat;
        return;
      }
      void (async () => {
        const r = needsPin ? await this.bridge.api.setAdminPin({ pin: pin.value }) : await this.bridge.api.unlockAdmin({ pin: pin.value });
        pin.value = '';
        if (!r.ok && r.error.code === 'ADMIN_PIN_WRONG' && r.error.attemptsLeft === undefined) {
          // Not a wrong PIN: one was set meanwhile (another screen's first run), or none is set after all. Ask again,
          // the right way round.
          const status = await this.bridge.api.getStatus({});
          if (status.ok) this.status = status.value;
          this.showLogin(needsPin ? this.t.admin.pinAlreadySet : this.t.admin.pinNotSet);
          return;
        }
        if (!r.ok) {
          message.textContent = sayError(this.t, r.error, formatTime);
          return;
        }
        this.token = r.value.adminToken;
        this.showPanel();
      })();
    });
    this.element.replaceChildren(form);
    if (this.element.isConnected) pin.focus();
  }

  private showPanel(): void {
    const a = this.t.admin;
    const message = el('p', { class: 'message', id: 'admin-message', role: 'status' });
    const say = (text: string): void => {
      message.textContent = text;
      // The message sits at the top of a long panel: bring it into view, or "Saved" happens off screen.
      message.scrollIntoView({ block: 'nearest' });
    };
    /** A refusal in words; a session that has ended (ADMIN_LOCKED without a lock time) goes back to the PIN. */
    const refused = (error: BridgeError, sentence = sayError(this.t, error, formatTime)): void => {
      if (error.code === 'ADMIN_LOCKED' && error.until === undefined) {
        this.token = null;
        this.showLogin(sentence);
        this.focusFirst();
        return;
      }
      say(sentence);
    };
    const voice: PanelVoice = { message, say, refused };
    this.element.replaceChildren(
      el('h2', { id: 'admin-title' }, [a.title]),
      message,
      this.enrolSection(voice),
      this.settingsSection(voice),
      el('section', {}, [el('h3', {}, [a.diagnostics]), this.diagnostics]),
      el('button', { class: 'secondary', id: 'admin-close', type: 'button', onclick: () => this.close() }, [a.close]),
    );
    this.element.querySelector('h2')?.setAttribute('tabindex', '-1');
    this.focusFirst();
  }

  /** Enrolment from the camera: number, name for someone new, then ENROL_FRAMES good frames sent to central. */
  private enrolSection(voice: PanelVoice): HTMLElement {
    const a = this.t.admin;
    // The bridge's own limits (contract.ts), so that a long paste is cut here rather than refused there.
    const employeeNo = el('input', { id: 'enrol-employee', maxlength: '64', 'aria-label': a.enrolNo });
    const fullName = el('input', { id: 'enrol-name', maxlength: '200', 'aria-label': a.enrolName });
    const enrol = async (): Promise<void> => {
      if (employeeNo.value.trim() === '') {
        voice.say(a.enrolNumberMissing);
        return;
      }
      const descriptors = await this.captureEnrolFaces(voice.message);
      if (descriptors === null) return;
      if (descriptors.length < ENROL_FRAMES) {
        voice.say(a.enrolNobody);
        return;
      }
      const r = await this.bridge.api.enrolEmployee({
        adminToken: this.token ?? '',
        employeeNo: employeeNo.value.trim(),
        fullName: fullName.value.trim() || null,
        descriptors,
      });
      if (!r.ok) voice.refused(r.error, r.error.code === 'CENTRAL_REQUIRED' ? a.enrolNeedsCentral : undefined);
      else if (r.value.duplicateOf) voice.say(a.enrolDuplicate(`${r.value.duplicateOf.fullName} (${r.value.duplicateOf.employeeNo})`));
      else voice.say(a.enrolDone(r.value.employee.fullName, r.value.templatesAdded));
    };
    return el('section', {}, [
      el('h3', {}, [a.enrol]),
      el('label', {}, [a.enrolNo, employeeNo]),
      el('label', {}, [a.enrolName, fullName]),
      el('button', { class: 'primary', id: 'enrol-start', type: 'button', onclick: () => void enrol() }, [a.enrolStart]),
    ]);
  }

  /**
   * Good frames of the person in front of the camera, with a live preview and the one thing to fix said in `message`;
   * fewer than ENROL_FRAMES when time ran out, null when there is no camera (said in `message`).
   */
  private async captureEnrolFaces(message: HTMLElement): Promise<number[][] | null> {
    const a = this.t.admin;
    // Admin mode may open while the face models and the camera are still starting: wait for them a while.
    const deadline = Date.now() + CAMERA_WAIT_MS;
    let camera = this.camera();
    while (!camera && Date.now() < deadline) {
      message.textContent = a.cameraStarting;
      await sleep(200);
      camera = this.camera();
    }
    if (!camera) {
      message.textContent = this.t.noCamera;
      return null;
    }
    // The person being enrolled sees themselves (admin mode covers the camera screen), with the one thing to fix.
    const preview = el('video', { class: 'enrol-preview', id: 'enrol-preview', 'aria-hidden': 'true' });
    preview.muted = true;
    preview.playsInline = true;
    preview.srcObject = camera.video.srcObject;
    message.after(preview);
    void preview.play().catch(() => undefined);
    const descriptors: number[][] = [];
    try {
      while (descriptors.length < ENROL_FRAMES && Date.now() < deadline + CAMERA_WAIT_MS) {
        const frame = await camera.grab();
        if (frame?.analysis.ok) descriptors.push(Array.from(frame.analysis.face.descriptor.values));
        const issue = frame && !frame.analysis.ok ? frame.analysis.issues[0] : undefined;
        message.textContent = a.enrolFrames(descriptors.length, ENROL_FRAMES) + (issue ? ` · ${this.t.issues[issue]}` : '');
        await sleep(150);
      }
    } finally {
      preview.remove();
    }
    return descriptors;
  }

  /** Punch direction, match threshold and central's address; "Sync now". */
  private settingsSection(voice: PanelVoice): HTMLElement {
    const a = this.t.admin;
    const mode = el('select', { id: 'admin-mode', 'aria-label': a.mode }, [
      el('option', { value: 'auto' }, [a.modeAuto]),
      el('option', { value: 'in' }, [a.modeIn]),
      el('option', { value: 'out' }, [a.modeOut]),
    ]);
    mode.value = this.status?.mode ?? 'auto';
    const threshold = el('input', { id: 'admin-threshold', type: 'number', step: '0.01', min: '0.2', max: '1', 'aria-label': a.threshold });
    threshold.value = String(this.status?.threshold ?? 0.55);
    const centralHost = el('input', { id: 'admin-central', 'aria-label': a.central });
    centralHost.value = this.status?.centralHost ?? '';
    const save = async (): Promise<void> => {
      const value = Number(threshold.value);
      if (!(value >= 0.2 && value <= 1)) {
        voice.say(a.thresholdRange);
        return;
      }
      // Checked by the bridge's own rule, in words here rather than as BRIDGE_INVALID there.
      const host = centralHost.value.trim();
      if (host && !KIOSK_REQUESTS.updateSettings.shape.centralHost.safeParse(host).success) {
        voice.say(a.centralFormat);
        return;
      }
      const r = await this.bridge.api.updateSettings({
        adminToken: this.token ?? '',
        mode: mode.value as 'auto' | 'in' | 'out',
        threshold: value,
        ...(host && host !== this.status?.centralHost ? { centralHost: host } : {}),
      });
      if (r.ok) {
        // The settings as the kiosk now has them: a host saved here, then saved back, must be sent again.
        this.setStatus(r.value);
        voice.say(a.saved);
      } else voice.refused(r.error);
    };
    const syncNow = async (): Promise<void> => {
      const r = await this.bridge.api.syncNow({ adminToken: this.token ?? '' });
      if (r.ok) voice.say(a.synced(r.value.employees, r.value.templates));
      else voice.refused(r.error);
    };
    return el('section', {}, [
      el('label', {}, [a.mode, mode]),
      el('label', {}, [a.threshold, threshold]),
      el('label', {}, [a.central, centralHost]),
      el('button', { class: 'secondary', id: 'admin-save', type: 'button', onclick: () => void save() }, [a.save]),
      el('button', { class: 'secondary', id: 'admin-sync', type: 'button', onclick: () => void syncNow() }, [a.syncNow]),
    ]);
  }


  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.token) void this.bridge.api.lockAdmin({ adminToken: this.token });
    this.token = null;
    this.onClose();
  }
}
