import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectCentral } from '../../electron/central/connect.js';
import { startEmbeddedCentral } from '../../electron/central/embedded.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { decodeImage } from '../../electron/face/decode-image.js';
import { nodeFaceEngine } from '../../electron/face/node-face-engine.js';
import { importRoster } from '../../electron/roster/import-roster.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';

const BBT = fileURLToPath(new URL('../../../shared/faces/bbt/', import.meta.url));
const PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'];

/**
 * Enrolment throughput: the face engine alone (auto padding, which looks twice at tight crops, against a single
 * padded pass), and a whole `roster import` into the embedded central, first run and unchanged re-run.
 */
export const enrolSuite: BenchSuite = {
  name: 'enrol',
  description: 'enrolment throughput on the 40 photos of ../shared/faces/bbt (photos/s, higher is better)',
  async run({ full }) {
    const rounds = full ? 3 : 1;
    const engine = await nodeFaceEngine();
    const photos = PEOPLE.flatMap((p) => [1, 2, 3, 4, 5].map((n) => join(BBT, p, `${p}${n}.png`)));
    const results: BenchResult[] = [];
    const rate = async (padding: 'auto' | number): Promise<number> => {
      const started = performance.now();
      for (let r = 0; r < rounds; r++) {
        for (const photo of photos) await engine.analyze(await decodeImage(photo), { detector: 'ssd', padding, purpose: 'enrol' });
      }
      return (photos.length * rounds) / ((performance.now() - started) / 1000);
    };
    await engine.analyze(await decodeImage(photos[0] ?? ''), { detector: 'ssd', padding: 1, purpose: 'enrol' });
    const auto = await rate('auto');
    const padded = await rate(1);
    results.push(
      { suite: 'enrol', case: 'engine, auto padding', metric: 'throughput', value: auto, unit: 'photos/s' },
      { suite: 'enrol', case: 'engine, always padded', metric: 'throughput', value: padded, unit: 'photos/s' },
      { suite: 'enrol', case: 'always padded vs auto', metric: 'speed ratio', value: padded / auto, unit: 'x' },
    );

    const central = await startEmbeddedCentral({ dataDir: null, port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'clockface-bench-enrol-'));
    try {
      const client = await connectCentral({ url: central.url, embeddedDefault: false });
      await migrateCentral(client);
      const rows = PEOPLE.map((p) => `BENCH-${p},${p},Cast,hq,${[1, 2, 3, 4, 5].map((n) => `${p}/${p}${n}.png`).join(';')},`);
      const file = join(dir, 'roster.csv');
      writeFileSync(file, `employee_no,full_name,department,site,photos,pin\n${rows.join('\n')}\n`);
      const timed = async () => {
        const started = performance.now();
        const summary = await importRoster(client, file, { photosDir: BBT, dryRun: false, allowDuplicateFace: true });
        return { seconds: (performance.now() - started) / 1000, summary };
      };
      const first = await timed();
      const second = await timed();
      await client.end();
      results.push(
        { suite: 'enrol', case: 'roster import, first run (embedded central)', metric: 'throughput', value: photos.length / first.seconds, unit: 'photos/s' },
        { suite: 'enrol', case: 'roster import, unchanged re-run', metric: 'throughput', value: photos.length / second.seconds, unit: 'photos/s' },
        { suite: 'enrol', case: 're-run vs first run', metric: 'speed ratio', value: first.seconds / second.seconds, unit: 'x' },
        { suite: 'enrol', case: 'roster import, first run', metric: 'templates added', value: first.summary.templatesAdded, unit: 'count' },
      );
    } finally {
      await central.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};
