import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the installed app (the folder holding package.json and resources/). */
export const APP_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const RESOURCES_DIR = join(APP_ROOT, 'resources');
export const CENTRAL_MIGRATIONS_DIR = join(RESOURCES_DIR, 'sql', 'central');

/** Where Clockface keeps its local state unless told otherwise (CLOCKFACE_HOME). */
export function clockfaceHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['CLOCKFACE_HOME'] ?? join(homedir(), '.clockface');
}

export function defaultEmbeddedCentralDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(clockfaceHome(env), 'central');
}
