/** The engines behind a {@link VectorIndex}; all of them are exact (flat / brute force), so they return the same hits. */
export type VectorEngineName = 'sqlite-vss' | 'sqlite-vec' | 'js';

export const VECTOR_ENGINES: readonly VectorEngineName[] = ['sqlite-vss', 'sqlite-vec', 'js'];

/**
 * Largest k a search accepts. sqlite-vec refuses k above 4096 ("k value in knn query too large"); the other
 * engines are held to the same limit so that callers cannot come to depend on one engine.
 */
export const MAX_K = 4096;

export interface VectorHit {
  templateId: number;
  /** Euclidean (L2) distance, not squared: the metric of the face model and of pgvector's `<->`. */
  distance: number;
}

export interface VectorRow {
  templateId: number;
  descriptor: Float32Array;
}

/**
 * A k-NN index over face templates, derived from the kiosk's canonical template table (see index.ts for why it is
 * derived). Every write is validated in full before anything is written. Searches see every change committed
 * through any VectorIndex on the same database file, from any connection.
 */
export interface VectorIndex {
  readonly engine: VectorEngineName;
  /** Why this engine: "requested", or for 'auto' which engine was tried first and why it was not taken. */
  readonly chosenBecause: string;
  /**
   * Replaces the whole index with `rows` (drained before anything is written, so it may iterate a statement on the
   * same connection). sqlite-vss builds aside and swaps at the end: searches never see a half-built index.
   */
  rebuild(rows: Iterable<VectorRow>): void;
  /** Adds rows; a row whose templateId is already indexed replaces it. */
  add(rows: readonly VectorRow[]): void;
  /** Removes these templates; ids that are not indexed are ignored. */
  remove(templateIds: readonly number[]): void;
  count(): number;
  /**
   * The k nearest templates by Euclidean distance, nearest first (ties by templateId). Refuses a descriptor of the
   * wrong length or with NaN/±Infinity (INVALID_DESCRIPTOR) and k outside 1..{@link MAX_K} (INVALID_ARGUMENT).
   */
  search(descriptor: Float32Array, k: number): VectorHit[];
  /** Releases what the index holds (sqlite-vss: its own connection). Never closes the caller's connection. */
  close(): void;
}

export interface OpenVectorIndexOptions {
  /** Prefix of the index's tables (lowercase letters, digits, underscores). Default `template_vectors`. */
  name?: string;
  /**
   * sqlite-vss only: rows per committed chunk. Default: grows with the index size (see `vssChunkRows`), because
   * inserts are quadratic inside one transaction and every commit rewrites the whole Faiss index.
   */
  vssChunkRows?: number;
}
