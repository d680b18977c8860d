import { describeClockOffset } from '../../shared/kiosk/clock-offset.js';
import type { KioskStatusView } from '../../shared/kiosk/contract.js';
import type { KioskBridge } from './bridge.js';
import { sleep, type CameraLoop } from './camera.js';
import { el } from './dom.js';
import type { Strings } from './i18n.js';

/** Good frames an enrolment takes: several looks, so that one odd frame does not become the template. */
const ENROL_FRAMES = 5;
/** How long enrolment waits for a camera that is still starting, and then for its good frames. */
const CAMERA_WAIT_MS = 30_000;

/**
 * Admin mode, behind the admin PIN (set on first run): enrol from the camera, punch direction and threshold, sync
 * now, diagnostics. The admin token lives only in this object; closing admin mode forgets it.
 */
export class AdminPanel {
  readonly element = el('div', { class: 'admin', id: 'admin' });
  private token: string | null = null;
  private status: KioskStatusView | null = null;
  private readonly diagnostics = el('pre', { class: 'diagnostics', id: 'admin-diagnostics' });

  constructor(
    private readonly bridge: KioskBridge,
    private readonly t: Strings,
    /** A getter: admin mode may open before the camera has started. */
    private readonly camera: () => CameraLoop | null,
    private readonly onClose: () => void,
  ) {
    this.showLogin();
  }

  setStatus(status: KioskStatusView): void {
    const first = this.status === null;
    this.status = status;
    const metrics = window.clockfaceMetrics;
    const times = metrics?.timeToPunchMs ?? [];
    this.diagnostics.textContent = [
      `kiosk ${status.kioskName} · site ${status.site}`,
      `model ${status.modelId} · index ${status.engine}`,
      `roster ${status.employees} people, ${status.templates} templates · last sync ${status.lastSyncAt ?? 'never'}`,
      `online ${String(status.online)} · ${status.pendingPunches} punches waiting${status.lastError ? ` · ${status.lastError}` : ''}`,
      `clock ${status.clockOffsetMs === null ? 'offset unknown' : `${describeClockOffset(status.clockOffsetMs)} (${status.clockOffsetMs} ms)`}`,
      metrics ? `frames ${metrics.framesAnalysed} (${(metrics.framesAnalysed / ((performance.now() - metrics.startedAt) / 1000)).toFixed(1)}/s)` : '',
      times.length ? `time to punch, last: ${Math.round(times.at(-1) ?? 0)} ms` : '',
    ]
      .filter(Boolean)
      .join('\n');
    if (first && this.token === null) this.showLogin();
  }

  private showLogin(): void {
    const needsPin = this.status?.needsAdminPin ?? false;
    const pin = el('input', { id: 'admin-pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', 'aria-label': this.t.admin.enterPin });
    const message = el('p', { class: 'message', id: 'admin-message', role: 'alert' });
    const form = el('form', { class: 'pin' }, [
      el('h2', {}, [this.t.admin.title]),
      el('label', {}, [needsPin ? this.t.admin.setPin : this.t.admin.enterPin, pin]),
      message,
      el('button', { class: 'primary', type: 'submit', id: 'admin-unlock' }, [this.t.admin.unlock]),
      el('button', { class: 'secondary', type: 'button', onclick: () => this.close() }, [this.t.cancel]),
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        const r = needsPin ? await this.bridge.api.setAdminPin({ pin: pin.value }) : await this.bridge.api.unlockAdmin({ pin: pin.value });
        pin.value = '';
        if (!r.ok) {
          message.textContent = r.error.message;
          return;
        }
        this.token = r.value.adminToken;
        this.showPanel();
      })();
    });
    this.element.replaceChildren(form);
    pin.focus();
  }

  private showPanel(): void {
    const a = this.t.admin;
    const message = el('p', { class: 'message', id: 'admin-message', role: 'status' });
    const employeeNo = el('input', { id: 'enrol-employee', 'aria-label': a.enrolNo });
    const fullName = el('input', { id: 'enrol-name', 'aria-label': a.enrolName });
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
    const token = (): string => this.token ?? '';

    const enrol = async (): Promise<void> => {
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
        return;
      }
      const descriptors: number[][] = [];
      camera.setPaused(true);
      while (descriptors.length < ENROL_FRAMES && Date.now() < deadline + CAMERA_WAIT_MS) {
        const frame = await camera.grab();
        if (frame?.analysis.ok) descriptors.push(Array.from(frame.analysis.face.descriptor.values));
        message.textContent = a.enrolFrames(descriptors.length, ENROL_FRAMES);
        await sleep(150);
      }
      if (descriptors.length < ENROL_FRAMES) return;
      const r = await this.bridge.api.enrolEmployee({
        adminToken: token(),
        employeeNo: employeeNo.value.trim(),
        fullName: fullName.value.trim() || null,
        descriptors,
      });
      if (!r.ok) message.textContent = r.error.code === 'CENTRAL_REQUIRED' ? a.enrolNeedsCentral : r.error.message;
      else if (r.value.duplicateOf) message.textContent = a.enrolDuplicate(`${r.value.duplicateOf.fullName} (${r.value.duplicateOf.employeeNo})`);
      else message.textContent = a.enrolDone(r.value.employee.fullName, r.value.templatesAdded);
    };

    this.element.replaceChildren(
      el('h2', {}, [a.title]),
      message,
      el('section', {}, [
        el('h3', {}, [a.enrol]),
        el('label', {}, [a.enrolNo, employeeNo]),
        el('label', {}, [a.enrolName, fullName]),
        el('button', { class: 'primary', id: 'enrol-start', type: 'button', onclick: () => void enrol() }, [a.enrolStart]),
      ]),
      el('section', {}, [
        el('label', {}, [a.mode, mode]),
        el('label', {}, [a.threshold, threshold]),
        el('label', {}, [a.central, centralHost]),
        el('button', {
          class: 'secondary',
          id: 'admin-save',
          type: 'button',
          onclick: () =>
            void (async () => {
              const r = await this.bridge.api.updateSettings({
                adminToken: token(),
                mode: mode.value as 'auto' | 'in' | 'out',
                threshold: Number(threshold.value),
                ...(centralHost.value.trim() && centralHost.value.trim() !== this.status?.centralHost ? { centralHost: centralHost.value.trim() } : {}),
              });
              message.textContent = r.ok ? a.saved : r.error.message;
            })(),
        }, [a.save]),
        el('button', {
          class: 'secondary',
          id: 'admin-sync',
          type: 'button',
          onclick: () =>
            void (async () => {
              const r = await this.bridge.api.syncNow({ adminToken: token() });
              message.textContent = r.ok ? a.synced(r.value.employees, r.value.templates) : r.error.message;
            })(),
        }, [a.syncNow]),
      ]),
      el('section', {}, [el('h3', {}, [a.diagnostics]), this.diagnostics]),
      el('button', { class: 'secondary', id: 'admin-close', type: 'button', onclick: () => this.close() }, [a.close]),
    );
  }

  private close(): void {
    if (this.token) void this.bridge.api.lockAdmin({ adminToken: this.token });
    this.token = null;
    this.onClose();
  }
}
