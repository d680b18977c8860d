/**
 * Raw punches + append-only corrections → the punches that count. Nothing given is changed: the engine builds its
 * own records (`LedgerPunch`), so the kiosk's punches stay the evidence and every correction stays reviewable.
 *
 * Only approved corrections apply, one after another in the order given (their creation order): a move of a punch
 * that an add created refers to it by the add's id, and works only if the add came first. An approved correction
 * that cannot apply is reported (`UnappliedCorrection`), never dropped silently.
 */
import { TimesheetInputError } from './input-error.js';
import type { PairablePunch } from './pair-punches.js';
import type { PunchCorrection, PunchDirection, PunchMethod, RawPunch, UnappliedCorrection } from './types.js';

/** A punch inside the engine: raw or added, with its current time and whether a correction voided it. */
export interface LedgerPunch extends PairablePunch {
  readonly employeeId: number;
  readonly direction: PunchDirection;
  /** Epoch milliseconds, after the moves applied so far. */
  atMs: number;
  readonly source: 'raw' | 'added';
  /** The time before the first move; null while never moved. */
  originalAtMs: number | null;
  voided: boolean;
  /** The approved corrections applied to it, in order. */
  readonly correctionIds: string[];
  readonly method: PunchMethod | null;
  readonly matchDistance: number | null;
  readonly kioskId: number | null;
}

/** The outcome of applying the corrections. */
export interface CorrectedPunches {
  /** Every punch by id: the raw ones and those approved adds created, voided ones included (marked). */
  readonly ledger: ReadonlyMap<string, LedgerPunch>;
  /**
   * For each correction that applied, by id, the times its punch had just before and just after it: an add's time,
   * a move's from and to, a void's last time. Where a correction acted, for showing it on the right days.
   */
  readonly appliedAt: ReadonlyMap<string, readonly number[]>;
  /** People whose punches an applied correction changed (only theirs need comparing with the raw punches). */
  readonly correctedEmployees: ReadonlySet<number>;
  /** Approved corrections that could not apply. */
  readonly unapplied: readonly UnappliedCorrection[];
}

/** Applies the approved corrections, in order, to a ledger of the raw punches. */
export function applyCorrections(punches: readonly RawPunch[], corrections: readonly PunchCorrection[]): CorrectedPunches {
  const ledger = new Map<string, LedgerPunch>();
  for (const punch of punches) {
    const atMs = punch.at.getTime();
    if (!Number.isFinite(atMs)) throw new TimesheetInputError(`punch ${punch.id} has an invalid time`);
    if (ledger.has(punch.id)) throw new TimesheetInputError(`two punches have the id ${punch.id}`);
    ledger.set(punch.id, {
      id: punch.id,
      employeeId: punch.employeeId,
      direction: punch.direction,
      atMs,
      source: 'raw',
      originalAtMs: null,
      voided: false,
      correctionIds: [],
      method: punch.method,
      matchDistance: punch.matchDistance,
      kioskId: punch.kioskId,
    });
  }

  const appliedAt = new Map<string, number[]>();
  const correctedEmployees = new Set<number>();
  const unapplied: UnappliedCorrection[] = [];
  for (const correction of corrections) {
    if ('at' in correction && !Number.isFinite(correction.at.getTime())) {
      throw new TimesheetInputError(`correction ${correction.id} has an invalid time`);
    }
    if (correction.status !== 'approved') continue;
    if (correction.kind === 'add') {
      if (ledger.has(correction.id)) {
        unapplied.push({ correction, reason: 'id_taken' });
        continue;
      }
      ledger.set(correction.id, {
        id: correction.id,
        employeeId: correction.employeeId,
        direction: correction.direction,
        atMs: correction.at.getTime(),
        source: 'added',
        originalAtMs: null,
        voided: false,
        correctionIds: [correction.id],
        method: null,
        matchDistance: null,
        kioskId: null,
      });
      appliedAt.set(correction.id, [correction.at.getTime()]);
      correctedEmployees.add(correction.employeeId);
      continue;
    }
    const target = ledger.get(correction.punchId);
    if (!target) {
      unapplied.push({ correction, reason: 'unknown_punch' });
      continue;
    }
    if (target.voided) {
      unapplied.push({ correction, reason: 'punch_voided' });
      continue;
    }
    if (correction.kind === 'move') {
      appliedAt.set(correction.id, [target.atMs, correction.at.getTime()]);
      target.originalAtMs ??= target.atMs;
      target.atMs = correction.at.getTime();
    } else {
      appliedAt.set(correction.id, [target.atMs]);
      target.voided = true;
    }
    target.correctionIds.push(correction.id);
    correctedEmployees.add(target.employeeId);
  }
  return { ledger, appliedAt, correctedEmployees, unapplied };
}
