import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { DEFAULT_EMBEDDED_HOST, embeddedPort, redactUrl } from '../../config/central-url.js';
import { APP_ROOT, defaultEmbeddedCentralDir } from '../../config/paths.js';
import { startMigratedEmbeddedCentral } from '../../central/serve-embedded.js';
import { migrateCentral } from '../../central/migrate.js';
import { KioskCore } from '../../kiosk/kiosk-core.js';
import { KioskService } from '../../kiosk/kiosk-service.js';
import { electronBinary, ensureLocalKiosk, localKioskDir } from '../../kiosk/local-kiosk.js';
import { startBrowserHost } from '../../kiosk/serve/browser-host.js';
import { buildElectronApp } from '../../main/build.js';
import { withCentral } from '../central-option.js';
import { printLine } from '../output.js';
import { consoleCentral, DEFAULT_CONSOLE_PORT, serveConsole } from './console.js';

/** Browser mode's port for `npm start` (CLOCKFACE_KIOSK_PORT moves it). */
function kioskPort(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['CLOCKFACE_KIOSK_PORT'];
  const port = value === undefined ? 5180 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`CLOCKFACE_KIOSK_PORT must be a port number, got "${value ?? ''}"`);
  return port;
}

/** The console's port for `npm start` (CLOCKFACE_CONSOLE_PORT moves it; 0 picks a free one). */
function consolePort(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['CLOCKFACE_CONSOLE_PORT'];
  const port = value === undefined ? DEFAULT_CONSOLE_PORT : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`CLOCKFACE_CONSOLE_PORT must be a port number, got "${value ?? ''}"`);
  return port;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * `npm start`: everything one kiosk needs on one machine. The central database (embedded unless
 * CLOCKFACE_DATABASE_URL names a server), migrated; on the first run a kiosk registered on it and its folder made;
 * then the back office (console) beside it, and the kiosk itself: the Electron app where its binary is installed, otherwise browser mode with the address
 * to open. Ctrl-C stops everything, central last (after the kiosk's last upload).
 */
export function startCommand(): Command {
  return new Command('start')
    .description('start Clockface on this machine: the central database (embedded by default) and the kiosk')
    .action(async () => {
      const external = process.env['CLOCKFACE_DATABASE_URL'];
      let stopCentral: () => Promise<void> = () => Promise.resolve();
      let centralUrl: string;
      if (external) {
        centralUrl = external;
        await withCentral(
          {},
          async (client, target) => {
            const result = await migrateCentral(client);
            printLine(`central ${redactUrl(target.url)} is at schema version ${result.version}`);
          },
          { schema: 'any' },
        );
      } else {
        const dataDir = defaultEmbeddedCentralDir();
        const { central, schemaVersion } = await startMigratedEmbeddedCentral({
          dataDir,
          port: embeddedPort(),
          host: DEFAULT_EMBEDDED_HOST,
          migrate: true,
        });
        centralUrl = central.url;
        stopCentral = () => central.stop();
        printLine(`Clockface embedded central: ${central.url} (schema ${String(schemaVersion)}, data in ${dataDir})`);
      }

      let stopConsole: () => Promise<void> = () => Promise.resolve();
      try {
        const dir = await withCentral({ databaseUrl: centralUrl }, (client, target) => ensureLocalKiosk(client, target.url, localKioskDir()));
        const backOffice = await serveConsole(await consoleCentral(centralUrl), { host: '127.0.0.1', port: consolePort() });
        stopConsole = () => backOffice.close();
        printLine(`Back office (console): ${backOffice.url}  (supervisors, timesheets, corrections; sign in there)`);
        const electron = electronBinary();
        if (electron.path !== null) {
          // The app's main and preload are bundles (a sandboxed preload cannot load modules): build them first.
          await buildElectronApp();
          printLine(`starting the kiosk app (Electron) on ${dir}`);
          const child = spawn(electron.path, [APP_ROOT], { stdio: 'inherit', env: { ...process.env, CLOCKFACE_KIOSK_DIR: dir } });
          await new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            void waitForSignal().then(() => child.kill('SIGTERM'));
          });
          return;
        }
        printLine(`The Electron binary is not available here (${electron.reason}); starting the kiosk in browser mode.`);
        const core = KioskCore.open(dir);
        const service = new KioskService(core);
        service.start();
        const host = await startBrowserHost(service, { port: kioskPort() });
        printLine(`Kiosk ${core.settings.kioskName} (folder ${dir}): open ${host.url}`);
        printLine('(in Chromium: chromium --kiosk "<that address>"). Press Ctrl-C to stop.');
        await waitForSignal();
        await host.close();
        await service.stop();
        core.close();
      } finally {
        await stopConsole();
        await stopCentral();
        printLine('stopped');
      }
    });
}
