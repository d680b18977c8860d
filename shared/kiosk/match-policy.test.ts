import { describe, expect, it } from 'vitest';
import { decidePunch, DEFAULT_MATCH_POLICY, FrameVoter, judgeFrame, type FrameVerdict } from './match-policy.js';

const cfg = DEFAULT_MATCH_POLICY; // threshold 0.55, margin 0.06, 2 of 3 frames, 60 s debounce, 16 h shifts

describe('judgeFrame', () => {
  it('groups templates by employee and takes each one\'s closest', () => {
    const verdict = judgeFrame(
      [
        { employeeId: 1, distance: 0.42 },
        { employeeId: 1, distance: 0.3 },
        { employeeId: 2, distance: 0.45 },
      ],
      cfg,
    );
    expect(verdict).toEqual({ kind: 'candidate', employeeId: 1, distance: 0.3, runnerUpDistance: 0.45 });
  });

  it('above the threshold is unknown; no hits is unknown', () => {
    expect(judgeFrame([{ employeeId: 1, distance: 0.6 }], cfg)).toEqual({ kind: 'unknown', bestDistance: 0.6 });
    expect(judgeFrame([], cfg)).toEqual({ kind: 'unknown', bestDistance: null });
  });

  it('two people both close is ambiguous, not a punch for the nearer', () => {
    const verdict = judgeFrame([{ employeeId: 1, distance: 0.4 }, { employeeId: 2, distance: 0.43 }], cfg);
    expect(verdict.kind).toBe('ambiguous');
  });

  it('the same person\'s second template does not count as a runner-up', () => {
    const verdict = judgeFrame([{ employeeId: 1, distance: 0.4 }, { employeeId: 1, distance: 0.41 }], cfg);
    expect(verdict.kind).toBe('candidate');
  });
});

describe('FrameVoter (2 of the last 3 frames)', () => {
  const c = (employeeId: number): FrameVerdict => ({ kind: 'candidate', employeeId, distance: 0.4, runnerUpDistance: 0.5 });
  const unknown: FrameVerdict = { kind: 'unknown', bestDistance: 0.7 };

  it('confirms on the second agreeing frame and then starts afresh', () => {
    const voter = new FrameVoter(cfg);
    expect(voter.push(c(7))).toEqual({ kind: 'pending', agreeing: 1, needed: 2 });
    expect(voter.push(c(7))).toMatchObject({ kind: 'confirmed', employeeId: 7 });
    expect(voter.push(c(7))).toEqual({ kind: 'pending', agreeing: 1, needed: 2 });
  });

  it('tolerates one bad frame inside the window, not two people alternating', () => {
    const voter = new FrameVoter(cfg);
    voter.push(c(7));
    voter.push(unknown);
    expect(voter.push(c(7))).toMatchObject({ kind: 'confirmed', employeeId: 7 });
    const alternating = new FrameVoter(cfg);
    expect(alternating.push(c(1)).kind).toBe('pending');
    expect(alternating.push(c(2)).kind).toBe('pending');
    expect(alternating.push(c(1)).kind).toBe('confirmed'); // 1 twice within the last 3
    const spread = new FrameVoter(cfg);
    spread.push(c(1));
    spread.push(unknown);
    spread.push(unknown);
    expect(spread.push(c(1)).kind).toBe('pending'); // the first c(1) left the window
  });

  it('one frame decides when it is unambiguous: well inside the threshold and far from the next person', () => {
    const clear = (distance: number, runnerUpDistance: number | null): FrameVerdict => ({ kind: 'candidate', employeeId: 7, distance, runnerUpDistance });
    expect(new FrameVoter(cfg).push(clear(0.4, 0.65))).toEqual({ kind: 'confirmed', employeeId: 7, distance: 0.4 });
    expect(new FrameVoter(cfg).push(clear(0.4, null))).toMatchObject({ kind: 'confirmed' }); // nobody else near at all
    // Just past either cut-off: the second frame decides, as before.
    expect(new FrameVoter(cfg).push(clear(0.46, 0.9)).kind).toBe('pending');
    expect(new FrameVoter(cfg).push(clear(0.4, 0.59)).kind).toBe('pending');
    // Without singleFrame, never on one frame.
    expect(new FrameVoter({ ...cfg, singleFrame: null }).push(clear(0.1, null)).kind).toBe('pending');
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new FrameVoter({ framesRequired: 4, frameWindow: 3 })).toThrow();
  });
});

