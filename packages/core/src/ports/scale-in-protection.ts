/**
 * Keeps the orchestrator from stopping this process while it holds work that would be lost or cut
 * (an open stream, a job task in hand). Holders nest: protection lasts while any hold is open.
 */
export interface ScaleInProtection {
  /** Returns the release function; calling it twice is harmless. */
  hold(reason: string): () => void;
  /** Drops every hold and turns protection off (at shutdown, when the work has drained). */
  close(): Promise<void>;
}

/** Outside an orchestrator that supports it, nothing to do. */
export const noScaleInProtection: ScaleInProtection = {
  hold: () => () => {},
  close: async () => {},
};
