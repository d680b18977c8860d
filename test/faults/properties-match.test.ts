import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKiosk } from '../../electron/central/kiosk-registry.js';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { blobToDescriptor } from '../../electron/kiosk/roster-sync.js';
import { writeKioskSettings } from '../../electron/kiosk/kiosk-settings.js';
import { LivenessChallenge, type LivenessConfig } from '../../shared/kiosk/liveness.js';
import { FrameVoter, judgeFrame, type FrameVerdict, type TemplateHit, type VoteResult } from '../../shared/kiosk/match-policy.js';
import { recordTally } from '../support/fault-tally.js';
import { centralFactories, startMigrated, type TestCentral } from '../support/centrals.js';
import { gaussian, noisySample, randomCentre, seededRandom } from '../support/face-like-data.js';
import { addEmployee, addSite, addTemplate } from '../support/roster-fixtures.js';
import { TestClock } from '../support/test-clock.js';

/**
 * Property tests (fast-check) of the kiosk's match policy, shared/kiosk/match-policy.ts, and of the way the kiosk
 * core drives it (vector index → judgeFrame → N-of-M FrameVoter → punch). What the policy promises, from its own
 * comments: a frame names a person only when that person's closest template is within the threshold AND clearly
 * closer (by the margin) than any other person; a punch needs N of the last M frames to name the same person;
 * the head-turn check passes only on the asked turn, in time, with nobody else recognised.
 *
 * fast-check prints the seed and the shrunk counterexample when a property fails; rerun with that seed.
 */

const KIND = 'property: match policy (fast-check)';

/** Called after a property passed: fast-check ran every one of `numRuns` cases (no case is discarded here). */
function tally(numRuns: number, outcome: string): void {
  recordTally({ area: 'hostile', kind: KIND, count: numRuns, outcome });
}

const employeeId = fc.integer({ min: 1, max: 5 });
/** Distances from a small set too, so that exact ties (the hard case for "who is nearer") really occur. */
const distance = fc.oneof(
  fc.constantFrom(0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.9),
  fc.double({ min: 0, max: 2, noNaN: true }),
);
const oddDistance = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
const hit = fc.record({ employeeId, distance });
const hits = fc.array(fc.oneof({ weight: 9, arbitrary: hit }, { weight: 1, arbitrary: fc.record({ employeeId, distance: oddDistance }) }), {
  maxLength: 12,
});
const policy = fc.record({
  threshold: fc.oneof(fc.constantFrom(0.45, 0.55), fc.double({ min: 0.01, max: 2, noNaN: true })),
  // The settings schema allows a margin of 0 ("no ambiguity check"): generate it on purpose.
  margin: fc.oneof(fc.constant(0), fc.constantFrom(0.05, 0.06), fc.double({ min: 0, max: 1, noNaN: true })),
});

/** Each employee's closest finite distance: what the policy says a frame is judged on. */
function bestPerEmployee(list: readonly TemplateHit[]): Map<number, number> {
  const best = new Map<number, number>();
  for (const h of list) {
    if (!Number.isFinite(h.distance)) continue;
    best.set(h.employeeId, Math.min(best.get(h.employeeId) ?? Number.POSITIVE_INFINITY, h.distance));
  }
  return best;
}

function bestDistanceOf(v: FrameVerdict): number | null {
  if (v.kind === 'candidate' || v.kind === 'ambiguous') return v.distance;
  return v.kind === 'unknown' ? v.bestDistance : null;
}

function namedEmployee(v: FrameVerdict): number | null {
  return v.kind === 'candidate' ? v.employeeId : null;
}

