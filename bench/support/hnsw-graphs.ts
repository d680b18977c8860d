import { InvalidArgumentError } from 'commander';

/** An hnsw graph the central suite builds: pgvector's `m` and `ef_construction`. */
export interface HnswGraph {
  m: number;
  efConstruction: number;
}

/** Central's own index (resources/sql/central/0010_init.sql): the graph the central suite measures by default. */
export const CENTRAL_HNSW_GRAPH: HnswGraph = { m: 16, efConstruction: 64 };

/** `--hnsw 16:64,32:128` → graphs. pgvector allows m 2–100 and ef_construction 4–1000, at least 2 × m. */
export function parseHnswGraphs(text: string): HnswGraph[] {
  return text.split(',').map((pair) => {
    const match = /^(\d+):(\d+)$/.exec(pair.trim());
    const m = Number(match?.[1]);
    const efConstruction = Number(match?.[2]);
    if (!match || m < 2 || m > 100 || efConstruction < 2 * m || efConstruction > 1000) {
      throw new InvalidArgumentError(`"${pair}" is not M:EF_CONSTRUCTION with 2 ≤ M ≤ 100 and 2·M ≤ EF_CONSTRUCTION ≤ 1000`);
    }
    return { m, efConstruction };
  });
}
