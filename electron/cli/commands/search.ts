import { Command, InvalidArgumentError, Option } from 'commander';
import { ClockfaceError } from '../../../shared/errors.js';
import { DEFAULT_MATCH_MARGIN, DEFAULT_MATCH_THRESHOLD } from '../../../shared/face/match-defaults.js';
import { judgeFrame, type FrameVerdict } from '../../../shared/kiosk/match-policy.js';
import { decodeImage } from '../../face/decode-image.js';
import { nodeFaceEngine } from '../../face/node-face-engine.js';
import { nearestPeople, type NearPerson } from '../../central/face-search.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { printJson, printLine } from '../output.js';

function parseK(value: string): number {
  const k = Number(value);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new InvalidArgumentError('expected a whole number from 1 to 100');
  return k;
}

export interface SearchDecision {
  match: string | null;
  verdict: FrameVerdict<string>['kind'];
  threshold: number;
  margin: number;
}

/** One person in the answer of `clockface search --json`. */
export type Neighbour = Omit<NearPerson, 'employeeId'>;

/**
 * The kiosk's own rule (shared/kiosk/match-policy.ts) applied to central's answer: active people only, the nearest
 * within the threshold and clearly nearer than the next, as a kiosk would decide.
 */
export function decide(neighbours: readonly Neighbour[]): SearchDecision {
  const config = { threshold: DEFAULT_MATCH_THRESHOLD, margin: DEFAULT_MATCH_MARGIN };
  const active = neighbours.filter((n) => n.active);
  const verdict = judgeFrame(active.map((n) => ({ employeeId: n.employeeNo, distance: n.distance })), config);
  return { match: verdict.kind === 'candidate' ? verdict.employeeId : null, verdict: verdict.kind, ...config };
}

export function searchCommand(): Command {
  return withCentralOption(
    new Command('search')
      .description('1:N search of central (hnsw index): the employees whose enrolled faces are nearest to a photo')
      .argument('<photo>', 'a photo with a face (the largest face is searched)')
      .addOption(new Option('--k <n>', 'how many employees to list').default(5).argParser(parseK))
      .option('--include-inactive', 'list deactivated employees too (marked); the decision still counts active people only')
      .option('--json', 'print machine-readable JSON'),
  ).action(async (photo: string, options: CentralOptions & { k: number; includeInactive?: boolean; json?: boolean }) => {
    const engine = await nodeFaceEngine();
    const analysis = await engine.analyze(await decodeImage(photo), { detector: 'ssd', padding: 'auto', purpose: 'kiosk' });
    if (analysis.face === null) throw new ClockfaceError('INVALID_ARGUMENT', `no face found in ${photo}`);
    const descriptor = analysis.face.descriptor.values;
    await withCentral(options, async (client) => {
      // The same search as the kiosk's central fallback (electron/central/face-search.ts), over every site.
      const found = await nearestPeople(client, descriptor, options.k, { includeInactive: options.includeInactive ?? false });
      const neighbours: Neighbour[] = found.map(({ employeeId: _id, ...rest }) => rest);
      const decision = decide(neighbours);
      if (options.json) {
        printJson({ photo, quality: analysis.ok ? [] : analysis.issues, neighbours, decision });
        return;
      }
      for (const [i, n] of neighbours.entries()) {
        printLine(`${i + 1}. ${n.employeeNo}  ${n.fullName}  distance ${n.distance.toFixed(3)}${n.active ? '' : '  (inactive)'}`);
      }
      printLine(
        decision.match
          ? `decision: ${decision.match} (within ${decision.threshold}, margin ≥ ${decision.margin})`
          : `decision: no match (${decision.verdict}; threshold ${decision.threshold}, margin ${decision.margin})`,
      );
    });
  });
}
