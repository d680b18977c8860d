import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CENTRAL_MIGRATIONS_DIR } from '../../electron/config/paths.js';
import { loadMigrationFiles } from '../../electron/sql/migration-files.js';
import { CLI, runCli } from '../support/run-cli.js';

const MIGRATIONS = loadMigrationFiles(CENTRAL_MIGRATIONS_DIR);
const LATEST = MIGRATIONS.at(-1)?.version ?? 0;

interface RunningCentral {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

/** `clockface central start` in its own process, as in a second shell; resolves once it prints its URL. */
function startCentralProcess(args: string[]): Promise<RunningCentral> {
  const child = spawn(process.execPath, [CLI, 'central', 'start', '--port', '0', ...args]);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`central did not start:\n${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = /url:\s+(postgres:\/\/\S+)/.exec(out);
      if (match?.[1] && out.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`central exited with ${code}:\n${out}`)));
  });
}

function stop(central: RunningCentral): Promise<number | null> {
  return new Promise((resolve) => {
    central.child.on('exit', (code) => resolve(code));
    central.child.kill('SIGINT');
  });
}

describe('embedded central as a separate process (`clockface central start`)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clockface-central-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves db migrate and db status from another process; migrate twice changes nothing; data survives a restart', async () => {
    const first = await startCentralProcess(['--data-dir', dataDir, '--no-migrate']);
    const env = { CLOCKFACE_DATABASE_URL: first.url };
    try {
      const fresh = await runCli(['db', 'status'], env);
      expect(fresh.code).toBe(0);
      expect(fresh.stdout).toMatch(/schema version:\s+0 /);

      const migrate = await runCli(['db', 'migrate'], env);
      expect(migrate.code).toBe(0);
      for (const m of MIGRATIONS) {
        expect(migrate.stdout).toContain(`applied ${String(m.version).padStart(4, '0')}_${m.name}`);
      }

      const again = await runCli(['db', 'migrate'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('nothing applied');

      const client = new pg.Client({ connectionString: first.url });
      await client.connect();
      await client.query("INSERT INTO sites (code, name) VALUES ('hq', 'Head office')");
      await client.end();

      const status = await runCli(['db', 'status', '--json'], env);
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout) as { schemaVersion: number; pgvector: string; counts: { sites: number } };
      expect(parsed.schemaVersion).toBe(LATEST);
      expect(parsed.pgvector).toMatch(/^0\.8\./);
      expect(parsed.counts.sites).toBe(1);

      // A second central on the same folder would corrupt it: refused.
      const second = await runCli(['central', 'start', '--port', '0', '--data-dir', dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('is already running');
    } finally {
      expect(await stop(first)).toBe(0);
    }
    expect(first.output()).toContain('embedded central stopped');

    const restarted = await startCentralProcess(['--data-dir', dataDir]);
    try {
      expect(restarted.output()).toContain(`schema: version ${LATEST}`);
      const status = await runCli(['db', 'status', '--json'], { CLOCKFACE_DATABASE_URL: restarted.url });
      expect(JSON.parse(status.stdout)).toMatchObject({ schemaVersion: LATEST, counts: { sites: 1 } });
    } finally {
      expect(await stop(restarted)).toBe(0);
    }
  });
});
