import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { hashPin } from '../../electron/security/pin-hash.js';
import { KIOSK_CHANNELS } from '../../shared/kiosk/contract.js';
import { TestClock } from '../support/test-clock.js';

/**
 * The bridge's main-process side without a window or a network: request validation, the PIN fallback and its
 * lock-out (kept across restarts), the admin PIN and sessions, settings that persist. Central is unreachable on
 * purpose (port 9): none of this may need it.
 */
describe('KioskService', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-service-'));
  const clock = new TestClock('2026-03-02T08:00:00Z');
  let core: KioskCore;
  let service: KioskService;
  let exits = 0;

  const open = () => {
    // A clock that moves only when the test moves it, wall and monotonic alike (no jumps here: see test/faults/clock-jumps).
    core = KioskCore.open(dir, { clock });
    service = new KioskService(core, { follow: false, onExit: () => exits++ });
  };

  beforeAll(async () => {
    writeKioskSettings(dir, {
      kioskName: 'door-unit',
      site: 'hq',
      roleName: 'clockface_kiosk_unit',
      url: 'postgres://nobody:secret@127.0.0.1:9/none',
      kioskId: 1,
      engine: 'js',
      centralFallback: false,
      pollSeconds: 30,
      uploadBatchSize: 500,
      policy: {},
    });
    open();
    core.db
      .prepare("INSERT INTO employees (id, employee_no, full_name, site, active, pin_hash) VALUES (7, 'E-7', 'Seven', 'hq', 1, ?)")
      .run(await hashPin('2468'));
  });
  afterAll(async () => {
    await service.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unknown channels and malformed requests with BRIDGE_INVALID, naming the field, never the values', async () => {
    expect(await service.handle('dropTables', {})).toEqual({ ok: false, error: { code: 'BRIDGE_INVALID', message: 'unknown channel "dropTables"' } });
    const frame = { modelId: 'faceapi-resnet128@1', descriptor: Array(128).fill(0.1), issues: [], yaw: 0 };
    const bad = [
      { ...frame, descriptor: Array(127).fill(0.1) },
      { ...frame, descriptor: [...Array(127).fill(0.1), Number.NaN] },
      { ...frame, issues: ['NOT_AN_ISSUE'] },
      'not an object',
      null,
    ];
    for (const request of bad) {
      const r = await service.handle('submitFrame', request);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('BRIDGE_INVALID');
        expect(r.error.message).not.toContain('0.1');
      }
    }
    const otherModel = await service.handle('submitFrame', { ...frame, modelId: 'someone-else@9' });
    expect(otherModel).toMatchObject({ ok: false, error: { code: 'MODEL_MISMATCH' } });
    // The typed surface is the contract, channel for channel.
    expect(Object.keys(service.api()).sort()).toEqual([...KIOSK_CHANNELS].sort());
  });

  it('PIN fallback: a right PIN punches IN, then OUT; wrong PINs count down and lock, also across a restart', async () => {
    const first = await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' });
    expect(first).toMatchObject({ ok: true, value: { kind: 'punched', direction: 'in', employee: { employeeNo: 'E-7', fullName: 'Seven' } } });
    clock.elapse(30_000);
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'already' } });
    clock.elapse(4 * 3_600_000);
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'punched', direction: 'out' } });
    const punches = core.db.prepare("SELECT method, match_distance FROM punches WHERE employee_id = 7").all();
    expect(punches).toEqual([{ method: 'pin', match_distance: null }, { method: 'pin', match_distance: null }]);

    const left: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '0000' });
      if (r.ok && r.value && typeof r.value === 'object' && 'attemptsLeft' in r.value) left.push(r.value.attemptsLeft as number);
    }
    expect(left).toEqual([4, 3, 2, 1]);
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '0000' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    // Locked means locked: the right PIN too, and after the kiosk restarts.
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    await service.stop();
    core.close();
    open();
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    clock.elapse(7 * 60_000); // past the 5-minute lock
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'punched', direction: 'in' } });
    // An unknown number is answered like a wrong PIN: the screen does not reveal who exists.
    expect(await service.handle('punchWithPin', { employeeNo: 'NOBODY', pin: '1234' })).toMatchObject({ ok: true, value: { kind: 'wrong', attemptsLeft: 4 } });
  });

  it('one PIN tried against every employee number locks the whole PIN pad after 20 wrong PINs in 15 minutes', async () => {
    clock.elapse(60 * 60_000); // a fresh window, the earlier test's lock long over
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await service.handle('punchWithPin', { employeeNo: `SPRAY-${i}`, pin: '1234' });
      answers.push(r.ok && r.value && typeof r.value === 'object' && 'kind' in r.value ? String(r.value.kind) : 'error');
    }
    // Each number was tried once, so no per-number lock: only the kiosk-wide count stops the 21st.
    expect(answers).toEqual(Array(20).fill('wrong'));
    expect(await service.handle('punchWithPin', { employeeNo: 'SPRAY-20', pin: '1234' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    // Everyone's PIN pad, the right PIN included, until the lock runs out; the face punch is not affected by it.
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    clock.elapse(16 * 60_000);
    expect(await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' })).toMatchObject({ ok: true, value: { kind: 'punched' } });
  });

  it("a colleague's correct PIN does not reset the kiosk-wide count; the window running out does", async () => {
    clock.elapse(60 * 60_000);
    for (let i = 0; i < 19; i++) await service.handle('punchWithPin', { employeeNo: `SPRAY-B${i}`, pin: '1234' });
    // Right PIN (an "already" or a punch): takes back only its own count.
    const right = await service.handle('punchWithPin', { employeeNo: 'E-7', pin: '2468' });
    expect(right).toMatchObject({ ok: true, value: { kind: expect.stringMatching(/punched|already/) } });
    expect(await service.handle('punchWithPin', { employeeNo: 'SPRAY-B19', pin: '1234' })).toMatchObject({ ok: true, value: { kind: 'wrong' } });
    expect(await service.handle('punchWithPin', { employeeNo: 'SPRAY-B20', pin: '1234' })).toMatchObject({ ok: true, value: { kind: 'locked' } });
    // A new window after 15 minutes (and the 15-minute lock) starts the count afresh.
    clock.elapse(16 * 60_000);
    expect(await service.handle('punchWithPin', { employeeNo: 'SPRAY-B21', pin: '1234' })).toMatchObject({ ok: true, value: { kind: 'wrong' } });
  });

  it('admin: the PIN is set once, stored only as a hash; a session token gates settings and exit', async () => {
    expect(service.status().needsAdminPin).toBe(true);
    expect(await service.handle('unlockAdmin', { pin: '9999' })).toMatchObject({ ok: false, error: { code: 'ADMIN_PIN_WRONG' } });
    // Two first-run requests at once: one sets the PIN, the other is refused (it must not replace the first).
    const [set, raced] = await Promise.all([service.handle('setAdminPin', { pin: '9999' }), service.handle('setAdminPin', { pin: '1111' })]);
    expect(set.ok).toBe(true);
    expect(raced).toMatchObject({ ok: false, error: { code: 'ADMIN_PIN_WRONG' } });
    expect(readFileSync(join(dir, 'kiosk.json'), 'utf8')).not.toContain('"9999"');
    expect(await service.handle('setAdminPin', { pin: '1111' })).toMatchObject({ ok: false, error: { code: 'ADMIN_PIN_WRONG' } });
    const token = set.ok ? (set.value as { adminToken: string }).adminToken : '';

    const changed = await service.handle('updateSettings', { adminToken: token, mode: 'in', threshold: 0.5 });
    expect(changed).toMatchObject({ ok: true, value: { mode: 'in', threshold: 0.5 } });
    expect(JSON.parse(readFileSync(join(dir, 'kiosk.json'), 'utf8')).policy).toEqual({ mode: 'in', threshold: 0.5 });
    // Central moved: the kiosk keeps its login and database, only the host changes; the status never shows the password.
    const moved = await service.handle('updateSettings', { adminToken: token, centralHost: 'central.example:6543' });
    expect(moved).toMatchObject({ ok: true, value: { centralHost: 'central.example:6543' } });
    expect(JSON.parse(readFileSync(join(dir, 'kiosk.json'), 'utf8')).url).toBe('postgres://nobody:secret@central.example:6543/none');
    expect(JSON.stringify(moved)).not.toContain('secret');
    expect(await service.handle('updateSettings', { adminToken: token, centralHost: 'evil/path?x' })).toMatchObject({ ok: false, error: { code: 'BRIDGE_INVALID' } });
    expect(await service.handle('updateSettings', { adminToken: 'x'.repeat(32), mode: 'out' })).toMatchObject({
      ok: false,
      error: { code: 'ADMIN_LOCKED' },
    });
    expect(exits).toBe(0);
    expect(await service.handle('exitKiosk', { adminToken: 'y'.repeat(32) })).toMatchObject({ ok: false });
    expect(exits).toBe(0);
    expect(await service.handle('exitKiosk', { adminToken: token })).toEqual({ ok: true, value: null });
    expect(exits).toBe(1);
    await service.handle('lockAdmin', { adminToken: token });
    expect(await service.handle('syncNow', { adminToken: token })).toMatchObject({ ok: false, error: { code: 'ADMIN_LOCKED' } });
  });

  it('admin PIN brute force is locked out; enrolment without central says that central is needed', async () => {
    // The screen says these in its own language: the numbers come with the code, not only inside an English message.
    for (let i = 0; i < 4; i++) {
      expect(await service.handle('unlockAdmin', { pin: '0000' })).toMatchObject({ ok: false, error: { code: 'ADMIN_PIN_WRONG', attemptsLeft: 4 - i } });
    }
    expect(await service.handle('unlockAdmin', { pin: '0000' })).toMatchObject({ ok: false, error: { code: 'ADMIN_LOCKED', until: expect.any(String) } });
    expect(await service.handle('unlockAdmin', { pin: '9999' })).toMatchObject({ ok: false, error: { code: 'ADMIN_LOCKED' } });
    clock.elapse(10 * 60_000);
    const opened = await service.handle('unlockAdmin', { pin: '9999' });
    expect(opened.ok).toBe(true);
    const token = opened.ok ? (opened.value as { adminToken: string }).adminToken : '';
    const enrol = await service.handle('enrolEmployee', {
      adminToken: token,
      employeeNo: 'NEW-1',
      fullName: 'New Person',
      descriptors: [Array(128).fill(0.05)],
    });
    expect(enrol).toMatchObject({ ok: false, error: { code: 'CENTRAL_REQUIRED' } });
  });

  it('employee numbers are typed without caring for capitals, and share one count of wrong tries', async () => {
    clock.elapse(10 * 60_000);
    const person = core.db.prepare("INSERT INTO employees (id, employee_no, full_name, site, active, pin_hash) VALUES (?, ?, ?, 'hq', 1, ?)");
    person.run(21, 'RAJ-1', 'Raj', await hashPin('135791'));
    person.run(22, 'AB-1', 'Ab upper', await hashPin('111111'));
    person.run(23, 'ab-1', 'Ab lower', await hashPin('111111'));
    expect(await service.handle('punchWithPin', { employeeNo: 'raj-1', pin: '135791' })).toMatchObject({
      ok: true,
      value: { kind: 'punched', employee: { employeeNo: 'RAJ-1' } },
    });
    // Two roster numbers differing only in case: exact spelling finds each, any other spelling names nobody.
    expect(await service.handle('punchWithPin', { employeeNo: 'ab-1', pin: '111111' })).toMatchObject({ ok: true, value: { kind: 'punched', employee: { fullName: 'Ab lower' } } });
    expect(await service.handle('punchWithPin', { employeeNo: 'Ab-1', pin: '111111' })).toMatchObject({ ok: true, value: { kind: 'wrong' } });
    // Wrong tries under different spellings count once per number.
    clock.elapse(10 * 60_000);
    const left: number[] = [];
    for (const spelling of ['raj-1', 'RAJ-1', 'Raj-1']) {
      const r = await service.handle('punchWithPin', { employeeNo: spelling, pin: '000000' });
      if (r.ok && (r.value as { kind: string }).kind === 'wrong') left.push((r.value as { attemptsLeft: number }).attemptsLeft);
    }
    expect(left).toEqual([left[0], (left[0] ?? 0) - 1, (left[0] ?? 0) - 2]);
  });
});
