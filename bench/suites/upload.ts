import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { connectCentral } from '../../electron/central/connect.js';
import { registerKiosk, type RegisteredKiosk } from '../../electron/central/kiosk-registry.js';
import { migrateCentral } from '../../electron/central/migrate.js';
import { openKioskDb, type KioskDatabase } from '../../electron/kiosk/store/kiosk-db.js';
import { pendingCount, recordPunch } from '../../electron/kiosk/store/punch-store.js';
import { Uploader } from '../../electron/kiosk/uploader.js';
import { distribution } from '../../shared/stats/distribution.js';
import { seededRandom } from '../../test/support/face-like-data.js';
import { addSite } from '../../test/support/roster-fixtures.js';
import type { BenchResult } from '../report.js';
import type { BenchSuite } from '../run.js';
import { eachCentral, type BenchCentral } from '../support/bench-centrals.js';

/**
 * Many kiosks draining their outboxes into central at once (issue 7): K simulated kiosks, each a real kiosk SQLite
 * database (openKioskDb) holding P punches recorded with recordPunch, each sending with its own Uploader over its
 * own connection as its own kiosk (the URL registerKiosk gave it: its role, under row-level security, on the real
 * server; the embedded central ignores logins), all concurrently. Alternatives side by side: Uploader batch sizes
 * 50 and 500 (fresh kiosks each). Reported: throughput (punches/s, first upload to last commit), p95 commit latency
 * of one batch (the INSERT … ON CONFLICT round trip, autocommit), failed attempts, and the proof: central's
 * count(*) = count(distinct id) = K × P for these kiosks, and every kiosk's outbox empty.
 *
 * Quick: 50 kiosks × 200 punches, the figure (it takes seconds, so quick needs no smaller size); --full adds
 * 50 kiosks × 2000 punches (a longer outage's backlog). The clock runs from the first connect to the last commit, so
 * each kiosk's connection set-up (SCRAM login on the server) is included. All kiosks run in this one Node process
 * (their SQLite work is synchronous), so at high rates the bench's own event loop is part of the cost.
 */

const SITE = 'bench';
const EMPLOYEES = 200;
const BATCH_SIZES = [50, 500] as const;

interface Profile {
  kiosks: number;
  punches: number;
}

function fill(db: KioskDatabase, n: number, kiosk: number, random: () => number): void {
  const base = Date.now() - n * 60_000;
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      recordPunch(db, {
        employeeId: 1 + Math.floor(random() * EMPLOYEES),
        direction: i % 2 === 0 ? 'in' : 'out',
        method: 'face',
        matchDistance: 0.3 + random() * 0.2,
        liveness: 'not_checked',
        at: new Date(base + i * 60_000 + kiosk),
      });
    }
  })();
}

/** A connect() whose clients add the time of each batch INSERT to `samples`. */
function timedConnect(url: string, samples: number[]): () => Promise<pg.Client> {
  return async () => {
    const client = await connectCentral({ url, embeddedDefault: false }, { applicationName: 'clockface-bench-upload' });
    const original = client.query.bind(client) as unknown as (...args: unknown[]) => Promise<unknown>;
    Object.assign(client, {
      query: async (...args: unknown[]): Promise<unknown> => {
        const t = performance.now();
        const result = await original(...args);
        if (typeof args[0] === 'string' && args[0].trimStart().startsWith('INSERT INTO punches')) samples.push(performance.now() - t);
        return result;
      },
    });
    return client;
  };
}

interface Kiosk {
  registered: RegisteredKiosk;
  db: KioskDatabase;
}

