import { InvalidArgumentError } from 'commander';

/**
 * An hnsw graph the central suite builds: pgvector's `m` and `ef_construction`, over the full `vector(128)` or over
 * `halfvec(128)` (pgvector ≥ 0.7: 16-bit floats, half the index's memory and bandwidth), whose candidates are then
 * re-ranked by the exact distance on the full vector.
 */
export interface HnswGraph {
  m: number;
  efConstruction: number;
  halfvec: boolean;
}

/** Central's own index (resources/sql/central): the graph the central suite measures by default. */
export const CENTRAL_HNSW_GRAPH: HnswGraph = { m: 16, efConstruction: 64, halfvec: false };

/** How a graph is named in the results: `hnsw m=32 ef_construction=128` or `hnsw halfvec m=32 …`. */
export function describeGraph(graph: HnswGraph): string {
  return `hnsw${graph.halfvec ? ' halfvec' : ''} m=${graph.m} ef_construction=${graph.efConstruction}`;
}

/**
 * `--hnsw 16:64,32:128,32:128h` → graphs (`h`: over halfvec). pgvector allows m 2–100 and ef_construction 4–1000, at
 * least 2 × m.
 */
export function parseHnswGraphs(text: string): HnswGraph[] {
  return text.split(',').map((pair) => {
    const match = /^(\d+):(\d+)(h?)$/.exec(pair.trim());
    const m = Number(match?.[1]);
    const efConstruction = Number(match?.[2]);
    if (!match || m < 2 || m > 100 || efConstruction < 2 * m || efConstruction > 1000) {
      throw new InvalidArgumentError(
        `"${pair}" is not M:EF_CONSTRUCTION (h for halfvec) with 2 ≤ M ≤ 100 and 2·M ≤ EF_CONSTRUCTION ≤ 1000`,
      );
    }
    return { m, efConstruction, halfvec: match[3] === 'h' };
  });
}
