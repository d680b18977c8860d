/** Offsets smaller than this are a round trip's noise, not a clock to fix. */
export const CLOCK_IN_STEP_MS = 2_000;

/**
 * A kiosk clock's offset from central's (ms, positive = kiosk ahead), for people: "in step", "5 s ahead",
 * "1 h 30 min behind", "2 d 3 h ahead". Shown by `clockface kiosk list` and the kiosk's diagnostics.
 */
export function describeClockOffset(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) return 'unknown';
  const size = Math.abs(offsetMs);
  if (size < CLOCK_IN_STEP_MS) return 'in step';
  const seconds = Math.round(size / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's'],
  ];
  // The two largest units that are not zero are enough to act on; the rest is noise at that size.
  const first = parts.findIndex(([n]) => n > 0);
  const shown = parts.slice(first, first + 2).filter(([n]) => n > 0);
  return `${shown.map(([n, unit]) => `${n} ${unit}`).join(' ')} ${offsetMs > 0 ? 'ahead' : 'behind'}`;
}
