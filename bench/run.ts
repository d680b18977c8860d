/**
 * `npm run bench [-- SUITE…] [--full]`: side-by-side benchmarks, reported as ratios (issue 7 builds the suites).
 * Suites register here as they are written; none exists in this version.
 */
interface BenchSuite {
  name: string;
  run(options: { full: boolean }): Promise<void>;
}

const suites: BenchSuite[] = [];

const args = process.argv.slice(2);
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !suites.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown bench suite(s): ${unknown.join(', ')}; available: ${suites.map((s) => s.name).join(', ') || 'none yet'}`);
  process.exitCode = 2;
} else if (suites.length === 0) {
  console.log('no suites yet: the benchmark suites arrive with the issues that build what they measure');
} else {
  for (const suite of suites.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
    await suite.run({ full: args.includes('--full') });
  }
}
