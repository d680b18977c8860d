/**
 * Default decision rule for 1:N face matching with faceapi-resnet128@1 (Euclidean distance). Chosen from
 * `clockface eval-faces` on ../shared/faces (docs/kiosk.md, "Accuracy, threshold and margin"): every impostor pair there is farther
 * than 0.596, so 0.55 leaves a safety gap, while a person enrolled with several photos is still found.
 */
export const DEFAULT_MATCH_THRESHOLD = 0.55;

/**
 * The best person must be at least this much closer than the second-best person: two similar-looking colleagues
 * both under the threshold is "not sure", never a punch for the nearer one.
 */
export const DEFAULT_MATCH_MARGIN = 0.06;

/**
 * One frame is enough when it is unambiguous: the nearest person within SINGLE_FRAME_MAX_DISTANCE and the next person
 * at least SINGLE_FRAME_MIN_MARGIN farther; otherwise the kiosk waits for 2 of the last 3 frames. Chosen from
 * `npm run bench -- single-frame` (bench/suites/single-frame.ts, 2026-12-06): kiosk frames of every photo in
 * ../shared/faces at three face sizes against galleries of every pair of enrolment photos, with each person also left
 * out (1,272 looks). Every wrong nearest person there is at 0.590 or farther, and no wrong look has a margin above
 * 0.183: each cut-off alone refuses all of them, with room (0.14 and 0.017). 72% of right looks pass both.
 */
export const SINGLE_FRAME_MAX_DISTANCE = 0.45;
export const SINGLE_FRAME_MIN_MARGIN = 0.2;
