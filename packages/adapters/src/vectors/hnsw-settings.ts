/** The HNSW graph's build and search settings (hnswlib's names). */
export interface HnswSettings {
  /** Links per node. */
  m: number;
  /** Candidate list size while inserting. */
  efConstruction: number;
  /** Candidate list size while searching (raised to topK when smaller). */
  efSearch: number;
  /**
   * A filtered query whose matches (estimated from a sample) are at most this many is answered by exact
   * search over them (always the true topK); above it the graph is searched with the filter evaluated
   * on the nodes it visits, and the exact search answers instead if the graph comes back short.
   */
  exactSearchMaxMatches: number;
}

export const defaultHnswSettings: HnswSettings = {
  m: 16,
  efConstruction: 200,
  efSearch: 64,
  exactSearchMaxMatches: 2_000,
};
