/** One call of one item, as the job's target and the item's request body say. */
export interface JobModelCall {
  projectId: string;
  /** `name@version`: the model the job was pinned to; with `route`, the route's name. */
  model: string;
  /** The route version the job was pinned to: the item runs through its policy (fallbacks, retries, splits). */
  route?: { name: string; version: number };
  operation: 'chat' | 'embeddings';
  /** The request body without `model`. */
  body: Record<string, unknown>;
  /** Aborted when the item's timeout passes or the worker gives the task back. */
  signal: AbortSignal;
  /** For the usage ledger: the item (`<jobId>:<index>`, its request id there) and the API key that submitted the job. */
  usage?: { requestId: string; keyId: string | null };
}

export interface JobModelAnswer {
  /** The answer in OpenAI's shape (`chat.completion`, an embedding list), parsed. */
  output: Record<string, unknown>;
  inputTokens: number;
  outputTokens: number;
  /** From the model version's pricing; null when it has none. */
  costUsd: number | null;
}

/**
 * How a worker calls the model of a job item. The composition root wires the gateway's call path
 * (the pass-through for OpenAI-wire upstreams, LangChain for the rest) over the model runtimes; a
 * failure is an `EnsembleError` whose `retryable` says whether another attempt may help. A call
 * with `route` runs through that route version's policy, as `/v1` runs a route.
 * Each call (every attempt) may leave one usage event, as a `/v1` call does.
 */
export interface JobModelCaller {
  call(call: JobModelCall): Promise<JobModelAnswer>;
}

/** One item of a `pipeline-run` job: a run of the pinned pipeline version on the item's input. */
export interface JobPipelineRun {
  projectId: string;
  pipeline: { name: string; version: number };
  input: unknown;
  /**
   * The job and item, recorded on the run (`source: job`); with the job's round (retry-failed
   * generation) and the item's attempt they key the run, so a task delivered again after a crash
   * finds the run its first delivery started instead of starting a second one.
   */
  job: { id: string; item: number; round: number; attempt: number };
  /** The API key that submitted the job (the run's key). */
  keyId: string | null;
  /** Aborted when the item's timeout passes or the worker gives the task back: the run stops. */
  signal: AbortSignal;
  /**
   * Aborted when the worker gives the task back (shutdown, rebalance): the stopped run is then not
   * ended but let go (its lease released), for the task's next delivery to take it over from its
   * checkpoints.
   */
  handBack?: AbortSignal | undefined;
}

/**
 * How a worker runs the pipeline of a `pipeline-run` item: starts a run (recorded and traced like any
 * other) and waits for it. The answer's output is `{runId, output}`; its tokens and cost are the run's
 * totals. A failed run is an `EnsembleError` naming the step, retryable when that step's error was.
 */
export interface JobPipelineRunner {
  run(run: JobPipelineRun): Promise<JobModelAnswer>;
}
