/**
 * Which days count as corrected, and which days a correction shows on. Both compare two pairings of one person's
 * punches: the raw punches alone (what the kiosks saw; today's report) and the effective punches (after the
 * approved corrections).
 */
import type { LedgerPunch } from './apply-corrections.js';
import { comparePunches, pairStartMs, type PairablePunch, type PunchPair } from './pair-punches.js';
import type { PunchCorrection } from './types.js';

/** One pairing of a person's punches, indexed for the questions below. */
export interface IndexedPairing<P extends PairablePunch> {
  /** The punches in pairing order (`comparePunches`). */
  readonly sorted: readonly P[];
  readonly pairs: readonly PunchPair<P>[];
  /** The calendar day index of each pair (-1: outside the calendar). */
  readonly pairDays: readonly number[];
}

/** The calendar day index of each pair: the day its shift began. */
export function dayOfEachPair<P extends PairablePunch>(pairs: readonly PunchPair<P>[], dayAt: (atMs: number) => number): number[] {
  return pairs.map((pair) => dayAt(pairStartMs(pair)));
}

/** A signature of each day's shifts (which punches, at what times, paired how), for comparing two pairings. */
function daySignatures(pairing: IndexedPairing<PairablePunch>, dayCount: number): string[] {
  const signatures = new Array<string>(dayCount).fill('');
  const end = (punch: PairablePunch | null) => (punch ? `${punch.id}@${punch.atMs}` : '-');
  pairing.pairs.forEach((pair, index) => {
    const day = pairing.pairDays[index] ?? -1;
    if (day >= 0 && day < dayCount) signatures[day] += `${end(pair.in)}>${end(pair.out)};`;
  });
  return signatures;
}

/**
 * The days (calendar indices) whose shifts differ between the raw and the effective pairing. A net effect, not a
 * record of activity: a punch added and then voided corrects nothing, and voiding a stray IN that kept the
 * previous evening's IN from pairing with this morning's OUT corrects the evening's day too.
 */
export function correctedDays(raw: IndexedPairing<PairablePunch>, effective: IndexedPairing<PairablePunch>, dayCount: number): boolean[] {
  const before = daySignatures(raw, dayCount);
  const after = daySignatures(effective, dayCount);
  return before.map((signature, day) => signature !== after[day]);
}

/** A pairing with, for each punch, its day. */
class PlacedPairing {
  private readonly dayOfPunch = new Map<string, number>();

  constructor(readonly pairing: IndexedPairing<PairablePunch>) {
    pairing.pairs.forEach((pair, index) => {
      const day = pairing.pairDays[index] ?? -1;
      if (pair.in) this.dayOfPunch.set(pair.in.id, day);
      if (pair.out) this.dayOfPunch.set(pair.out.id, day);
    });
  }

  dayOf(punchId: string): number | undefined {
    return this.dayOfPunch.get(punchId);
  }

  /** The punches just before and just after where `punch` would stand at `atMs`, the punch itself left out. */
  neighboursAt(punch: PairablePunch, atMs: number): PairablePunch[] {
    const { sorted } = this.pairing;
    const probe = { id: punch.id, direction: punch.direction, atMs };
    let low = 0;
    let high = sorted.length; // the first index whose punch comes after the probe
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comparePunches(sorted[middle] ?? probe, probe) <= 0) low = middle + 1;
      else high = middle;
    }
    const neighbours: PairablePunch[] = [];
    for (let i = low - 1; i >= 0; i -= 1) {
      const before = sorted[i];
      if (before && before.id !== punch.id) {
        neighbours.push(before);
        break;
      }
    }
    for (let i = low; i < sorted.length; i += 1) {
      const after = sorted[i];
      if (after && after.id !== punch.id) {
        neighbours.push(after);
        break;
      }
    }
    return neighbours;
  }
}

/** What `correctionDays` needs to know about the corrections and the two pairings. */
export interface CorrectionPlacement {
  /** Every punch by id, voided ones included. */
  ledger: ReadonlyMap<string, LedgerPunch>;
  /** For each applied correction, the times its punch had just before and after it. */
  appliedAt: ReadonlyMap<string, readonly number[]>;
  raw: IndexedPairing<PairablePunch>;
  effective: IndexedPairing<PairablePunch>;
  /** `correctedDays(raw, effective)`. */
  corrected: readonly boolean[];
  /** The calendar index of an instant's local day (-1: outside). */
  dayAt: (atMs: number) => number;
  maxShiftMs: number;
}

/**
 * For each correction of one person (in the order given), the calendar days it shows on:
 * - the day its punch was recorded on (raw pairing) and the day it counts on now: a voided night-shift OUT shows on
 *   the night's day, not on the morning's date. A punch in neither (an added punch voided since) shows on the date
 *   of its last time;
 * - for a correction that applied, the corrected days of the punches next to where it took its punch from or to,
 *   in either pairing, if within the longest shift of that time. A punch's pairing depends only on its neighbours,
 *   and not even on them beyond the longest shift, so these are the only other days a correction can change; a
 *   corrected day thereby shows a correction that explains it;
 * - for one that did not apply (pending, rejected, or unable to), the date of the time it proposes.
 */
export function correctionDays(corrections: readonly PunchCorrection[], placement: CorrectionPlacement): Set<number>[] {
  const raw = new PlacedPairing(placement.raw);
  const effective = new PlacedPairing(placement.effective);
  const { corrected, dayAt, ledger, maxShiftMs } = placement;

  return corrections.map((correction) => {
    const punchId = correction.kind === 'add' ? correction.id : correction.punchId;
    const punch = ledger.get(punchId);
    const days = new Set<number>();
    for (const day of [raw.dayOf(punchId), effective.dayOf(punchId)]) if (day !== undefined) days.add(day);
    if (days.size === 0) {
      const lastTime = punch?.atMs ?? (correction.kind === 'add' ? correction.at.getTime() : undefined);
      if (lastTime !== undefined) days.add(dayAt(lastTime));
    }
    const actedAt = placement.appliedAt.get(correction.id);
    if (actedAt && punch) {
      for (const atMs of actedAt) {
        for (const pairing of [raw, effective]) {
          for (const neighbour of pairing.neighboursAt(punch, atMs)) {
            if (Math.abs(neighbour.atMs - atMs) > maxShiftMs) continue;
            const day = pairing.dayOf(neighbour.id);
            if (day !== undefined && corrected[day] === true) days.add(day);
          }
        }
      }
    } else if (correction.kind !== 'void') {
      days.add(dayAt(correction.at.getTime()));
    }
    days.delete(-1);
    return days;
  });
}