describe('decidePunch', () => {
  const t = (iso: string) => new Date(iso);
  it('first punch is IN, then OUT, then IN', () => {
    expect(decidePunch(null, t('2026-03-02T09:00Z'), cfg)).toEqual({ action: 'punch', direction: 'in' });
    expect(decidePunch({ direction: 'in', at: t('2026-03-02T09:00Z') }, t('2026-03-02T17:00Z'), cfg)).toEqual({ action: 'punch', direction: 'out' });
    expect(decidePunch({ direction: 'out', at: t('2026-03-02T17:00Z') }, t('2026-03-03T09:00Z'), cfg)).toEqual({ action: 'punch', direction: 'in' });
  });

  it('a second look within the debounce window is "already", with the time of the first', () => {
    const last = { direction: 'in' as const, at: t('2026-03-02T09:01Z') };
    expect(decidePunch(last, t('2026-03-02T09:01:40Z'), cfg)).toEqual({ action: 'already', direction: 'in', at: last.at });
    expect(decidePunch(last, t('2026-03-02T09:02:01Z'), { ...cfg, confirmOppositeSeconds: 0 }).action).toBe('punch');
  });

  it('an IN left open longer than a shift makes the next punch an IN', () => {
    const last = { direction: 'in' as const, at: t('2026-03-02T09:00Z') };
    expect(decidePunch(last, t('2026-03-03T08:55Z'), cfg)).toEqual({ action: 'punch', direction: 'in' });
  });

  it('a fixed-mode kiosk punches its own direction', () => {
    expect(decidePunch({ direction: 'in', at: t('2026-03-02T09:00Z') }, t('2026-03-02T12:00Z'), { ...cfg, mode: 'in' })).toEqual({
      action: 'punch',
      direction: 'in',
    });
  });

  it('a kiosk clock that jumped back before the last punch does not debounce forever', () => {
    const last = { direction: 'in' as const, at: t('2026-03-02T09:00Z') };
    expect(decidePunch(last, t('2026-03-02T08:00Z'), cfg).action).toBe('punch');
  });
});

describe('decidePunch: an OUT moments after an IN is asked about', () => {
  const t = (iso: string) => new Date(iso);
  const last = { direction: 'in' as const, at: t('2026-03-02T09:00Z') };
  it('inside the window after the debounce: confirm, with the last punch to show', () => {
    expect(decidePunch(last, t('2026-03-02T09:02Z'), cfg)).toEqual({ action: 'confirm', direction: 'out', lastDirection: 'in', lastAt: last.at });
    expect(decidePunch(last, t('2026-03-02T09:09:59Z'), cfg).action).toBe('confirm');
  });
  it('after the window, an IN after an OUT, a fixed mode, or a clock set back: a punch as before', () => {
    expect(decidePunch(last, t('2026-03-02T09:10:01Z'), cfg)).toEqual({ action: 'punch', direction: 'out' });
    expect(decidePunch({ direction: 'out', at: last.at }, t('2026-03-02T09:02Z'), cfg)).toEqual({ action: 'punch', direction: 'in' });
    expect(decidePunch(last, t('2026-03-02T09:02Z'), { ...cfg, mode: 'out' })).toEqual({ action: 'punch', direction: 'out' });
    expect(decidePunch(last, t('2026-03-02T08:00Z'), cfg).action).toBe('punch');
    expect(decidePunch(last, t('2026-03-02T09:02Z'), { ...cfg, confirmOppositeSeconds: 0 }).action).toBe('punch');
  });
});
