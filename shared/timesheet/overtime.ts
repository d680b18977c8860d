/**
 * Splitting rounded minutes into regular time and overtime. Daily overtime comes first (a long day is overtime
 * whatever the week); weekly overtime is then taken from what is still regular, starting on the day the week's
 * regular minutes pass the threshold. So `regular + daily + weekly === rounded` on every day, by construction.
 */

/** One day's split before the week is looked at. */
export interface DailySplit {
  regularMinutes: number;
  dailyOvertimeMinutes: number;
}

/** Rounded minutes beyond `afterMinutes` are daily overtime (none when `afterMinutes` is null). */
export function splitDailyOvertime(roundedMinutes: number, afterMinutes: number | null): DailySplit {
  const dailyOvertimeMinutes = afterMinutes === null ? 0 : Math.max(0, roundedMinutes - afterMinutes);
  return { regularMinutes: roundedMinutes - dailyOvertimeMinutes, dailyOvertimeMinutes };
}

/**
 * Weekly overtime per day of one week: the regular minutes (after daily overtime) beyond `afterMinutes`, counted in
 * day order, so the day that crosses the threshold gets the part beyond it and every later day all of its regular
 * minutes. Returns one number per day given; subtract each from that day's regular minutes.
 *
 * @param regularMinutesByDay the week's days in order, each day's regular minutes after daily overtime
 */
export function weeklyOvertimeByDay(regularMinutesByDay: readonly number[], afterMinutes: number | null): number[] {
  if (afterMinutes === null) return regularMinutesByDay.map(() => 0);
  let allowance = afterMinutes;
  return regularMinutesByDay.map((regular) => {
    const overtime = Math.max(0, regular - allowance);
    allowance = Math.max(0, allowance - regular);
    return overtime;
  });
}
