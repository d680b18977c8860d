import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../electron/cli/main.js';
import { freePort } from '../support/ports.js';
import { runCli } from '../support/run-cli.js';


function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const paths = commandPaths(await buildProgram());

describe('clockface command line', () => {
  it('knows the commands this version ships', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['start', 'central', 'central start', 'db', 'db migrate', 'db status']),
    );
  });

  it.each(paths.map((p) => [p.join(' '), p] as const))('`clockface %s --help` prints usage, exit 0', async (_, path) => {
    const result = await runCli([...path, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: clockface ${path.join(' ')}`);
  });

  it('an unknown command prints the help text and exits 2', async () => {
    const result = await runCli(['clock-everyone-in']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'clock-everyone-in'");
    expect(result.stderr).toContain('Usage: clockface [options] [command]');
  });

  it('an unknown option prints the command help and exits 2', async () => {
    const result = await runCli(['db', 'status', '--verbose-please']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--verbose-please'");
    expect(result.stderr).toContain('Usage: clockface db status');
  });

  it('a bad option value and a missing subcommand are usage errors too', async () => {
    const badPort = await runCli(['central', 'start', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('expected a port number');
    const bare = await runCli(['db']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: clockface db');
    const nothing = await runCli([]);
    expect(nothing.code).toBe(2);
  });

  it('an unreachable central names the URL it tried and how to start one', async () => {
    // A port known to be free, so that a central someone left running on 5488 cannot answer.
    const port = await freePort();
    const embedded = await runCli(['db', 'status'], { CLOCKFACE_HOME: '/nonexistent', CLOCKFACE_CENTRAL_PORT: String(port) });
    expect(embedded.code).toBe(1);
    expect(embedded.stderr).toContain(`cannot reach the central database at postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(embedded.stderr).toContain('npx clockface central start');

    const configured = await runCli(['db', 'migrate'], {
      CLOCKFACE_DATABASE_URL: 'postgres://it:s3cret@127.0.0.1:9/payroll',
    });
    expect(configured.code).toBe(1);
    expect(configured.stderr).toContain('cannot reach the central database at postgres://it:***@127.0.0.1:9/payroll');
    expect(configured.stderr).not.toContain('s3cret');
    expect(configured.stderr).toContain('CLOCKFACE_DATABASE_URL');
  });
});
