import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Lints a made-up file at `path` (relative to the repo) and returns the messages of the rooms rule. */
async function roomViolations(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: `${root}/${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the rooms of ARCHITECTURE.md are enforced by lint', () => {
  it('shared/ may not import Node, Electron or another room', async () => {
    expect(await roomViolations('shared/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { APP_ROOT } from '../electron/config/paths.js';\nexport const a = APP_ROOT;")).toHaveLength(1);
    expect(await roomViolations('shared/x.ts', "import { FACE_MODEL_ID } from './face-model.js';\nexport const a = FACE_MODEL_ID;")).toEqual([]);
  });

  it('renderer/ may not import Node, database drivers or the main process', async () => {
    expect(await roomViolations('renderer/x.ts', "import fs from 'fs';\nexport const a = fs;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import pg from 'pg';\nexport const a = pg;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import { APP_ROOT } from '../electron/config/paths.js';\nexport const a = APP_ROOT;")).toHaveLength(1);
    expect(await roomViolations('renderer/x.ts', "import { FACE_MODEL_ID } from '../shared/face-model.js';\nexport const a = FACE_MODEL_ID;")).toEqual([]);
  });

  it('the preload may import only electron, shared/ and its own folder (it runs sandboxed)', async () => {
    const p = 'electron/preload/x.ts';
    expect(await roomViolations(p, "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toHaveLength(1);
    expect(await roomViolations(p, "import { KioskCore } from '../kiosk/kiosk-core.js';\nexport const a = KioskCore;")).toHaveLength(1);
    expect(await roomViolations(p, "import pg from 'pg';\nexport const a = pg;")).toHaveLength(1);
    expect(await roomViolations(p, "import { contextBridge } from 'electron';\nexport const a = contextBridge;")).toEqual([]);
    expect(await roomViolations(p, "import { KIOSK_CHANNELS } from '../../shared/kiosk/contract.js';\nexport const a = KIOSK_CHANNELS;")).toEqual([]);
    expect(await roomViolations(p, "import { x } from './bridge.js';\nexport const a = x;")).toEqual([]);
  });

  it('electron/ may not import the renderer', async () => {
    expect(await roomViolations('electron/x.ts', "import { RENDERER_ROOM } from '../renderer/main.js';\nexport const a = RENDERER_ROOM;")).not.toEqual([]);
    expect(await roomViolations('electron/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;")).toEqual([]);
  });
});
