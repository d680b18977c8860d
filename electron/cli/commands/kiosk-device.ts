import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ClockfaceError } from '../../../shared/errors.js';
import type { FaceDetector } from '../../../shared/face/types.js';
import { decodeImage } from '../../face/decode-image.js';
import { nodeFaceEngine } from '../../face/node-face-engine.js';
import { KioskCore, type FrameOutcome } from '../../kiosk/kiosk-core.js';
import { initKioskDir } from '../../kiosk/kiosk-init.js';
import { parseKioskSettings } from '../../kiosk/kiosk-settings.js';
import { RosterFollower } from '../../kiosk/roster-follower.js';
import { KioskService } from '../../kiosk/kiosk-service.js';
import { startBrowserHost } from '../../kiosk/serve/browser-host.js';
import { parsePort } from '../parse.js';
import { printError, printJson, printLine } from '../output.js';

interface DirOptions {
  kioskDir: string;
  json?: boolean;
}

const kioskDirOption = (): Option => new Option('--kiosk-dir <dir>', 'the kiosk folder (kiosk.json + kiosk.db)').makeOptionMandatory();
const engineOption = (): Option =>
  new Option('--engine <engine>', 'vector index engine (default: the folder setting, else auto)').choices([
    'auto',
    'sqlite-vss',
    'sqlite-vec',
    'js',
  ]);

function readSettingsInput(file: string): unknown {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ClockfaceError('KIOSK_SETTINGS_INVALID', `${file} is not JSON: ${(e as Error).message}`);
  }
}

async function withKiosk<T>(options: DirOptions & { engine?: string }, body: (core: KioskCore) => Promise<T>): Promise<T> {
  const engine = options.engine as 'auto' | 'sqlite-vss' | 'sqlite-vec' | 'js' | undefined;
  const core = KioskCore.open(options.kioskDir, engine ? { engine } : {});
  if (core.recovery) {
    printError(
      `warning: the kiosk database was damaged (${core.recovery.reason}); moved to ${core.recovery.corruptCopy}. ` +
        `${core.recovery.punchesSalvaged} punches read back from it and ${core.recovery.punchesFromJournal} more from the ` +
        'punch journal, all queued for upload; the roster is rebuilt at the next sync.',
    );
  }
  try {
    return await body(core);
  } finally {
    core.close();
  }
}

function describeOutcome(o: FrameOutcome): string {
  switch (o.kind) {
    case 'punched':
      return `${o.employee.fullName} (${o.employee.employeeNo}) clocked ${o.punch.direction.toUpperCase()} at ${o.punch.at.toISOString()}` +
        (o.source === 'central' ? ' (recognised by central; not yet in this kiosk cache)' : '');
    case 'already':
      return `${o.employee.fullName} (${o.employee.employeeNo}) already clocked ${o.direction.toUpperCase()} at ${o.at.toISOString()}`;
    case 'not-recognised':
      return `not recognised${o.bestDistance === null ? '' : ` (nearest distance ${o.bestDistance.toFixed(3)})`}`;
    case 'ambiguous':
      return `not sure who this is (two people within the margin: ${o.distance.toFixed(3)} vs ${o.runnerUpDistance.toFixed(3)})`;
    case 'pending':
      return `recognition pending: ${o.agreeing} of ${o.needed} frames agree; give more frames`;
    case 'no-face':
      return `no usable face (${o.issues.join(', ')})`;
    case 'turn-head':
      return `${o.employee.fullName}: turn your head to the ${o.direction} (head-turn check; give more frames)`;
    case 'turn-failed':
      return `head-turn check not passed (${o.reason}); no punch`;
    case 'still-here':
      return `${o.employee.fullName} (${o.employee.employeeNo}) is still in view since clocking ${o.direction.toUpperCase()} at ${o.at.toISOString()}; no punch`;
    case 'confirm':
      return `${o.employee.fullName} (${o.employee.employeeNo}) clocked ${o.lastDirection.toUpperCase()} at ${o.lastAt.toISOString()}: ` +
        `clock ${o.direction.toUpperCase()} so soon only with --yes; not punched`;
  }
}

/** `kiosk init|sync|status|punch`: the headless kiosk on a kiosk folder. */
export function addKioskDeviceCommands(kiosk: Command): void {
  addInitCommand(kiosk);
  addSyncCommand(kiosk);
  addStatusCommand(kiosk);
  addServeCommand(kiosk);
  addPunchCommand(kiosk);
}

