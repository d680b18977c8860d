import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/faces beside the project: real photos for tests (not copied into the repo). */
export const FACES_DIR = fileURLToPath(new URL('../../../shared/faces', import.meta.url));
export const BBT_DIR = join(FACES_DIR, 'bbt');
export const GROUP_DIR = join(FACES_DIR, 'bbt-group');

export const PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'] as const;

export function bbtPhoto(person: (typeof PEOPLE)[number], n: 1 | 2 | 3 | 4 | 5): string {
  return join(BBT_DIR, person, `${person}${n}.png`);
}

if (!existsSync(BBT_DIR)) {
  throw new Error(`test photos not found at ${BBT_DIR}: the project expects ../shared/faces beside it`);
}