async function runBatchSize(
  central: BenchCentral,
  admin: pg.Client,
  profile: Profile,
  batchSize: number,
  run: string,
  dir: string,
): Promise<{ results: BenchResult[]; rate: number }> {
  const tag = central.tag;
  const kase = `${profile.kiosks} kiosks × ${profile.punches} punches [${tag}] batches of ${batchSize}`;
  const results: BenchResult[] = [];
  const row = (metric: string, value: number, unit: string): void => {
    results.push({ suite: 'upload', case: kase, metric, value, unit });
  };
  const kiosks: Kiosk[] = [];
  try {
    for (let k = 0; k < profile.kiosks; k++) {
      const registered = await registerKiosk(admin, central.url, { name: `bench-${run}-b${batchSize}-k${k}`, site: SITE });
      const db = openKioskDb(join(dir, `${tag}-${run}-b${batchSize}-k${k}.db`));
      kiosks.push({ registered, db });
      fill(db, profile.punches, k, seededRandom(100 + k));
    }
    const samples: number[] = [];
    let failedAttempts = 0;
    let drains = 0;
    const deadline = performance.now() + 120_000;
    const t = performance.now();
    await Promise.all(
      kiosks.map(async (kiosk) => {
        const uploader = new Uploader(kiosk.db, { kioskId: kiosk.registered.id, batchSize, backoffBaseMs: 100, backoffCapMs: 2_000 });
        const connect = timedConnect(kiosk.registered.settings.url, samples);
        while (pendingCount(kiosk.db) > 0) {
          if (performance.now() > deadline) throw new Error(`${kase}: kiosk ${kiosk.registered.settings.kioskName} did not drain within 120 s`);
          drains++;
          await uploader.drain(connect);
          const status = uploader.getStatus();
          if (status.pending > 0) {
            failedAttempts++;
            console.warn(`[upload bench] ${kase}: ${kiosk.registered.settings.kioskName}: ${status.uploadError?.message ?? '?'}; retrying`);
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    const total = profile.kiosks * profile.punches;
    const ids = kiosks.map((k) => k.registered.id);
    const counts = (
      await admin.query<{ n: number; distinct_ids: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM punches WHERE kiosk_id = ANY($1::bigint[])',
        [ids],
      )
    ).rows[0]!;
    const pending = kiosks.reduce((sum, k) => sum + pendingCount(k.db), 0);
    const onKiosks = kiosks.reduce((sum, k) => sum + (k.db.prepare('SELECT count(*) AS n FROM punches').get() as { n: number }).n, 0);
    if (counts.n !== total || counts.distinct_ids !== total || pending !== 0 || onKiosks !== total) {
      throw new Error(`${kase}: central has ${counts.n} rows (${counts.distinct_ids} distinct ids), expected ${total}; ${pending} left in outboxes`);
    }
    const d = distribution(samples);
    const rate = total / seconds;
    row('throughput', rate, 'punches/s');
    row('time (first upload → last commit)', seconds, 's');
    row('batch commit p50', d.median, 'ms');
    row('batch commit p95', d.p95, 'ms');
    row('batches committed', samples.length, '');
    row('failed attempts (retried)', failedAttempts, '');
    row('drain calls', drains, '');
    row('central count(*)', counts.n, 'punches');
    row('central count(distinct id)', counts.distinct_ids, 'punches');
    row('expected (kiosks × punches)', total, 'punches');
    row('left in kiosk outboxes', pending, 'punches');
    return { results, rate };
  } finally {
    for (const k of kiosks) k.db.close();
  }
}

export const uploadSuite: BenchSuite = {
  name: 'upload',
  description:
    'many kiosks draining their outboxes into central at once with Uploader, batches of 50 vs 500 ' +
    '([pg-server] = real PostgreSQL (own database, each kiosk its own role), [embedded-pglite] = embedded central in its own process)',
  async run({ full }) {
    const profiles: Profile[] = full
      ? [
          { kiosks: 50, punches: 200 },
          { kiosks: 50, punches: 2000 },
        ]
      : [{ kiosks: 50, punches: 200 }];
    const results: BenchResult[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'clockface-bench-upload-'));
    try {
      await eachCentral(
        'upload',
        async (central) => {
          const admin = await connectCentral({ url: central.url, embeddedDefault: false }, { applicationName: 'clockface-bench-admin' });
          try {
            await migrateCentral(admin);
            await addSite(admin, SITE, 'UTC');
            await admin.query(
              `INSERT INTO employees (employee_no, full_name, site)
               SELECT 'U' || lpad(g::text, 6, '0'), 'Upload Employee ' || g, $1 FROM generate_series(1, $2::int) g ORDER BY g`,
              [SITE, EMPLOYEES],
            );
            const first = (await admin.query<{ id: number }>('SELECT min(id)::int AS id FROM employees')).rows[0]?.id;
            if (first !== 1) throw new Error(`employees start at id ${String(first)}, expected 1`);
            for (const [p, profile] of profiles.entries()) {
              const rates = new Map<number, number>();
              for (const batchSize of BATCH_SIZES) {
                const run = await runBatchSize(central, admin, profile, batchSize, `r${p}`, dir);
                results.push(...run.results);
                rates.set(batchSize, run.rate);
              }
              const small = rates.get(BATCH_SIZES[0]);
              const large = rates.get(BATCH_SIZES[1]);
              if (small && large) {
                results.push({
                  suite: 'upload',
                  case: `${profile.kiosks} kiosks × ${profile.punches} punches [${central.tag}]`,
                  metric: `throughput, batches of ${BATCH_SIZES[1]} vs ${BATCH_SIZES[0]}`,
                  value: large / small,
                  unit: 'x',
                });
              }
            }
          } finally {
            await admin.end();
          }
        },
        { serverPrefix: 'clockface_bench_upload' },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};
