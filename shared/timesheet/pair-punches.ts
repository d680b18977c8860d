/**
 * Pairing one person's punches into shifts, by exactly the rules of today's report (`summariseDays` in
 * shared/reports/attendance.ts), so the timesheet can replace it:
 * - punches in time order; at the same instant an OUT comes before an IN (back-to-back shifts: the OUT closes one
 *   shift before the IN opens the next), then by id, so the result never depends on the order punches arrive in;
 * - an IN while another is open: the earlier IN is left unpaired (`missing_out`) and the new one opens;
 * - an OUT closes the open IN if at most `maxShiftMs` after it (exactly the longest shift still pairs);
 * - an OUT with nothing open, or more than `maxShiftMs` after the open IN, is unpaired (`out_without_in`), and that
 *   IN too (`missing_out`): no hours are guessed;
 * - an IN still open at the end is unpaired.
 * Each punch's fate depends only on its neighbours, which is what keeps a correction's effect local.
 */
import type { PunchDirection } from './types.js';

/** What pairing needs of a punch. */
export interface PairablePunch {
  readonly id: string;
  readonly direction: PunchDirection;
  /** Epoch milliseconds. */
  readonly atMs: number;
}

/** A shift (both ends), or an IN or OUT left alone. At least one end is set. */
export type PunchPair<P extends PairablePunch> = { in: P; out: P | null } | { in: null; out: P };

/** Time order, OUT before IN at the same instant, then id: the order pairing reads punches in. */
export function comparePunches(a: PairablePunch, b: PairablePunch): number {
  return (
    a.atMs - b.atMs ||
    (a.direction === b.direction ? 0 : a.direction === 'out' ? -1 : 1) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** A sorted copy of one person's punches (the input is left as it is). */
export function sortPunches<P extends PairablePunch>(punches: readonly P[]): P[] {
  return [...punches].sort(comparePunches);
}

/**
 * Pairs one person's punches, already in `comparePunches` order. Returns the pairs and lone punches in time order;
 * every punch appears in exactly one of them.
 */
export function pairSortedPunches<P extends PairablePunch>(sorted: readonly P[], maxShiftMs: number): PunchPair<P>[] {
  const pairs: PunchPair<P>[] = [];
  let open: P | null = null;
  for (const punch of sorted) {
    if (punch.direction === 'in') {
      if (open) pairs.push({ in: open, out: null });
      open = punch;
    } else if (open && punch.atMs - open.atMs <= maxShiftMs) {
      pairs.push({ in: open, out: punch });
      open = null;
    } else {
      if (open) pairs.push({ in: open, out: null });
      open = null;
      pairs.push({ in: null, out: punch });
    }
  }
  if (open) pairs.push({ in: open, out: null });
  return pairs;
}

/** When a pair's shift began: its IN, or for a lone OUT the OUT. The shift counts on this instant's local day. */
export function pairStartMs(pair: PunchPair<PairablePunch>): number {
  return pair.in !== null ? pair.in.atMs : pair.out.atMs;
}
