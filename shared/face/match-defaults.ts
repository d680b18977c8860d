/**
 * Default decision rule for 1:N face matching with faceapi-resnet128@1 (Euclidean distance). Chosen from
 * `clockface eval-faces` on ../shared/faces (README, "Face engine: accuracy"): every impostor pair there is farther
 * than 0.596, so 0.55 leaves a safety gap, while a person enrolled with several photos is still found.
 */
export const DEFAULT_MATCH_THRESHOLD = 0.55;

/**
 * The best person must be at least this much closer than the second-best person: two similar-looking colleagues
 * both under the threshold is "not sure", never a punch for the nearer one.
 */
export const DEFAULT_MATCH_MARGIN = 0.06;
