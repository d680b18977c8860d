import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The rules eslint.config.js uses for the rooms (the core rule; typescript-eslint's, for allowTypeImports; import()). */
const ROOM_RULES = new Set(['no-restricted-imports', '@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);

/** Lints a made-up file at `path` (relative to the repo) and returns the messages of the rooms rules. */
async function roomViolations(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: `${root}/${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && ROOM_RULES.has(m.ruleId)).map((m) => m.message);
}

/** A module importing `what` from `from` and using it, so only the rooms rules can complain. */
const importing = (from: string, what = 'x'): string => `import ${what} from '${from}';\nexport const a = ${what};`;
const importingType = (from: string): string => `import type { X } from '${from}';\nexport type A = X;`;

describe('the rooms of docs/architecture.md are enforced by lint', () => {
  it('shared/ may not import Node, Electron or another room', async () => {
    expect(await roomViolations('shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { APP_ROOT } from '../electron/config/paths.js';\nexport const a = APP_ROOT;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { FACE_MODEL_ID } from './face-model.js';\nexport const a = FACE_MODEL_ID;")).toEqual([]);
  });

  it('shared/ may import only the packages on its allowlist', async () => {
    for (const unlisted of ['lodash', 'node:fs', 'fs', 'pg', 'better-sqlite3', 'pino', 'sharp', '@electric-sql/pglite', '@vladmandic/face-api']) {
      expect(await roomViolations('shared/x.ts', importing(unlisted)), unlisted).toHaveLength(1);
    }
    // the message names the allowlist, so whoever hits it knows where to look
    expect((await roomViolations('shared/x.ts', importing('lodash')))[0]).toContain('Allowed packages: zod');
    expect(await roomViolations('shared/x.ts', "import { z } from 'zod';\nexport const a = z;")).toEqual([]);
    expect(await roomViolations('shared/x.ts', importing('zod/v4'))).toEqual([]);
    // types of an unlisted package are refused too (they would pull Node's types into the browser program)
    expect(await roomViolations('shared/x.ts', importingType('pg'))).toHaveLength(1);
    // re-exports and dynamic imports do not slip past it
    expect(await roomViolations('shared/x.ts', "export * from 'pg';")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "export const a = () => import('pg');")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "export const a = () => import('./face-model.js');")).toEqual([]);
  });

  it('unit tests beside shared/ code may also use the test tools, and nothing else', async () => {
    expect(await roomViolations('shared/x.test.ts', "import { it } from 'vitest';\nit('a', () => undefined);")).toEqual([]);
    expect(await roomViolations('shared/x.test.ts', importing('node:fs'))).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', importing('vitest'))).toHaveLength(1);
  });

  it('renderer/ may not import Node, database drivers or the main process', async () => {
    expect(await roomViolations('renderer/x.ts', "import fs from 'fs';\nexport const a = fs;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import pg from 'pg';\nexport const a = pg;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import { APP_ROOT } from '../electron/config/paths.js';\nexport const a = APP_ROOT;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import { FACE_MODEL_ID } from '../shared/face-model.js';\nexport const a = FACE_MODEL_ID;")).toEqual([]);
  });

  it('renderer/ may import only the packages on its allowlist', async () => {
    const unlisted = ['lodash', 'node:fs', 'node:path', 'electron', 'pg', 'better-sqlite3', 'pino', 'sharp', '@tensorflow/tfjs-node', 'zodiac'];
    for (const name of unlisted) expect(await roomViolations('renderer/x.ts', importing(name)), name).toHaveLength(1);
    expect((await roomViolations('renderer/x.ts', importing('lodash')))[0]).toContain('Allowed packages: zod, @vladmandic/face-api');
    for (const name of ['zod', '@vladmandic/face-api', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']) {
      expect(await roomViolations('renderer/x.ts', `import * as x from '${name}';\nexport const a = x;`), name).toEqual([]);
    }
    expect(await roomViolations('renderer/x.ts', importing('@tensorflow/tfjs-backend-wasm/dist/index.js'))).toEqual([]);
    expect(await roomViolations('renderer/x.ts', importingType('electron'))).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "export const a = () => import('lodash');")).toHaveLength(1);
  });

  it('the preload may import only electron, shared/ and its own folder (it runs sandboxed)', async () => {
    const p = 'electron/preload/x.ts';
    expect(await roomViolations(p, "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toHaveLength(1);
    expect(await roomViolations(p, "import { KioskCore } from '../kiosk/kiosk-core.js';\nexport const a = KioskCore;")).toHaveLength(1);
    expect(await roomViolations(p, "import pg from 'pg';\nexport const a = pg;")).toHaveLength(1);
    expect(await roomViolations(p, importing('lodash'))).toHaveLength(1);
    expect(await roomViolations(p, "import { KIOSK_CHANNELS } from '../../shared/kiosk/contract.js';\nexport const a = KIOSK_CHANNELS;")).toEqual([]);
    expect(await roomViolations(p, "import { x } from './bridge.js';\nexport const a = x;")).toEqual([]);
    expect(await roomViolations(p, "import { z } from 'zod';\nexport const a = z;")).toEqual([]);
  });

  it('electron/ may not import the renderer', async () => {
    expect(await roomViolations('electron/x.ts', "import { RENDERER_ROOM } from '../renderer/main.js';\nexport const a = RENDERER_ROOM;")).not.toEqual([]);
    expect(await roomViolations('electron/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toEqual([]);
  });

  it("only electron/main/index.ts and electron/preload/index.ts import 'electron' at run time", async () => {
    const runtime = "import { app } from 'electron';\nexport const a = app;";
    expect(await roomViolations('electron/kiosk/x.ts', runtime)).toHaveLength(1);
    expect(await roomViolations('electron/main/kiosk-main.ts', runtime)).toHaveLength(1);
    expect(await roomViolations('electron/preload/bridge.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;")).toHaveLength(1);
    expect(await roomViolations('test/x.test.ts', runtime)).toHaveLength(1);
    expect(await roomViolations('electron/kiosk/x.ts', "import 'electron';")).toHaveLength(1);
    expect(await roomViolations('electron/kiosk/x.ts', importing('electron/main'))).toHaveLength(1);
    expect(await roomViolations('electron/kiosk/x.ts', "export const a = () => import('electron');")).toHaveLength(1);
    // types are erased at build time: fine anywhere in electron/ and test/
    expect(await roomViolations('electron/kiosk/x.ts', "import type { App } from 'electron';\nexport type A = App;")).toEqual([]);
    expect(await roomViolations('electron/kiosk/x.ts', "import { type App } from 'electron';\nexport type A = App;")).toEqual([]);
    expect(await roomViolations('test/x.test.ts', "import type { App } from 'electron';\nexport type A = App;")).toEqual([]);
    // the two entries
    expect(await roomViolations('electron/main/index.ts', runtime)).toEqual([]);
    expect(await roomViolations('electron/preload/index.ts', "import { contextBridge, ipcRenderer } from 'electron';\nexport const a = [contextBridge, ipcRenderer];")).toEqual([]);
  });

  it('the real entry files pass', async () => {
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(['electron/main/index.ts', 'electron/preload/index.ts']);
    expect(results.flatMap((r) => r.messages.filter((m) => m.ruleId !== null && ROOM_RULES.has(m.ruleId)))).toEqual([]);
  });

  it('in electron/kiosk only the gateway (electron/kiosk/central/) talks to central', async () => {
    for (const path of ['electron/kiosk/kiosk-core.ts', 'electron/kiosk/store/outbox.ts', 'electron/kiosk/serve/x.ts']) {
      expect(await roomViolations(path, importing('pg')), path).toHaveLength(1);
      expect(await roomViolations(path, importingType('pg')), `${path}: types`).toHaveLength(1);
    }
    expect(await roomViolations('electron/kiosk/x.ts', "import { connectCentral } from '../central/connect.js';\nexport const a = connectCentral;")).toHaveLength(1);
    expect(await roomViolations('electron/kiosk/x.ts', "import { nearestPeople } from '../central/face-search.js';\nexport const a = nearestPeople;")).toHaveLength(1);
    // the gateway itself may, and everyone may use the gateway and the error-code map
    expect(await roomViolations('electron/kiosk/central/x.ts', importing('pg'))).toEqual([]);
    expect(await roomViolations('electron/kiosk/central/x.ts', "import { connectCentral } from '../../central/connect.js';\nexport const a = connectCentral;")).toEqual([]);
    expect(await roomViolations('electron/kiosk/x.ts', "import { CentralGateway } from './central/index.js';\nexport const a = CentralGateway;")).toEqual([]);
    expect(await roomViolations('electron/kiosk/x.ts', "import { centralErrorCode } from '../central/sql-errors.js';\nexport const a = centralErrorCode;")).toEqual([]);
    // and the rest of electron/ keeps its own rule there (no renderer code)
    expect(await roomViolations('electron/kiosk/x.ts', "import { a } from '../../renderer/kiosk/app.js';\nexport const b = a;")).toHaveLength(1);
  });
});
