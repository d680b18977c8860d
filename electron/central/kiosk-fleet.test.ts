import { describe, expect, it } from 'vitest';
import { FLEET_THRESHOLDS, byAttention, kioskStatus, type KioskListing } from './kiosk-fleet.js';

/** The judgement alone, on a made-up clock (test/central/kiosk-health.test.ts has it on real centrals). */
const NOW = new Date('2026-12-07T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

function kiosk(change: Partial<KioskListing> = {}): Omit<KioskListing, 'status'> {
  return {
    name: 'door',
    site: 'a',
    roleName: 'clockface_kiosk_door_00000000',
    createdAt: ago(86_400),
    lastSeenAt: ago(10),
    appVersion: '1.0.0',
    clockOffsetMs: 0,
    revokedAt: null,
    droppedAt: null,
    pendingPunches: 0,
    refusedPunches: 0,
    facesEnrolled24h: 0,
    peopleEnrolled24h: 0,
    loginProblem: null,
    heartbeatSeconds: 30,
    oldestPendingAt: null,
    rosterSyncedAt: ago(10),
    rosterWatermark: '100',
    rosterBehindSince: null,
    templatesCached: 5,
    vectorEngine: 'sqlite-vec',
    lastUploadError: null,
    checkedAt: NOW,
    ...change,
  };
}

describe('kioskStatus', () => {
  it('is ok when nothing is wrong, and revoked (only) when off the fleet', () => {
    expect(kioskStatus(kiosk())).toEqual(['ok']);
    expect(kioskStatus(kiosk({ revokedAt: ago(5), lastSeenAt: null }))).toEqual(['revoked']);
    expect(kioskStatus(kiosk({ droppedAt: ago(5) }))).toEqual(['revoked']);
  });

  it('is offline after the missed heartbeats at the kiosk\'s own interval, never sooner than the floor', () => {
    expect(kioskStatus(kiosk({ lastSeenAt: null }))).toEqual(['offline']);
    expect(kioskStatus(kiosk({ heartbeatSeconds: 30, lastSeenAt: ago(89) }))).toEqual(['ok']);
    expect(kioskStatus(kiosk({ heartbeatSeconds: 30, lastSeenAt: ago(91), rosterSyncedAt: ago(91) }))).toEqual(['offline']);
    // A kiosk polling every 10 minutes is not offline after 2 minutes; one polling every second not after 5 s.
    expect(kioskStatus(kiosk({ heartbeatSeconds: 600, lastSeenAt: ago(1_700), rosterSyncedAt: ago(10) }))).toEqual(['ok']);
    expect(kioskStatus(kiosk({ heartbeatSeconds: 1, lastSeenAt: ago(5) }))).toEqual(['ok']);
    expect(kioskStatus(kiosk({ heartbeatSeconds: 1, lastSeenAt: ago(5) }), { ...FLEET_THRESHOLDS, offlineAtLeastS: 0 })).toEqual(['offline']);
    // An older kiosk that never said its interval: the default one.
    expect(kioskStatus(kiosk({ heartbeatSeconds: null, rosterSyncedAt: null, lastSeenAt: ago(91) }))).toEqual(['offline']);
  });

  it('is backlogged when a punch has waited too long, judged by its age on central\'s clock', () => {
    expect(kioskStatus(kiosk({ pendingPunches: 2, oldestPendingAt: ago(14 * 60) }))).toEqual(['ok']);
    expect(kioskStatus(kiosk({ pendingPunches: 2, oldestPendingAt: ago(16 * 60) }))).toEqual(['backlog']);
    // An age without a count (an older report) is not a backlog.
    expect(kioskStatus(kiosk({ pendingPunches: 0, oldestPendingAt: ago(3600) }))).toEqual(['ok']);
  });

  it('has a stale roster when its last sync, or the oldest change it has not read, is too old', () => {
    expect(kioskStatus(kiosk({ rosterSyncedAt: ago(16 * 60) }))).toEqual(['stale_roster']);
    expect(kioskStatus(kiosk({ rosterBehindSince: ago(16 * 60) }))).toEqual(['stale_roster']);
    expect(kioskStatus(kiosk({ rosterBehindSince: ago(60) }))).toEqual(['ok']);
    // Reports its health but never synced: no roster at all. An older kiosk that reports nothing: unknown, not stale.
    expect(kioskStatus(kiosk({ rosterSyncedAt: null }))).toEqual(['stale_roster']);
    expect(kioskStatus(kiosk({ heartbeatSeconds: null, rosterSyncedAt: null, rosterWatermark: null }))).toEqual(['ok']);
  });

  it('lists every problem, worst first; lists put the worst kiosks first', () => {
    const worst = kiosk({ name: 'z', lastSeenAt: ago(7200), pendingPunches: 1, oldestPendingAt: ago(7200), rosterSyncedAt: ago(7200) });
    expect(kioskStatus(worst)).toEqual(['offline', 'backlog', 'stale_roster']);
    const listed = [kiosk({ name: 'a' }), kiosk({ name: 'b', revokedAt: ago(1) }), worst, kiosk({ name: 'c', pendingPunches: 1, oldestPendingAt: ago(3600) })].map(
      (k) => ({ ...k, status: kioskStatus(k) }),
    );
    expect(listed.sort(byAttention).map((k) => k.name)).toEqual(['z', 'c', 'a', 'b']);
  });
});