describe('match policy: one frame (judgeFrame)', () => {
  it('names a person only within the threshold, clearly nearest, and never on a tie', () => {
    fc.assert(
      fc.property(hits, policy, (list, cfg) => {
        const verdict = judgeFrame(list, cfg);
        const best = bestPerEmployee(list);
        if (verdict.kind !== 'candidate') return;
        expect(best.get(verdict.employeeId)).toBe(verdict.distance);
        expect(verdict.distance).toBeLessThanOrEqual(cfg.threshold);
        for (const [other, d] of best) {
          if (other === verdict.employeeId) continue;
          // Someone else exactly as near is never "clearly nearer", whatever the margin (0 included).
          expect(d).toBeGreaterThan(verdict.distance);
          expect(d - verdict.distance).toBeGreaterThanOrEqual(cfg.margin);
        }
      }),
      { numRuns: 2_000 },
    );
    tally(2_000, 'judgeFrame: no person named above the threshold, within the margin, or on a tie');
  });

  it('says unknown or ambiguous for the right reason', () => {
    fc.assert(
      fc.property(hits, policy, (list, cfg) => {
        const verdict = judgeFrame(list, cfg);
        const ranked = [...bestPerEmployee(list).values()].sort((a, b) => a - b);
        if (verdict.kind === 'unknown') {
          // Nobody, or nobody within the threshold; never "unknown" when a person was clearly there.
          expect(ranked.length === 0 || (ranked[0] ?? 0) > cfg.threshold).toBe(true);
          expect(verdict.bestDistance).toBe(ranked[0] ?? null);
        }
        if (verdict.kind === 'ambiguous') {
          expect(verdict.distance).toBeLessThanOrEqual(cfg.threshold);
          expect(verdict.runnerUpId).not.toBe(verdict.employeeId);
          expect(verdict.distance).toBe(ranked[0]);
          expect(verdict.runnerUpDistance).toBe(ranked[1]);
        }
        expect(verdict.kind).not.toBe('no-face'); // a frame with a descriptor is never "no face"
      }),
      { numRuns: 2_000 },
    );
    tally(2_000, 'judgeFrame: unknown/ambiguous only for their reasons');
  });

  it('does not depend on the order of the neighbours, nor on NaN/∞ distances among them', () => {
    fc.assert(
      fc.property(hits, policy, fc.func(fc.integer()), (list, cfg, key) => {
        const verdict = judgeFrame(list, cfg);
        const shuffled = [...list].map((h, i) => ({ h, k: key(i) })).sort((a, b) => a.k - b.k).map((x) => x.h);
        const again = judgeFrame(shuffled, cfg);
        expect(again.kind).toBe(verdict.kind);
        expect(namedEmployee(again)).toBe(namedEmployee(verdict));
        expect(bestDistanceOf(again)).toBe(bestDistanceOf(verdict));
        const finite = judgeFrame(list.filter((h) => Number.isFinite(h.distance)), cfg);
        expect(finite).toEqual(verdict);
      }),
      { numRuns: 2_000 },
    );
    tally(2_000, 'judgeFrame: verdict independent of neighbour order and of NaN/infinite distances');
  });

  it('is monotonic: moving a person away, or a rival closer, never turns a refusal for them into an acceptance', () => {
    fc.assert(
      fc.property(
        hits,
        policy,
        employeeId,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
        (list, cfg, who, shifts) => {
            if (namedEmployee(judgeFrame(list, cfg)) === who) return;
          // Worse for `who`: its templates farther, everybody else's nearer (not below 0).
          const worse = list.map((h, i) => {
            const s = shifts[i] ?? 0;
            return h.employeeId === who ? { ...h, distance: h.distance + s } : { ...h, distance: Math.max(0, h.distance - s) };
          });
          expect(namedEmployee(judgeFrame(worse, cfg))).not.toBe(who);
          // A stricter policy never accepts what the looser one refused.
          const stricter = { threshold: cfg.threshold * (shifts[0] ?? 1), margin: cfg.margin + (shifts[1] ?? 0) };
          expect(namedEmployee(judgeFrame(list, stricter))).not.toBe(who);
        },
      ),
      { numRuns: 2_000 },
    );
    tally(2_000, 'judgeFrame: monotonic in distances and in threshold/margin');
  });
});

type Step = { kind: 'frame'; verdict: FrameVerdict } | { kind: 'reset' };

