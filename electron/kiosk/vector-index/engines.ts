import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import * as sqliteVss from 'sqlite-vss';
import { ClockfaceError } from '../../../shared/errors.js';
import { VECTOR_ENGINES, type VectorEngineName } from './types.js';

export interface EngineAvailability {
  engine: VectorEngineName;
  available: boolean;
  /** The extension's own version string when it loaded. */
  version?: string;
  /** Why it did not load, with what to do about it when we know. */
  error?: string;
}

/** sqlite-vss fails with "vss0.so.so: cannot open shared object file" when only BLAS/LAPACK are missing. */
const VSS_HINT =
  'sqlite-vss needs the BLAS and LAPACK libraries (Debian/Ubuntu: apt-get install libblas3 liblapack3) and has no ' +
  'Windows build; sqlite-vec works everywhere';

/**
 * Loads sqlite-vss (vector0 + vss0) into `db`. Loading twice into one connection is harmless.
 *
 * Faiss runs its searches through OpenMP. On two busy cores (as on a kiosk, where the camera and the face model
 * compete) OpenMP's default of one thread per core made a single k=10 query far slower: 8.0 ms instead of 0.17 ms
 * at 10k rows and 8.0 ms instead of 2.5 ms at 100k (measured, load average ~2.6); one query at a time gains nothing
 * from more threads. OpenMP reads OMP_NUM_THREADS once, when the library is first loaded into the process, so it is
 * set (unless the operator set it) before that happens.
 */
export function loadVss(db: Database.Database): void {
  process.env['OMP_NUM_THREADS'] ??= '1';
  sqliteVss.load(db);
}

export function loadVec(db: Database.Database): void {
  sqliteVec.load(db);
}

function probe(engine: VectorEngineName): EngineAvailability {
  if (engine === 'js') return { engine, available: true, version: `node ${process.version}` };
  const db = new Database(':memory:');
  try {
    if (engine === 'sqlite-vss') {
      loadVss(db);
      const version = db.prepare<[], { v: string }>('SELECT vss_version() AS v').get()?.v;
      return { engine, available: true, version: version ?? 'unknown' };
    }
    loadVec(db);
    const version = db.prepare<[], { v: string }>('SELECT vec_version() AS v').get()?.v;
    return { engine, available: true, version: version ?? 'unknown' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { engine, available: false, error: engine === 'sqlite-vss' ? `${message} (${VSS_HINT})` : message };
  } finally {
    db.close();
  }
}

let probed: EngineAvailability[] | null = null;

/** Tries to load each engine once per process (a loaded shared library stays loaded anyway). */
export function availableEngines(): EngineAvailability[] {
  probed ??= VECTOR_ENGINES.map(probe);
  return probed.map((a) => ({ ...a }));
}

/** The engine to use and why: 'auto' takes sqlite-vss where it loads (Linux, macOS), else sqlite-vec. */
export function chooseEngine(requested: VectorEngineName | 'auto'): { engine: VectorEngineName; because: string } {
  const all = availableEngines();
  const of = (engine: VectorEngineName): EngineAvailability =>
    all.find((a) => a.engine === engine) ?? { engine, available: false, error: 'unknown engine' };
  if (requested !== 'auto') {
    const a = of(requested);
    if (!a.available) {
      throw new ClockfaceError('INVALID_ARGUMENT', `vector engine ${requested} is not available here: ${a.error ?? 'unknown error'}`);
    }
    return { engine: requested, because: `requested (${a.version ?? ''})` };
  }
  const vss = of('sqlite-vss');
  if (vss.available) return { engine: 'sqlite-vss', because: `auto: sqlite-vss loaded (${vss.version ?? ''})` };
  const vec = of('sqlite-vec');
  if (vec.available) {
    return { engine: 'sqlite-vec', because: `auto: sqlite-vss did not load (${vss.error ?? ''}); using sqlite-vec (${vec.version ?? ''})` };
  }
  return {
    engine: 'js',
    because: `auto: neither extension loaded (sqlite-vss: ${vss.error ?? ''}; sqlite-vec: ${vec.error ?? ''}); using the JS scan`,
  };
}
