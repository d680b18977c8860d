import { Command, InvalidArgumentError, Option } from 'commander';
import { FACE_DETECTORS, type FaceDetector } from '../../../shared/face/types.js';
import { DEFAULT_MATCH_THRESHOLD } from '../../../shared/face/match-defaults.js';
import type { Distribution } from '../../../shared/stats/distribution.js';
import { evaluateFolders, evaluatePairs, type FaceEvaluation } from '../../face/eval-faces.js';
import { printJson, printLine } from '../output.js';

interface EvalCliOptions {
  pairs?: string;
  json?: boolean;
  detector: FaceDetector;
  padding: number | 'auto';
  threshold: number;
}

function parsePadding(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 3) throw new InvalidArgumentError("expected 'auto' or a fraction from 0 to 3");
  return n;
}

function parseThreshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 2) throw new InvalidArgumentError('expected a distance between 0 and 2');
  return n;
}

const f3 = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : String(n));
const pct = (n: number): string => `${(100 * n).toFixed(1)}%`;
const dist = (d: Distribution): string =>
  `n=${d.n} min ${f3(d.min)} p1 ${f3(d.p1)} p5 ${f3(d.p5)} median ${f3(d.median)} p95 ${f3(d.p95)} max ${f3(d.max)}`;

function printReport(r: FaceEvaluation): void {
  const lines = [
    `face evaluation of ${r.source} (${r.mode}, detector ${r.detector})`,
    `detection:        ${r.detected}/${r.images} images (${pct(r.detectionRate)})`,
  ];
  for (const f of r.failures) lines.push(`  not found:      ${f.image}: ${f.reason}`);
  for (const w of r.qualityWarnings) lines.push(`  below gates:    ${w.image}: ${w.issues.join(', ')}`);
  if (r.identification) {
    const id = r.identification;
    lines.push(`rank-1 (leave-one-out): ${id.rank1Correct}/${id.probes} = ${f3(id.rank1)}`);
    for (const m of id.misidentified) lines.push(`  wrong:          ${m.id} → ${m.predicted} at ${f3(m.distance)}`);
    lines.push(`margin to 2nd person:   ${dist(id.margin)}`);
  }
  const v = r.verification;
  lines.push(`genuine distances:      ${dist(v.genuine)}`, `impostor distances:     ${dist(v.impostor)}`);
  for (const op of v.operatingPoints) {
    lines.push(
      `TAR at FAR ${op.targetFar}: ${pct(op.tar)} at threshold ${f3(op.threshold)} (FAR on this set ${pct(op.far)})` +
        (op.underResolved ? ` [only ${v.impostor.n} impostor pairs: FAR not resolvable this finely]` : ''),
    );
  }
  lines.push(
    `at threshold ${f3(v.atThreshold.threshold)}: TAR ${pct(v.atThreshold.tar)}, FAR ${pct(v.atThreshold.far)}`,
    `latency per image:      median ${r.latencyMs.median.toFixed(0)} ms, p95 ${r.latencyMs.p95.toFixed(0)} ms`,
  );
  if (r.pairsSkipped > 0) lines.push(`pairs skipped (a face not found): ${r.pairsSkipped}`);
  printLine(lines.join('\n'));
}

export function evalFacesCommand(): Command {
  return new Command('eval-faces')
    .description('measure the face engine on labelled photos: detection, rank-1, genuine/impostor distances, TAR@FAR')
    .argument('[dir]', 'a folder with one subfolder of photos per person')
    .option('--pairs <file.csv>', 'instead of a folder: a CSV of file_x,file_y,Yes|No (paths relative to the CSV)')
    .option('--json', 'print machine-readable JSON')
    .addOption(new Option('--detector <name>', 'face detector').choices(FACE_DETECTORS).default('ssd'))
    .addOption(new Option('--padding <auto|fraction>', 'grey border for tight crops').default('auto').argParser(parsePadding))
    .addOption(
      new Option('--threshold <distance>', 'decision threshold to report TAR/FAR at')
        .default(DEFAULT_MATCH_THRESHOLD)
        .argParser(parseThreshold),
    )
    .action(async (dir: string | undefined, options: EvalCliOptions, command: Command) => {
      if ((dir === undefined) === (options.pairs === undefined)) {
        command.error('error: give either a folder or --pairs FILE.csv', { code: 'commander.missingArgument', exitCode: 2 });
      }
      const onProgress =
        process.stderr.isTTY && !options.json
          ? (done: number, total: number) => process.stderr.write(`\ranalysing ${done}/${total} images`)
          : undefined;
      const evalOptions = { detector: options.detector, padding: options.padding, threshold: options.threshold, onProgress };
      const report =
        options.pairs !== undefined
          ? await evaluatePairs(options.pairs, evalOptions)
          : await evaluateFolders(dir ?? '.', evalOptions);
      if (onProgress) process.stderr.write('\n');
      if (options.json) printJson(report);
      else printReport(report);
    });
}