const verdictArb: fc.Arbitrary<FrameVerdict> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('candidate' as const),
      employeeId: fc.integer({ min: 1, max: 3 }),
      distance: fc.double({ min: 0, max: 0.55, noNaN: true }),
      runnerUpDistance: fc.option(fc.double({ min: 0, max: 1.2, noNaN: true })),
    }),
  },
  { weight: 1, arbitrary: fc.constant<FrameVerdict>({ kind: 'no-face' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown' as const), bestDistance: fc.option(fc.double({ min: 0.55, max: 2, noNaN: true })) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ambiguous' as const),
      employeeId: fc.integer({ min: 1, max: 3 }),
      distance: fc.double({ min: 0, max: 0.5, noNaN: true }),
      runnerUpId: fc.integer({ min: 1, max: 3 }),
      runnerUpDistance: fc.double({ min: 0, max: 0.55, noNaN: true }),
    }),
  },
);
const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof({ weight: 12, arbitrary: verdictArb.map((verdict): Step => ({ kind: 'frame', verdict })) }, { weight: 1, arbitrary: fc.constant<Step>({ kind: 'reset' }) }),
  { maxLength: 40 },
);
const voting = fc.integer({ min: 1, max: 6 }).chain((frameWindow) =>
  fc.record({ frameWindow: fc.constant(frameWindow), framesRequired: fc.integer({ min: 1, max: frameWindow }) }),
);

describe('match policy: N of the last M frames (FrameVoter)', () => {
  it('confirms exactly when N of the last M frames since the last decision name the person, the current one included', () => {
    fc.assert(
      fc.property(voting, steps, (cfg, script) => {
        const voter = new FrameVoter(cfg);
        /** The frames the voter may still count: since the last reset or confirmation, at most M. */
        let window: FrameVerdict[] = [];
        for (const step of script) {
          if (step.kind === 'reset') {
            voter.reset();
            window = [];
            continue;
          }
          const v = step.verdict;
          window = [...window, v].slice(-cfg.frameWindow);
          const result = voter.push(v);
          const agreeing = v.kind === 'candidate' ? window.filter((w) => w.kind === 'candidate' && w.employeeId === v.employeeId) : [];
          if (agreeing.length >= cfg.framesRequired) {
            // Nothing withheld, nobody else, and the distance is one the frames actually had.
            expect(result).toEqual({
              kind: 'confirmed',
              employeeId: v.kind === 'candidate' ? v.employeeId : -1,
              distance: Math.min(...agreeing.map((w) => (w.kind === 'candidate' ? w.distance : Number.POSITIVE_INFINITY))),
            });
            window = []; // one look, one decision
          } else {
            // Ambiguous, unknown and no-face frames never confirm anybody; a lone candidate needs its vote.
            expect(result.kind).not.toBe('confirmed');
            const anyCandidate = window.some((w) => w.kind === 'candidate');
            expect(result.kind).toBe(anyCandidate ? 'pending' : 'none');
          }
        }
      }),
      { numRuns: 1_000 },
    );
    tally(1_000, 'FrameVoter: confirms exactly on N of the last M frames');
  });

  it('a single-frame decision is only ever sooner, never otherwise: the N-of-M rule, the person held one frame longer, names the same person', () => {
    const single = fc.record({ maxDistance: fc.double({ min: 0, max: 0.6, noNaN: true }), minMargin: fc.double({ min: 0, max: 0.5, noNaN: true }) });
    fc.assert(
      fc.property(voting, single, fc.array(verdictArb, { maxLength: 30 }), (cfg, singleFrame, frames) => {
        const adaptive = new FrameVoter({ ...cfg, singleFrame });
        const plain = new FrameVoter(cfg);
        for (const [i, frame] of frames.entries()) {
          const early = adaptive.push(frame);
          const usual = plain.push(frame);
          if (early.kind !== 'confirmed') {
            // Until the adaptive rule first decides, the two have seen the same frames: the usual rule has not decided.
            expect(usual.kind).not.toBe('confirmed');
            continue;
          }
          if (usual.kind === 'confirmed') {
            expect(usual.employeeId).toBe(early.employeeId); // the same frame decided both, for the same person
            return;
          }
          // Decided on this frame alone: a candidate that passed both cut-offs …
          if (frame.kind !== 'candidate') throw new Error(`decided on a ${frame.kind} frame (frame ${i})`);
          expect(frame.distance).toBeLessThanOrEqual(singleFrame.maxDistance);
          expect((frame.runnerUpDistance ?? Number.POSITIVE_INFINITY) - frame.distance).toBeGreaterThanOrEqual(singleFrame.minMargin);
          expect(early).toEqual({ kind: 'confirmed', employeeId: frame.employeeId, distance: frame.distance });
          // … and the usual rule, shown the same frame until it decides, names the same person.
          let later: VoteResult = usual;
          for (let k = 0; k < cfg.framesRequired && later.kind !== 'confirmed'; k++) later = plain.push(frame);
          expect(later).toMatchObject({ kind: 'confirmed', employeeId: early.employeeId });
          return;
        }
      }),
      { numRuns: 2_000 },
    );
    tally(2_000, 'FrameVoter: single-frame decisions only sooner than N of M, never another person');
  });

  it('refuses N larger than M or below 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 40 }), fc.integer({ min: 1, max: 30 }), (n, m) => {
        const make = () => new FrameVoter({ framesRequired: n, frameWindow: m });
        if (n < 1 || n > m) expect(make).toThrow();
        else expect(make).not.toThrow();
      }),
      { numRuns: 300 },
    );
    tally(300, 'FrameVoter: refuses N outside 1..M');
  });
});