/** `kiosk init`. */
function addInitCommand(kiosk: Command): void {
  kiosk
    .command('init')
    .description('make a kiosk folder from the settings `kiosk add --json` printed, then take the first roster snapshot')
    .addOption(kioskDirOption())
    .requiredOption('--settings <file>', 'settings JSON file, or - for standard input')
    .addOption(engineOption())
    .option('--roster-url <url>', 'read the roster from this read replica (punches still go to the primary)')
    .option('--no-sync', 'do not sync now')
    .action(async (options: DirOptions & { settings: string; engine?: string; rosterUrl?: string; sync: boolean }) => {
      const input = readSettingsInput(options.settings);
      const merged = {
        ...(typeof input === 'object' && input !== null ? input : {}),
        ...(options.engine ? { engine: options.engine } : {}),
        ...(options.rosterUrl ? { rosterUrl: options.rosterUrl } : {}),
      };
      const settings = await initKioskDir(options.kioskDir, parseKioskSettings(merged, options.settings));
      printLine(`kiosk folder ${options.kioskDir} set up for kiosk ${settings.kioskName} (id ${settings.kioskId}, site ${settings.site})`);
      if (!options.sync) return;
      await withKiosk(options, async (core) => {
        const result = await core.syncRoster();
        printLine(`first sync: ${result.employees} employees, ${result.templates} templates (${core.index.engine})`);
      });
    });
}

/** `kiosk sync`. */
function addSyncCommand(kiosk: Command): void {
  kiosk
    .command('sync')
    .description('bring the roster cache up to date and upload waiting punches; --watch keeps following central')
    .addOption(kioskDirOption())
    .addOption(engineOption())
    .option('--watch', 'keep running: sync on every central change (LISTEN/NOTIFY) and on a timer')
    .addOption(
      new Option('--wait-seconds <s>', 'wait this long for central transactions still open to finish, so the cache is current as of now')
        .default(30)
        .argParser((v: string) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds ≥ 0');
          return n;
        }),
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: DirOptions & { engine?: string; watch?: boolean; waitSeconds: number }) => {
      await withKiosk(options, async (core) => {
        if (options.watch) {
          await followUntilSignal(core);
          return;
        }
        const { sync, uploaded } = await core.syncThenUpload(options.waitSeconds * 1000);
        const upload = core.uploader.getStatus();
        if (!sync.ok) {
          printError(`punches: ${uploaded} uploaded, ${upload.pending} waiting`);
          throw sync.error;
        }
        const result = sync.result;
        if (options.json) {
          printJson({ sync: result, uploaded, upload });
          return;
        }
        const how = result.kind === 'snapshot' ? `snapshot (${result.snapshotReason ?? ''})` : `${result.changesRead} changes`;
        printLine(
          `roster: ${how}; ${result.employees} employees, ${result.templates} templates ` +
            `(+${result.templatesUpserted} / -${result.templatesRemoved} templates, -${result.employeesRemoved} employees)`,
        );
        if (!result.caughtUp) {
          printLine('note: a transaction still open on central holds back the newest changes; they arrive at the next sync');
        }
        printLine(`punches: ${uploaded} uploaded, ${upload.pending} waiting${upload.uploadError ? ` (last error: ${upload.uploadError.code}, ${upload.uploadError.message})` : ''}`);
        if (!upload.connected && upload.pending > 0) process.exitCode = 1;
      });
    });
}

/** `kiosk status`. */
function addStatusCommand(kiosk: Command): void {
  kiosk
    .command('status')
    .description('what this kiosk holds: roster, index engine, last sync, punches waiting for upload')
    .addOption(kioskDirOption())
    .option('--json', 'print machine-readable JSON')
    .action(async (options: DirOptions) => {
      await withKiosk(options, async (core) => {
        const s = core.status();
        if (options.json) {
          printJson(s);
          return;
        }
        printLine(`kiosk ${s.kioskName} (id ${String(s.kioskId)}) at site ${s.site}`);
        printLine(`roster: ${s.employees} employees, ${s.templates} templates, ${s.indexed} indexed by ${s.engine} (${s.engineChosenBecause})`);
        printLine(`last sync: ${s.lastSyncAt ?? 'never'}; model ${s.modelId}`);
        printLine(`punches waiting for upload: ${s.pendingPunches}${s.oldestPendingAt ? ` (oldest ${s.oldestPendingAt})` : ''}`);
      });
    });
}

