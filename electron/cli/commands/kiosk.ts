import { Command } from 'commander';
import { ClockfaceError } from '../../../shared/errors.js';
import { dropKiosk, poolerUrlProblem, registerKiosk, rekeyKiosk, revokeKiosk, type RegisteredKiosk } from '../../central/kiosk-registry.js';
import { listKiosks, type KioskListing } from '../../central/kiosk-fleet.js';
import { describeClockOffset } from '../../../shared/kiosk/clock-offset.js';
import { addKioskDeviceCommands } from './kiosk-device.js';
import { withCentral, withCentralOption, type CentralOptions } from '../central-option.js';
import { isoTime, printJson, printLine } from '../output.js';

function printSettings({ id, settings }: RegisteredKiosk, json: boolean | undefined, what: string): void {
  if (json) {
    printJson({ ...settings, kioskId: id });
    return;
  }
  printLine(`kiosk ${settings.kioskName} ${what} at site ${settings.site}, database role ${settings.roleName}`);
  printLine(`connection URL (shown once; central keeps only a verifier): ${settings.url}`);
  if (settings.watchLogin) {
    printLine(`through the pooler in transaction mode; roster head watched as ${settings.watchLogin.user} (use --json for the full settings)`);
  }
}

/** One line per kiosk: state, version, clock, outbox, enrolments, and a login that disagrees with the row. */
function describeKiosk(k: KioskListing): string {
  const seen = k.lastSeenAt ? `last seen ${isoTime(k.lastSeenAt)}` : 'never seen';
  const state = k.droppedAt ? `DROPPED ${isoTime(k.droppedAt)}` : k.revokedAt ? `REVOKED ${isoTime(k.revokedAt)}` : seen;
  const parts = [k.name, `site ${k.site}`, state];
  if (k.appVersion) parts.push(`v${k.appVersion}`);
  // As measured at the last heartbeat: a kiosk clock that is off shows here before anyone reads a report.
  if (k.clockOffsetMs !== null) parts.push(`clock ${describeClockOffset(k.clockOffsetMs)}`);
  if (k.pendingPunches) {
    parts.push(`${k.pendingPunches} punch${k.pendingPunches === 1 ? '' : 'es'} waiting${k.refusedPunches ? ` (${k.refusedPunches} refused by central)` : ''}`);
  }
  if (k.oldestPendingAt) parts.push(`oldest waiting since ${isoTime(k.oldestPendingAt)}`);
  if (k.rosterSyncedAt) parts.push(`roster synced ${isoTime(k.rosterSyncedAt)} (watermark ${k.rosterWatermark ?? '?'})`);
  if (k.rosterBehindSince) parts.push(`roster changes unread since ${isoTime(k.rosterBehindSince)}`);
  if (k.templatesCached !== null) parts.push(`${k.templatesCached} template(s) on ${k.vectorEngine ?? '?'}`);
  if (k.lastUploadError) parts.push(`last upload error ${k.lastUploadError}`);
  if (k.facesEnrolled24h > 0) parts.push(`enrolled ${k.facesEnrolled24h} face(s), ${k.peopleEnrolled24h} new employee(s) in 24 h`);
  if (k.loginProblem) parts.push(`ATTENTION: ${k.loginProblem}`);
  // The same judgement as the console's Kiosks page (electron/central/kiosk-fleet.ts), in the same words.
  parts.push(`status ${k.status.join(',')}`);
  return parts.join('  ');
}

/** A pooler address as `--pooler-url` takes it: a postgres:// URL, without a login (each kiosk brings its own). */
function checkedPoolerUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const example = { hint: 'For example postgres://pgbouncer.example.org:6432/clockface' };
  switch (poolerUrlProblem(value)) {
    case 'not-a-url':
      throw new ClockfaceError('INVALID_ARGUMENT', `--pooler-url "${value}" is not a URL`, example);
    case 'not-postgres':
      throw new ClockfaceError('INVALID_ARGUMENT', '--pooler-url must be a postgres:// URL', example);
    case 'has-login':
      throw new ClockfaceError('INVALID_ARGUMENT', '--pooler-url must not carry a login: each kiosk gets its own');
    case null:
      return value;
  }
}

export function kioskCommand(): Command {
  const kiosk = new Command('kiosk').description('kiosks: register, list, revoke, re-key, drop');

  withCentralOption(
    kiosk
      .command('add')
      .description("register a kiosk and create its own database login; prints its connection settings once")
      .argument('<name>', 'kiosk name (letters, digits, _ . -)')
      .requiredOption('--site <code>', 'the site it stands at')
      .option('--pooler-url <url>', 'the kiosk reaches central through PgBouncer in transaction mode at this address (docs/operations.md)')
      .option('--json', 'print the settings as JSON (for `clockface kiosk init`)'),
  ).action(async (name: string, options: CentralOptions & { site: string; poolerUrl?: string; json?: boolean }) => {
    const route = { poolerUrl: checkedPoolerUrl(options.poolerUrl) };
    await withCentral(options, async (client, target) => {
      printSettings(await registerKiosk(client, target.url, { name, site: options.site }, route), options.json, 'registered');
    });
  });

  withCentralOption(kiosk.command('list').description('list kiosks and what needs attention').option('--json', 'print JSON')).action(
    async (options: CentralOptions & { json?: boolean }) => {
      await withCentral(options, async (client) => {
        const kiosks = await listKiosks(client);
        if (options.json) {
          printJson(kiosks);
          return;
        }
        if (kiosks.length === 0) printLine('no kiosks registered');
        for (const k of kiosks) printLine(describeKiosk(k));
      });
    },
  );

  withCentralOption(
    kiosk.command('revoke').description('stop a kiosk from logging in and end its sessions; its punches stay').argument('<name>', 'kiosk name'),
  ).action(async (name: string, options: CentralOptions) => {
    await withCentral(options, async (client) => {
      const revoked = await revokeKiosk(client, name);
      printLine(`kiosk ${name} revoked: its login is disabled and ${revoked.sessionsEnded} open session(s) ended`);
    });
  });

  withCentralOption(
    kiosk
      .command('rekey')
      .description("give a kiosk a new password (it leaked, or someone changed it); ends the old password's sessions")
      .argument('<name>', 'kiosk name')
      .option('--pooler-url <url>', 'the kiosk reaches central through PgBouncer in transaction mode at this address')
      .option('--json', 'print the new settings as JSON (for `clockface kiosk init`)'),
  ).action(async (name: string, options: CentralOptions & { poolerUrl?: string; json?: boolean }) => {
    const route = { poolerUrl: checkedPoolerUrl(options.poolerUrl) };
    await withCentral(options, async (client, target) => {
      printSettings(await rekeyKiosk(client, target.url, name, route), options.json, 're-keyed');
    });
  });

  withCentralOption(
    kiosk
      .command('drop')
      .description("revoke a kiosk and delete its database login and all it owns; its row and punches stay")
      .argument('<name>', 'kiosk name'),
  ).action(async (name: string, options: CentralOptions) => {
    await withCentral(options, async (client) => {
      const role = await dropKiosk(client, name);
      printLine(`kiosk ${name} dropped: database role ${role} deleted; its punches stay`);
    });
  });
  addKioskDeviceCommands(kiosk);
  return kiosk;
}
