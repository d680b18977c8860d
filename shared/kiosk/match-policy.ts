import { DEFAULT_MATCH_MARGIN, DEFAULT_MATCH_THRESHOLD, SINGLE_FRAME_MAX_DISTANCE, SINGLE_FRAME_MIN_MARGIN } from '../face/match-defaults.js';

/**
 * The kiosk's decision rules, pure so that they are unit- and property-tested and identical wherever they run.
 *
 * Frame → person: the nearest templates are grouped by employee (an employee's distance is that of their closest
 * template); a frame names a candidate only when the best employee is under the threshold AND clearly closer than
 * the second-best employee (the margin). Frames → decision: one frame when it is unambiguous (well inside the
 * threshold, far from the next person: `singleFrame`), otherwise N of the last M frames must name the same employee.
 * Decision → punch: a repeat within the debounce window is "already clocked in at 09:01", not a second punch; the
 * direction follows the employee's last punch (or the kiosk's fixed mode), and an IN left open longer than a shift
 * makes the next punch an IN again.
 */
export interface MatchPolicyConfig {
  threshold: number;
  margin: number;
  /** N: frames that must agree … */
  framesRequired: number;
  /** … among the last M frames. */
  frameWindow: number;
  /**
   * A frame this clear decides alone (null: always N of M). Only ever decides sooner, never otherwise: a frame that
   * passes is a candidate for the N-of-M rule too, and that rule would name the same person on the next such frame
   * (property-tested in match-policy.test.ts).
   */
  singleFrame: { maxDistance: number; minMargin: number } | null;
  debounceSeconds: number;
  /**
   * A face punch the other way within this long after the last one asks first ("Clock OUT? You clocked IN 2 minutes
   * ago"): someone back at the kiosk minutes after clocking in has more likely forgotten than finished a shift.
   */
  confirmOppositeSeconds: number;
  maxShiftHours: number;
  mode: 'auto' | 'in' | 'out';
}

export const DEFAULT_MATCH_POLICY: MatchPolicyConfig = {
  threshold: DEFAULT_MATCH_THRESHOLD,
  margin: DEFAULT_MATCH_MARGIN,
  framesRequired: 2,
  frameWindow: 3,
  singleFrame: { maxDistance: SINGLE_FRAME_MAX_DISTANCE, minMargin: SINGLE_FRAME_MIN_MARGIN },
  debounceSeconds: 60,
  confirmOppositeSeconds: 600,
  maxShiftHours: 16,
  mode: 'auto',
};

/** A k-NN hit: whose template, how far. The id is the kiosk's employee id, or an employee number on central. */
export interface TemplateHit<Id = number> {
  employeeId: Id;
  distance: number;
}

export type FrameVerdict<Id = number> =
  | { kind: 'no-face' }
  | { kind: 'unknown'; bestDistance: number | null }
  | { kind: 'ambiguous'; employeeId: Id; distance: number; runnerUpId: Id; runnerUpDistance: number }
  /** `runnerUpDistance`: the nearest other person, null when the hits name nobody else. */
  | { kind: 'candidate'; employeeId: Id; distance: number; runnerUpDistance: number | null };

/** One frame's k-NN hits → who, if anyone, it shows. */
export function judgeFrame<Id = number>(
  hits: readonly TemplateHit<Id>[],
  config: Pick<MatchPolicyConfig, 'threshold' | 'margin'>,
): FrameVerdict<Id> {
  const best = new Map<Id, number>();
  for (const h of hits) {
    if (!Number.isFinite(h.distance)) continue;
    const seen = best.get(h.employeeId);
    if (seen === undefined || h.distance < seen) best.set(h.employeeId, h.distance);
  }
  const ranked = [...best.entries()].sort((a, b) => a[1] - b[1]);
  const [first, second] = ranked;
  if (!first) return { kind: 'unknown', bestDistance: null };
  if (first[1] > config.threshold) return { kind: 'unknown', bestDistance: first[1] };
  // An exact tie is ambiguous even with a margin of 0: otherwise whichever person the index happened to list first
  // would get the punch (found by the property tests in test/faults/properties-match.test.ts).
  if (second && (second[1] - first[1] < config.margin || second[1] === first[1])) {
    return { kind: 'ambiguous', employeeId: first[0], distance: first[1], runnerUpId: second[0], runnerUpDistance: second[1] };
  }
  return { kind: 'candidate', employeeId: first[0], distance: first[1], runnerUpDistance: second ? second[1] : null };
}