/** `kiosk serve`. */
function addServeCommand(kiosk: Command): void {
  kiosk
    .command('serve')
    .description('browser mode: the kiosk screen and its bridge over HTTP, for Chromium in kiosk mode or a tablet')
    .addOption(kioskDirOption())
    .addOption(engineOption())
    .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').default(5180).argParser(parsePort))
    .option('--host <host>', 'address to bind (anything but loopback exposes the kiosk to the network)', '127.0.0.1')
    .action(async (options: DirOptions & { engine?: string; port: number; host: string }) => {
      await withKiosk(options, (core) => serveUntilSignal(core, options.port, options.host));
    });
}

/** `kiosk punch`. */
function addPunchCommand(kiosk: Command): void {
  kiosk
    .command('punch')
    .description('run photos as consecutive camera frames through the kiosk: face engine, cache, policy, punch, upload')
    .addOption(kioskDirOption())
    .argument('<photos...>', 'photos, in frame order')
    .addOption(engineOption())
    .addOption(new Option('--detector <detector>', 'face detector').choices(['ssd', 'tiny320', 'tiny416']).default('ssd'))
    .option('--offline', 'do not contact central (no fallback search, no upload)')
    .option('--yes', 'answer yes when the kiosk asks "Clock OUT? You clocked IN minutes ago"')
    .option('--json', 'print machine-readable JSON')
    .action(async (photos: string[], options: DirOptions & { engine?: string; detector: FaceDetector; offline?: boolean; yes?: boolean }) => {
      const engine = await nodeFaceEngine();
      await withKiosk(options, async (core) => {
        if (options.offline) core.settings.centralFallback = false;
        let outcome: FrameOutcome | null = null;
        for (const photo of photos) {
          const image = await decodeImage(photo); // its errors name the photo
          const analysis = await engine.analyze(image, { detector: options.detector, padding: 'auto', purpose: 'kiosk' });
          outcome = await core.processFrame(analysis);
          if (outcome.kind === 'confirm' && options.yes) {
            const done = core.confirmPunch(outcome.confirmationId, true);
            if (done) outcome = { kind: 'punched', punch: done.punch, employee: done.employee, source: done.source };
          }
          if (outcome.kind === 'punched' || outcome.kind === 'already' || outcome.kind === 'confirm') break;
        }
        if (outcome === null) throw new ClockfaceError('INVALID_ARGUMENT', 'no photos given');
        const uploaded = outcome.kind === 'punched' && !options.offline ? await core.upload() : 0;
        const upload = core.uploader.getStatus();
        if (options.json) {
          printJson({ outcome, uploaded, pending: upload.pending, online: upload.connected });
        } else {
          printLine(describeOutcome(outcome));
          if (outcome.kind === 'punched') {
            printLine(uploaded > 0 ? 'uploaded to central' : `saved on this kiosk; ${upload.pending} punches waiting for upload`);
          }
        }
        if (outcome.kind !== 'punched' && outcome.kind !== 'already') process.exitCode = 1;
      });
    });
}

/** `kiosk serve`: browser mode until SIGINT/SIGTERM. */
async function serveUntilSignal(core: KioskCore, port: number, host: string): Promise<void> {
  const service = new KioskService(core);
  service.start();
  const browserHost = await startBrowserHost(service, { port, host });
  printLine(`kiosk ${core.settings.kioskName} in browser mode: open ${browserHost.url}`);
  printLine('(the address holds the kiosk\'s bridge token: open it on this machine only; Ctrl-C to stop)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await browserHost.close();
  await service.stop();
}

/** `kiosk sync --watch`: follows central until SIGINT/SIGTERM; uploads after every sync. */
async function followUntilSignal(core: KioskCore): Promise<void> {
  const follower = new RosterFollower({
    sync: async () => {
      const { sync } = await core.syncThenUpload(2_000);
      if (!sync.ok) throw sync.error;
      const r = sync.result;
      if (r.changesRead > 0 || r.kind === 'snapshot') {
        printLine(`${new Date().toISOString()} roster ${r.kind}: ${r.employees} employees, ${r.templates} templates`);
      }
      return r.caughtUp;
    },
    listen: (events) => core.listenForRoster(events),
    pollMs: core.settings.pollSeconds * 1000,
  });
  follower.start();
  printLine(`following central for kiosk ${core.settings.kioskName}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await follower.stop();
}
