/**
 * The kiosk's k-NN index over face templates.
 *
 * Why the index is derived, not canonical: the canonical copy of every template vector lives in a plain table that
 * roster sync writes in one atomic transaction (roster rows + vectors + watermark). The index cannot be part of
 * that transaction: sqlite-vss inserts are quadratic inside one transaction and each commit rewrites the whole
 * Faiss index, so it must commit in chunks of its own, and a chunked write is not atomic with anything. So the
 * index is a disposable structure built from the table: after each sync commit the changed templates are applied
 * to it (or it is rebuilt), and a missing, corrupt or other-engine index is simply rebuilt from the table. Its
 * tables are created here on demand, not by the kiosk migrations, because they depend on the engine.
 */
import type Database from 'better-sqlite3';
import { ClockfaceError } from '../../../shared/errors.js';
import { chooseEngine } from './engines.js';
import { JsIndex } from './js-index.js';
import { checkIndexName } from './meta.js';
import type { OpenVectorIndexOptions, VectorEngineName, VectorIndex } from './types.js';
import { VecIndex } from './vec-index.js';
import { VssIndex } from './vss-index.js';

export { availableEngines, type EngineAvailability } from './engines.js';
export { vssChunkRows } from './vss-index.js';
export {
  MAX_K,
  VECTOR_ENGINES,
  type OpenVectorIndexOptions,
  type VectorEngineName,
  type VectorHit,
  type VectorIndex,
  type VectorRow,
} from './types.js';

export const DEFAULT_INDEX_NAME = 'template_vectors';

/**
 * Opens (creating if needed) the index `options.name` on `db` with `engine`. 'auto' takes sqlite-vss where it loads
 * (Linux, macOS), else sqlite-vec, else the JS scan; `chosenBecause` on the result says which and why. Each engine
 * keeps its own tables, so switching engines means one rebuild from the canonical table.
 *
 * Writes on sqlite-vss refuse to run inside an open transaction on `db` (they commit in chunks of their own);
 * sqlite-vec and js writes join the caller's transaction.
 */
export function openVectorIndex(
  db: Database.Database,
  engine: VectorEngineName | 'auto',
  options: OpenVectorIndexOptions = {},
): VectorIndex {
  const name = options.name ?? DEFAULT_INDEX_NAME;
  checkIndexName(name);
  const chunk = options.vssChunkRows;
  if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1)) {
    throw new ClockfaceError('INVALID_ARGUMENT', `vssChunkRows must be a positive integer, got ${String(chunk)}`);
  }
  const chosen = chooseEngine(engine);
  switch (chosen.engine) {
    case 'sqlite-vss':
      return new VssIndex(db, name, chosen.because, chunk);
    case 'sqlite-vec':
      return new VecIndex(db, name, chosen.because);
    case 'js':
      return new JsIndex(db, name, chosen.because);
  }
}
