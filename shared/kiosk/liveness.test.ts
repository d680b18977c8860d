import { describe, expect, it } from 'vitest';
import { DEFAULT_LIVENESS, LivenessChallenge } from './liveness.js';

describe('LivenessChallenge (turn your head)', () => {
  const t0 = new Date('2026-03-02T08:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);

  it('passes only on a turn of the asked side beyond the minimum yaw', () => {
    const left = new LivenessChallenge(7, 'left', t0);
    expect(left.onFrame({ employeeId: 7, yaw: 0, sameFace: true }, at(1))).toEqual({ kind: 'waiting', direction: 'left' });
    expect(left.onFrame({ employeeId: 7, yaw: -25, sameFace: true }, at(1))).toEqual({ kind: 'waiting', direction: 'left' }); // wrong side
    expect(left.onFrame({ employeeId: 7, yaw: DEFAULT_LIVENESS.minYaw - 0.5, sameFace: true }, at(2))).toEqual({ kind: 'waiting', direction: 'left' });
    // A turned face that is not the recognised one (a photo held up, then the holder's own head) does not pass.
    expect(left.onFrame({ employeeId: null, yaw: DEFAULT_LIVENESS.minYaw + 1, sameFace: false }, at(2))).toEqual({ kind: 'waiting', direction: 'left' });
    expect(left.onFrame({ employeeId: null, yaw: DEFAULT_LIVENESS.minYaw + 1, sameFace: true }, at(2))).toEqual({ kind: 'passed' });
    const right = new LivenessChallenge(7, 'right', t0);
    expect(right.onFrame({ employeeId: 7, yaw: 20, sameFace: true }, at(1))).toEqual({ kind: 'waiting', direction: 'right' });
    expect(right.onFrame({ employeeId: 7, yaw: -20, sameFace: true }, at(1))).toEqual({ kind: 'passed' });
  });

  it('fails when time runs out or another person appears', () => {
    const c = new LivenessChallenge(7, 'left', t0);
    expect(c.onFrame({ employeeId: 7, yaw: 30, sameFace: true }, at(DEFAULT_LIVENESS.timeoutSeconds + 0.1))).toEqual({ kind: 'failed', reason: 'timeout' });
    expect(c.onFrame({ employeeId: 8, yaw: 30, sameFace: true }, at(1))).toEqual({ kind: 'failed', reason: 'someone-else' });
    expect(c.onFrame({ employeeId: null, yaw: null, sameFace: true }, at(1))).toEqual({ kind: 'waiting', direction: 'left' });
  });

  it('picks the side at random', () => {
    expect(LivenessChallenge.start(1, t0, () => 0.1).direction).toBe('left');
    expect(LivenessChallenge.start(1, t0, () => 0.9).direction).toBe('right');
  });
});