export type VoteResult =
  | { kind: 'confirmed'; employeeId: number; distance: number }
  | { kind: 'pending'; agreeing: number; needed: number }
  | { kind: 'none' };

/**
 * N-of-M agreement over consecutive frames. Confirming clears the history, so one look produces one decision;
 * `reset()` when the face leaves the camera.
 */
export class FrameVoter {
  private readonly recent: FrameVerdict[] = [];

  constructor(private readonly config: Pick<MatchPolicyConfig, 'framesRequired' | 'frameWindow'> & Partial<Pick<MatchPolicyConfig, 'singleFrame'>>) {
    if (config.framesRequired < 1 || config.framesRequired > config.frameWindow) {
      throw new Error('framesRequired must be between 1 and frameWindow');
    }
  }

  push(verdict: FrameVerdict): VoteResult {
    this.recent.push(verdict);
    while (this.recent.length > this.config.frameWindow) this.recent.shift();
    if (verdict.kind !== 'candidate') return this.recent.some((v) => v.kind === 'candidate') ? this.pending() : { kind: 'none' };
    const single = this.config.singleFrame;
    const margin = verdict.runnerUpDistance === null ? Number.POSITIVE_INFINITY : verdict.runnerUpDistance - verdict.distance;
    if (single && verdict.distance <= single.maxDistance && margin >= single.minMargin) {
      this.reset();
      return { kind: 'confirmed', employeeId: verdict.employeeId, distance: verdict.distance };
    }
    const agreeing = this.recent.filter((v) => v.kind === 'candidate' && v.employeeId === verdict.employeeId);
    if (agreeing.length >= this.config.framesRequired) {
      const distance = Math.min(...agreeing.map((v) => (v.kind === 'candidate' ? v.distance : Number.POSITIVE_INFINITY)));
      this.reset();
      return { kind: 'confirmed', employeeId: verdict.employeeId, distance };
    }
    return { kind: 'pending', agreeing: agreeing.length, needed: this.config.framesRequired };
  }

  private pending(): VoteResult {
    const counts = new Map<number, number>();
    for (const v of this.recent) if (v.kind === 'candidate') counts.set(v.employeeId, (counts.get(v.employeeId) ?? 0) + 1);
    return { kind: 'pending', agreeing: Math.max(0, ...counts.values()), needed: this.config.framesRequired };
  }

  reset(): void {
    this.recent.length = 0;
  }
}

export interface LastPunch {
  direction: 'in' | 'out';
  at: Date;
}

export type PunchDecision =
  | { action: 'punch'; direction: 'in' | 'out' }
  | { action: 'already'; direction: 'in' | 'out'; at: Date }
  /** The opposite of a punch made moments ago: the person confirms first (see confirmOppositeSeconds). */
  | { action: 'confirm'; direction: 'in' | 'out'; lastDirection: 'in' | 'out'; lastAt: Date };

/**
 * What a confirmed recognition does. `last` is the employee's latest punch known to this kiosk: its own, or the
 * central one it synced, whichever is later.
 */
export function decidePunch(
  last: LastPunch | null,
  now: Date,
  config: Pick<MatchPolicyConfig, 'debounceSeconds' | 'maxShiftHours' | 'mode'> & Partial<Pick<MatchPolicyConfig, 'confirmOppositeSeconds'>>,
): PunchDecision {
  const sinceLastMs = last ? now.getTime() - last.at.getTime() : Number.POSITIVE_INFINITY;
  if (last && sinceLastMs < config.debounceSeconds * 1000 && now >= last.at) {
    return { action: 'already', direction: last.direction, at: last.at };
  }
  if (config.mode !== 'auto') return { action: 'punch', direction: config.mode };
  if (!last || last.direction === 'out') return { action: 'punch', direction: 'in' };
  // An IN left open longer than a shift was a forgotten clock-out: this person is arriving, not leaving.
  const openHours = sinceLastMs / 3_600_000;
  const direction = openHours > config.maxShiftHours ? 'in' : 'out';
  // Only an OUT minutes after an IN is asked about: an IN after an OUT is someone coming back, never a mistake
  // that costs pay. A wall clock set back before the last punch (gap unknown) punches as before: never held back.
  const confirmMs = (config.confirmOppositeSeconds ?? 0) * 1000;
  if (direction === 'out' && sinceLastMs >= 0 && sinceLastMs < confirmMs) return { action: 'confirm', direction, lastDirection: last.direction, lastAt: last.at };
  return { action: 'punch', direction };
}