describe('match policy: head-turn check (LivenessChallenge)', () => {
  const frame = fc.record({
    employeeId: fc.option(fc.integer({ min: 1, max: 3 })),
    yaw: fc.option(fc.double({ min: -45, max: 45, noNaN: true })),
    sameFace: fc.boolean(),
    afterMs: fc.integer({ min: 0, max: 3_000 }),
  });

  it('passes only on a frame of the same face turned the asked way, in time, with nobody else recognised; fails for good on someone else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.record({ minYaw: fc.double({ min: 1, max: 25, noNaN: true }), timeoutSeconds: fc.integer({ min: 1, max: 10 }) }),
        fc.array(frame, { maxLength: 20 }),
        (who, coin, cfg: LivenessConfig, frames) => {
            const start = new Date('2026-03-02T09:00:00Z');
          const check = LivenessChallenge.start(who, start, () => coin, cfg);
          expect(check.direction).toBe(coin < 0.5 ? 'left' : 'right');
          let at = start.getTime();
          for (const f of frames) {
            at += f.afterMs;
            const state = check.onFrame({ employeeId: f.employeeId, yaw: f.yaw, sameFace: f.sameFace }, new Date(at));
            const late = at - start.getTime() > cfg.timeoutSeconds * 1000;
            const stranger = f.employeeId !== null && f.employeeId !== who;
            const turned =
              f.yaw !== null && (check.direction === 'left' ? f.yaw >= cfg.minYaw : f.yaw <= -cfg.minYaw);
            if (state.kind === 'passed') {
              expect(late || stranger).toBe(false);
              expect(turned && f.sameFace).toBe(true);
            }
            if (late) expect(state).toEqual({ kind: 'failed', reason: 'timeout' });
            else if (stranger) expect(state).toEqual({ kind: 'failed', reason: 'someone-else' });
            else expect(state.kind).toBe(turned && f.sameFace ? 'passed' : 'waiting');
            if (state.kind !== 'waiting') break; // the kiosk ends the check on the first pass or failure
          }
        },
      ),
      { numRuns: 1_000 },
    );
    tally(1_000, 'head-turn check: passes only on the asked turn of the same face, in time, nobody else');
  });
});

