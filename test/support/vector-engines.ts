import { availableEngines, type VectorEngineName } from '../../electron/kiosk/vector-index/index.js';
import { requireSystemParts } from './system-parts.js';

export const VSS_PART = 'sqlite-vss (npm sqlite-vss + libblas3/liblapack3)';

/**
 * The SQLite vector engines the kiosk tests run on: sqlite-vec always; sqlite-vss where it loads (it needs the BLAS
 * and LAPACK libraries). A missing sqlite-vss is said plainly, and is a failure under CLOCKFACE_REQUIRE_SYSTEM_PARTS.
 */
export function sqliteEngines(): Array<Exclude<VectorEngineName, 'js'>> {
  const availability = availableEngines();
  const vss = availability.find((a) => a.engine === 'sqlite-vss');
  if (!vss?.available) {
    const why = `${VSS_PART} does not load: ${vss?.error ?? 'unknown'}`;
    if (requireSystemParts()) throw new Error(`CLOCKFACE_REQUIRE_SYSTEM_PARTS=1 but ${why}`);
    console.warn(`[clockface tests] ${why}; the sqlite-vss cases do not run here`);
  }
  return availability
    .filter((a): a is typeof a & { engine: Exclude<VectorEngineName, 'js'> } => a.available && a.engine !== 'js')
    .map((a) => a.engine);
}