/**
 * The kiosk core end to end: a real kiosk folder synced from an (embedded) central, real SQLite and sqlite-vec,
 * frames given as descriptors. The oracle is a brute-force distance in JS over the templates the kiosk holds,
 * independent of the vector index: every punch (or "already") must be backed by N of the last M frames in which
 * that person was within the threshold and clearly nearer than everyone else, and a run of N clear frames of one
 * person must be recognised. A small tolerance absorbs float32 (index) against float64 (oracle) rounding.
 */
describe.each(centralFactories().filter((f) => f.kind === 'embedded'))('match policy in the kiosk core, against $label', (factory) => {
  const TOL = 1e-4;
  let central: TestCentral;
  let admin: pg.Client;
  let core: KioskCore;
  const dir = mkdtempSync(join(tmpdir(), 'clockface-prop-match-'));
  const people: Array<{ id: number; centre: Float32Array }> = [];
  let templates: Array<{ employeeId: number; vector: Float32Array }> = [];

  beforeAll(async () => {
    central = await startMigrated(factory);
    admin = await central.connect();
    await addSite(admin, 'hq');
    const random = seededRandom(8_808);
    // Six people; 0 and 1 look alike (centres close), so that ambiguous frames really happen.
    const centres = Array.from({ length: 6 }, () => randomCentre(0.045, random));
    centres[1] = noisySample(centres[0] ?? randomCentre(0.045, random), 0.012, random);
    for (const [i, centre] of centres.entries()) {
      const id = await addEmployee(admin, `PM-${i}`, 'hq');
      people.push({ id, centre });
      for (let t = 0; t < 3; t++) await addTemplate(admin, id, Array.from(noisySample(centre, 0.02, random)));
    }
    const kiosk = await registerKiosk(admin, central.url, { name: 'prop-match', site: 'hq' });
    // No central fallback: the verdicts must come from this kiosk's own cache, which the oracle reads.
    writeKioskSettings(dir, { ...kiosk.settings, kioskId: kiosk.id, engine: 'sqlite-vec', centralFallback: false });
    const clock = new TestClock('2026-03-02T06:00:00Z');
    core = KioskCore.open(dir, {
      clock: {
        now: () => (clock.elapse(1_000), clock.now()),
        monotonicNow: clock.monotonicNow,
      },
    });
    await core.syncRoster(10_000);
    templates = (core.db.prepare('SELECT employee_id, embedding FROM templates').all() as Array<{ employee_id: number; embedding: Buffer }>).map(
      (r) => ({ employeeId: r.employee_id, vector: blobToDescriptor(r.embedding) }),
    );
  });
  afterAll(async () => {
    core.close();
    await admin.end();
    await central.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function distances(frame: Float32Array): Map<number, number> {
    const best = new Map<number, number>();
    for (const t of templates) {
      let s = 0;
      for (let d = 0; d < frame.length; d++) s += ((frame[d] ?? 0) - (t.vector[d] ?? 0)) ** 2;
      best.set(t.employeeId, Math.min(best.get(t.employeeId) ?? Number.POSITIVE_INFINITY, Math.sqrt(s)));
    }
    return best;
  }

  /** Whom a frame names for certain (`strict`), or could name at all given rounding (`loose`). */
  function names(d: Map<number, number>, cfg: { threshold: number; margin: number }, slack: number): number | null {
    const ranked = [...d.entries()].sort((a, b) => a[1] - b[1]);
    const [first, second] = ranked;
    if (!first || first[1] > cfg.threshold + slack) return null;
    if (second && second[1] - first[1] < cfg.margin - slack) return null;
    return first[0];
  }

  const look = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('face' as const), person: fc.integer({ min: 0, max: 5 }), noise: fc.constantFrom(0, 0.005, 0.015, 0.03), seed: fc.integer() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stranger' as const), seed: fc.integer() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'no-face' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'leave' as const }) },
  );

  it('every punch is backed by N of the last M frames clearly showing that person, or by one frame past the single-frame cut-offs; clear runs are recognised', async () => {
    let punches = 0;
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          threshold: fc.constantFrom(0.35, 0.45, 0.55, 0.7),
          margin: fc.constantFrom(0, 0.03, 0.06, 0.15),
          voting,
          debounceSeconds: fc.constantFrom(0, 5, 60),
          singleFrame: fc.constantFrom(null, { maxDistance: 0.45, minMargin: 0.2 }, { maxDistance: 0.3, minMargin: 0.05 }),
        }),
        fc.array(look, { minLength: 1, maxLength: 30 }),
        async (cfg, script) => {
          const judged = { threshold: cfg.threshold, margin: cfg.margin };
          core.updatePolicy({ ...judged, ...cfg.voting, debounceSeconds: cfg.debounceSeconds, singleFrame: cfg.singleFrame });
          /** Whether one frame decides alone: within the threshold rule and both single-frame cut-offs (± slack). */
          const single = (d: Map<number, number>, slack: number): boolean => {
            if (!cfg.singleFrame || names(d, judged, slack) === null) return false;
            const [first, second] = [...d.values()].sort((a, b) => a - b);
            return (
              (first ?? Number.POSITIVE_INFINITY) <= cfg.singleFrame.maxDistance + slack &&
              (second ?? Number.POSITIVE_INFINITY) - (first ?? 0) >= cfg.singleFrame.minMargin - slack
            );
          };
          core.resetFrames();
          let window: Array<Map<number, number> | null> = [];
          for (const step of script) {
            if (step.kind === 'leave') {
              // Leaving is an empty view for a moment (the core's DEPARTURE_FRAMES), as the screen sees it.
              core.resetFrames();
              for (let i = 0; i < 3; i++) await core.processDescriptor(null, ['NO_FACE']);
              window = [];
              continue;
            }
            let descriptor: Float32Array | null = null;
            if (step.kind === 'face') {
              const random = seededRandom(step.seed);
              const centre = people[step.person]?.centre ?? new Float32Array(128);
              descriptor = step.noise === 0 ? centre : noisySample(centre, step.noise, random);
            } else if (step.kind === 'stranger') {
              const random = seededRandom(step.seed);
              descriptor = Float32Array.from({ length: 128 }, () => 0.05 * gaussian(random));
            }
            const d = descriptor ? distances(descriptor) : null;
            window = [...window, d].slice(-cfg.voting.frameWindow);
            const outcome = await core.processDescriptor(descriptor, []);
            frames++;
            const looseVotes = (id: number) => window.filter((w) => w !== null && names(w, judged, TOL) === id).length;
            if (outcome.kind === 'still-here') {
              // The person decided on last, recognised again: nothing is decided, so one frame naming them suffices.
              expect(d && names(d, judged, TOL)).toBe(outcome.employee.id);
              window = [];
              continue;
            }
            if (outcome.kind === 'punched' || outcome.kind === 'already' || outcome.kind === 'confirm') {
              const id = outcome.employee.id;
              expect(d && names(d, judged, TOL)).toBe(id);
              if (!(d && single(d, TOL))) expect(looseVotes(id)).toBeGreaterThanOrEqual(cfg.voting.framesRequired);
              if (outcome.kind === 'punched') {
                punches++;
                expect(outcome.punch.employeeId).toBe(id);
                expect(outcome.punch.matchDistance ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(cfg.threshold + TOL);
              }
              window = [];
              continue;
            }
            // Completeness: N clear frames of one person in the window, this one included, must be recognised.
            const clear = d ? names(d, judged, -TOL) : null;
            if (clear !== null) {
              expect(d && single(d, -TOL)).toBe(false);
              const strictVotes = window.filter((w) => w !== null && names(w, judged, -TOL) === clear).length;
              expect(strictVotes).toBeLessThan(cfg.voting.framesRequired);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    console.log(`kiosk-core match property: ${frames} frames, ${punches} punches, all backed by their votes`);
    expect(punches).toBeGreaterThan(0); // the property was not vacuous
    tally(300, 'kiosk core: every punch backed by N of M clear frames; clear runs recognised');
  });
});
