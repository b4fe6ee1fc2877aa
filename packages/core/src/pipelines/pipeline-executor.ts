import { type Runnable, RunnableLambda, RunnableSequence } from '@langchain/core/runnables';
import { z } from 'zod';
import { EnsembleError } from '../errors/ensemble-error.ts';
import type { Clock } from '../ports/clock.ts';
import { concatAnswers, judgePrompt, majority, pickedIndex } from './aggregate-answers.ts';
import { outputKeyOf, type PipelineDefinition, type Step } from './pipeline-definition.ts';
import { compileExpression, renderTemplate, textOf } from './pipeline-expression.ts';
import type { PipelineLimits } from './pipeline-limits.ts';
import type {
  ModelCallUsage,
  PipelineHttp,
  PipelineMessage,
  PipelineModels,
  PipelineRetriever,
  PipelineSource,
} from './pipeline-ports.ts';
import type { RunJournal, StepRecord } from './run-journal.ts';
import type { StepCache } from './step-cache.ts';

/** What a running pipeline tells its caller, as it happens (the SSE stream of a run). */
export type PipelineEvent =
  | { type: 'step.started'; path: string; stepId: string; kind: Step['kind'] }
  | {
      type: 'step.finished';
      path: string;
      stepId: string;
      kind: Step['kind'];
      status: 'succeeded' | 'failed';
      latencyMs: number;
      attempt: number;
      output?: unknown;
      error?: { code: string; message: string };
      /** Taken from the run's checkpoint (the run was resumed), not run again. */
      resumed?: boolean;
      cached?: boolean;
    }
  | { type: 'step.retrying'; path: string; attempt: number; error: { code: string; message: string } }
  | { type: 'token'; path: string; delta: string };

export interface PipelineExecutorOptions {
  models?: PipelineModels | undefined;
  retriever?: PipelineRetriever | undefined;
  http?: PipelineHttp | undefined;
  pipelines?: PipelineSource | undefined;
  clock: Clock;
  limits: PipelineLimits;
  cache?: StepCache | undefined;
}

export interface RunRequest {
  projectId: string;
  runId: string;
  input: unknown;
  journal: RunJournal;
  /** Cancels the run (the client left, someone cancelled it). */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: PipelineEvent) => void) | undefined;
}

export interface RunResult {
  output: unknown;
  state: Record<string, unknown>;
}

/** What flows through a compiled sequence: the list's state and where the list sits in the run. */
interface Frame {
  values: Record<string, unknown>;
  run: RunContext;
  /** Path prefix of the list's steps (`''` at the top, `map[2]/` inside a map). */
  prefix: string;
  parentPath: string | null;
  depth: number;
  /** The last step's result. */
  last: unknown;
}

interface RunContext {
  request: RunRequest;
  signal: AbortSignal;
  /** Shared by every branch of the run. */
  counter: { stepRuns: number };
}

interface StepOutcome {
  output: unknown;
  input: unknown;
  usage?: ModelCallUsage | undefined;
}

type CompiledList = Runnable<Frame, Frame>;

/**
 * Runs pipeline definitions. A definition is compiled once into an LCEL `RunnableSequence` of
 * `RunnableLambda`s (one per step; branch cases, map bodies and parallel branches compile to their
 * own sequences), and the run is that sequence's `invoke`. Around each step: the checkpoint (a step
 * the journal already has as succeeded is not run again), the trace record, the attempt timeout,
 * retries, the fallback and the cache. Model calls go through `PipelineModels` (the registry's
 * runtimes); nothing here does I/O of its own.
 */
export class PipelineExecutor {
  readonly #options: PipelineExecutorOptions;
  readonly #compiled = new WeakMap<readonly Step[], CompiledList>();
  readonly #schemas = new WeakMap<object, z.ZodType>();
  readonly #singles = new WeakMap<Step, Step[]>();

  constructor(options: PipelineExecutorOptions) {
    this.#options = options;
  }

  /** The LCEL sequence of a list of steps (kept per list). */
  compile(steps: readonly Step[]): CompiledList {
    let compiled = this.#compiled.get(steps);
    if (compiled === undefined) {
      const lambdas = steps.map((step) =>
        RunnableLambda.from(async (frame: Frame): Promise<Frame> => {
          const output = await this.#runStep(step, frame);
          frame.values[outputKeyOf(step)] = output;
          frame.last = output;
          return frame;
        }),
      );
      compiled =
        lambdas.length === 1
          ? (lambdas[0] as CompiledList)
          : (RunnableSequence.from(
              lambdas as unknown as [CompiledList, ...CompiledList[], CompiledList],
            ) as CompiledList);
      this.#compiled.set(steps, compiled);
    }
    return compiled;
  }

  /** Runs a definition to its output; the input is checked against the definition's input schema first. */
  async run(definition: PipelineDefinition, request: RunRequest): Promise<RunResult> {
    const input = this.checkInput(definition, request.input);
    const { clock, limits } = this.#options;
    const timeoutMs = Math.min(definition.timeoutMs ?? limits.runTimeoutMs, limits.runTimeoutMs);
    const controller = new AbortController();
    const stop = new AbortController();
    const onAbort = () => controller.abort(request.signal?.reason ?? cancelled());
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) onAbort();
    clock.sleep(timeoutMs, stop.signal).then(
      () => controller.abort(new EnsembleError('timeout', `the run took longer than ${timeoutMs} ms (its timeout)`)),
      () => {},
    );
    try {
      const run: RunContext = { request, signal: controller.signal, counter: { stepRuns: 0 } };
      return await this.#runDefinition(definition, input, run, '', null, 0);
    } finally {
      stop.abort();
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  async #runDefinition(
    definition: PipelineDefinition,
    input: unknown,
    run: RunContext,
    prefix: string,
    parentPath: string | null,
    depth: number,
  ): Promise<RunResult> {
    const frame = await this.#runList(definition.steps, { input }, run, prefix, parentPath, depth);
    const output =
      definition.output === undefined
        ? frame.last
        : await compileExpression(definition.output, 'definition.output').evaluate(frame.values);
    return { output, state: frame.values };
  }

  #runList(
    steps: readonly Step[],
    values: Record<string, unknown>,
    run: RunContext,
    prefix: string,
    parentPath: string | null,
    depth: number,
  ): Promise<Frame> {
    if (depth > this.#options.limits.maxDepth) {
      throw new EnsembleError('validation_failed', `steps nest deeper than ${this.#options.limits.maxDepth} levels`);
    }
    const frame: Frame = { values, run, prefix, parentPath, depth, last: undefined };
    // No signal in the config: each step checks the run's signal itself and hands it to its calls,
    // which spares LangChain's race against the signal around every step (measured in bench/pipelines).
    return this.compile(steps).invoke(frame);
  }

  /** The input checked against the definition's input schema (400 naming the field), with its defaults. */
  checkInput(definition: PipelineDefinition, input: unknown): unknown {
    if (definition.input === undefined) return input;
    const schema = this.#schemaOf(definition.input);
    const checked = schema.safeParse(input);
    if (checked.success) return checked.data;
    const issue = checked.error.issues[0] as z.core.$ZodIssue;
    const field = ['input', ...issue.path.map(String)].join('.');
    throw new EnsembleError('validation_failed', `${field}: ${issue.message}`, { field });
  }

  #schemaOf(jsonSchema: Record<string, unknown>): z.ZodType {
    let schema = this.#schemas.get(jsonSchema);
    if (schema === undefined) {
      try {
        schema = z.fromJSONSchema(jsonSchema as never);
      } catch (error) {
        throw new EnsembleError(
          'validation_failed',
          `not a JSON Schema Ensemble can check: ${(error as Error).message}`,
          {
            retryable: false,
          },
        );
      }
      this.#schemas.set(jsonSchema, schema);
    }
    return schema;
  }

  /** One step with its checkpoint, trace, timeout, retries, fallback and cache. */
  async #runStep(step: Step, frame: Frame): Promise<unknown> {
    const { run } = frame;
    const { journal, onEvent } = run.request;
    const path = `${frame.prefix}${step.id}`;
    const done = journal.finished(path);
    if (done !== undefined) {
      onEvent?.({
        type: 'step.finished',
        path,
        stepId: step.id,
        kind: step.kind,
        status: 'succeeded',
        latencyMs: done.latencyMs,
        attempt: done.attempt,
        output: done.output,
        resumed: true,
      });
      return done.output;
    }
    run.signal.throwIfAborted();
    run.counter.stepRuns += 1;
    if (run.counter.stepRuns > this.#options.limits.maxStepRuns) {
      throw new EnsembleError(
        'validation_failed',
        `step '${path}': the run has made more than ${this.#options.limits.maxStepRuns} step runs (its limit)`,
        { retryable: false },
      );
    }
    const { clock } = this.#options;
    const started = clock.now();
    const record: StepRecord = {
      path,
      parentPath: frame.parentPath,
      stepId: step.id,
      kind: step.kind,
      status: 'running',
      attempt: 0,
      input: null,
      output: null,
      model: null,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: null,
      latencyMs: 0,
      error: null,
      startedAt: new Date(started).toISOString(),
      finishedAt: null,
      cached: false,
    };
    await journal.stepStarted(record);
    onEvent?.({ type: 'step.started', path, stepId: step.id, kind: step.kind });

    const cacheKey =
      step.cache === undefined || this.#options.cache === undefined ? undefined : cacheKeyOf(step, frame);
    const hit = cacheKey === undefined ? undefined : this.#options.cache?.get(cacheKey, clock.now());
    let failure: unknown;
    let outcome: StepOutcome | undefined;
    if (hit !== undefined) {
      outcome = { output: hit.value, input: null };
      record.cached = true;
      record.attempt = 1;
    } else {
      const maxAttempts = step.retry?.maxAttempts ?? 1;
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        record.attempt = attempt;
        try {
          outcome = await this.#attempt(step, frame, path);
          failure = undefined;
          break;
        } catch (error) {
          failure = error;
          if (attempt === maxAttempts || run.signal.aborted || !retryable(error)) break;
          onEvent?.({ type: 'step.retrying', path, attempt, error: errorOf(error) });
          if ((step.retry?.delayMs ?? 0) > 0) await clock.sleep(step.retry?.delayMs ?? 0, run.signal);
        }
      }
      if (outcome !== undefined && cacheKey !== undefined && step.cache !== undefined) {
        this.#options.cache?.set(cacheKey, outcome.output, step.cache.ttlMs, clock.now());
      }
    }

    if (outcome === undefined && step.fallback !== undefined && !run.signal.aborted) {
      const fallbackFrame: Frame = { ...frame, prefix: `${path}~`, parentPath: path, last: undefined };
      try {
        const output = await this.#runStep(step.fallback, fallbackFrame);
        outcome = { output, input: { fallback: step.fallback.id } };
      } catch (error) {
        failure = error;
      }
    }

    record.latencyMs = round(clock.now() - started);
    record.finishedAt = new Date(clock.now()).toISOString();
    if (outcome !== undefined) {
      record.status = 'succeeded';
      record.output = outcome.output;
      record.input = outcome.input;
      if (failure === undefined && outcome.usage !== undefined) applyUsage(record, outcome.usage);
      await journal.stepFinished(record);
      onEvent?.({
        type: 'step.finished',
        path,
        stepId: step.id,
        kind: step.kind,
        status: 'succeeded',
        latencyMs: record.latencyMs,
        attempt: record.attempt,
        output: outcome.output,
        ...(record.cached ? { cached: true } : {}),
      });
      return outcome.output;
    }
    const error = stepError(path, failure);
    record.status = 'failed';
    record.error = errorOf(error);
    const usage = (failure as { usage?: ModelCallUsage } | undefined)?.usage;
    if (usage !== undefined) applyUsage(record, usage);
    await journal.stepFinished(record);
    onEvent?.({
      type: 'step.finished',
      path,
      stepId: step.id,
      kind: step.kind,
      status: 'failed',
      latencyMs: record.latencyMs,
      attempt: record.attempt,
      error: record.error,
    });
    throw error;
  }

  /** One attempt, bounded by the step's timeout. */
  async #attempt(step: Step, frame: Frame, path: string): Promise<StepOutcome> {
    if (step.timeoutMs === undefined) return this.#execute(step, frame, path, frame.run.signal);
    const controller = new AbortController();
    const stopTimer = new AbortController();
    const onAbort = () => controller.abort(frame.run.signal.reason);
    frame.run.signal.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = step.timeoutMs;
    const timedOut = this.#options.clock.sleep(timeoutMs, stopTimer.signal).then(() => {
      const error = new EnsembleError('timeout', `step '${path}' took longer than ${timeoutMs} ms (its timeout)`);
      controller.abort(error);
      throw error;
    });
    timedOut.catch(() => {});
    try {
      return await Promise.race([this.#execute(step, frame, path, controller.signal), timedOut]);
    } finally {
      stopTimer.abort();
      frame.run.signal.removeEventListener('abort', onAbort);
    }
  }

  async #execute(step: Step, frame: Frame, path: string, signal: AbortSignal): Promise<StepOutcome> {
    const { values, run } = frame;
    const { projectId, runId } = run.request;
    const requestId = `${runId}:${path}`;
    switch (step.kind) {
      case 'prompt': {
        const text = renderTemplate(step.template, values);
        return { output: text, input: null };
      }
      case 'model': {
        const messages = await this.#messages(step, values, path);
        const onEvent = run.request.onEvent;
        const answer = await this.#models(path).chat({
          projectId,
          model: step.model,
          messages,
          params: step.params ?? {},
          json: step.schema !== undefined,
          signal,
          requestId,
          onToken: onEvent === undefined ? undefined : (delta) => onEvent({ type: 'token', path, delta }),
        });
        const output =
          step.schema === undefined ? answer.text : this.#structured(step.schema, answer.text, path, answer.usage);
        return { output, input: { messages }, usage: answer.usage };
      }
      case 'embed': {
        const input = await compileExpression(step.input, `${path}.input`).evaluate(values);
        const texts = Array.isArray(input) ? input.map(textOf) : [textOf(input)];
        const answer = await this.#models(path).embed({ projectId, model: step.model, texts, signal, requestId });
        return {
          output: Array.isArray(input) ? answer.vectors : answer.vectors[0],
          input: { texts },
          usage: answer.usage,
        };
      }
      case 'retrieve': {
        const retriever = this.#options.retriever;
        if (retriever === undefined)
          throw new EnsembleError('validation_failed', `step '${path}': no collections here`);
        const query = textOf(await compileExpression(step.query, `${path}.query`).evaluate(values));
        const documents = await retriever.retrieve({
          projectId,
          collection: step.collection,
          query,
          topK: step.topK,
          filter: step.filter,
          signal,
        });
        return { output: documents, input: { query, collection: step.collection, topK: step.topK } };
      }
      case 'classify': {
        const text = textOf(await compileExpression(step.input, `${path}.input`).evaluate(values));
        const answer = await this.#models(path).classify({ projectId, model: step.model, text, signal, requestId });
        const top = answer.labels[0];
        return {
          output: { label: top?.label ?? null, score: top?.score ?? null, labels: answer.labels.slice(0, 5) },
          input: { text },
          usage: answer.usage,
        };
      }
      case 'branch': {
        const value = await compileExpression(step.on, `${path}.on`).evaluate(values);
        const key =
          typeof value === 'object' && value !== null && 'label' in value ? String(value.label) : textOf(value);
        const steps = step.cases[key] ?? step.default;
        if (steps === undefined) {
          throw new EnsembleError(
            'validation_failed',
            `step '${path}': no case for '${key}' and no default (cases: ${Object.keys(step.cases).join(', ')})`,
            { retryable: false },
          );
        }
        const inner = await this.#runList(steps, { ...values }, run, `${path}/`, path, frame.depth + 1);
        return { output: inner.last, input: { on: key, case: key in step.cases ? key : 'default' } };
      }
      case 'parallel':
        return this.#parallel(step, frame, path, signal);
      case 'map':
        return this.#map(step, frame, path);
      case 'transform': {
        const output = await compileExpression(step.expression, `${path}.expression`).evaluate(values);
        return { output, input: null };
      }
      case 'http': {
        const http = this.#options.http;
        const refusal = http === undefined ? 'http steps are not enabled' : http.refusal(step.url);
        if (http === undefined || refusal !== undefined) {
          throw new EnsembleError('forbidden', `step '${path}': ${refusal}`, { retryable: false });
        }
        const body =
          step.body === undefined ? undefined : await compileExpression(step.body, `${path}.body`).evaluate(values);
        const output = await http.request({ url: step.url, method: step.method ?? 'GET', body, signal });
        return { output, input: { url: step.url, method: step.method ?? 'GET' } };
      }
      case 'pipeline': {
        const source = this.#options.pipelines;
        const resolved = source === undefined ? undefined : await source.resolve(projectId, step.pipeline);
        if (resolved === undefined) {
          throw new EnsembleError('not_found', `step '${path}': pipeline '${step.pipeline}' does not exist`);
        }
        const input =
          step.input === undefined
            ? values.input
            : await compileExpression(step.input, `${path}.input`).evaluate(values);
        const checked = this.checkInput(resolved.definition, input);
        const result = await this.#runDefinition(resolved.definition, checked, run, `${path}/`, path, frame.depth + 1);
        return { output: result.output, input: { pipeline: `${resolved.name}@${resolved.version}` } };
      }
    }
  }

  async #messages(step: Extract<Step, { kind: 'model' }>, values: Record<string, unknown>, path: string) {
    const messages: PipelineMessage[] = [];
    let system = step.system === undefined ? undefined : renderTemplate(step.system, values);
    if (step.schema !== undefined) {
      const asked = `Answer with JSON only, matching this JSON Schema: ${JSON.stringify(step.schema)}`;
      system = system === undefined ? asked : `${system}\n\n${asked}`;
    }
    if (system !== undefined) messages.push({ role: 'system', content: system });
    if (step.prompt !== undefined) {
      messages.push({ role: 'user', content: renderTemplate(step.prompt, values) });
      return messages;
    }
    const input = await compileExpression(step.input as string, `${path}.input`).evaluate(values);
    if (Array.isArray(input)) {
      for (const [index, message] of input.entries()) {
        const role = (message as { role?: unknown })?.role;
        const content = (message as { content?: unknown })?.content;
        if ((role !== 'system' && role !== 'user' && role !== 'assistant') || typeof content !== 'string') {
          throw new EnsembleError(
            'validation_failed',
            `step '${path}': input[${index}] is not a message ({role: system|user|assistant, content: string})`,
            { retryable: false },
          );
        }
        messages.push({ role, content });
      }
    } else {
      messages.push({ role: 'user', content: textOf(input) });
    }
    return messages;
  }

  /** A structured answer: the first JSON object in the text, checked against the step's schema. */
  #structured(schema: Record<string, unknown>, text: string, path: string, usage: ModelCallUsage): unknown {
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    let parsed: unknown;
    try {
      parsed = start >= 0 && end > start ? JSON.parse(text.slice(start, end + 1)) : undefined;
    } catch {
      parsed = undefined;
    }
    const checked = parsed === undefined ? undefined : this.#schemaOf(schema).safeParse(parsed);
    if (checked?.success === true) return checked.data;
    const reason = checked === undefined ? 'no JSON object' : (checked.error.issues[0]?.message ?? 'does not match');
    // Retryable: the model may well answer better on another try.
    const error = new EnsembleError(
      'upstream_error',
      `step '${path}': the model's answer does not match the step's schema (${reason})`,
      { retryable: true },
    );
    Object.assign(error, { usage });
    throw error;
  }

  async #parallel(
    step: Extract<Step, { kind: 'parallel' }>,
    frame: Frame,
    path: string,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const { run } = frame;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const branchRun: RunContext = { ...run, signal: controller.signal };
    const runBranch = async (branch: Step) =>
      (await this.#runList(this.#listOf(branch), { ...frame.values }, branchRun, `${path}/`, path, frame.depth + 1))
        .last;
    const { strategy } = step.aggregate;
    try {
      if (strategy === 'fastest') {
        const output = await Promise.any(step.branches.map((branch) => runBranch(branch)));
        controller.abort(new EnsembleError('timeout', 'another branch answered first'));
        return { output, input: { strategy } };
      }
      if (strategy === 'concat') {
        const outputs = await Promise.all(step.branches.map((branch) => runBranch(branch)));
        return { output: concatAnswers(outputs), input: { strategy } };
      }
      const settled = await Promise.allSettled(step.branches.map((branch) => runBranch(branch)));
      const outputs = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      if (outputs.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
      if (strategy === 'first-success') return { output: outputs[0], input: { strategy } };
      if (strategy === 'vote') {
        const { winner, votes } = majority(outputs);
        return { output: winner, input: { strategy, votes } };
      }
      const mode = step.aggregate.mode ?? 'pick';
      const prompt = judgePrompt(frame.values.input, outputs, mode, step.aggregate.instruction);
      const answer = await this.#models(path).chat({
        projectId: run.request.projectId,
        model: step.aggregate.model as string,
        messages: [{ role: 'user', content: prompt }],
        params: mode === 'pick' ? { temperature: 0, maxTokens: 8 } : {},
        json: false,
        signal,
        requestId: `${run.request.runId}:${path}`,
      });
      const output = mode === 'pick' ? outputs[pickedIndex(answer.text, outputs.length)] : answer.text;
      return { output, input: { strategy, mode, judged: answer.text }, usage: answer.usage };
    } catch (error) {
      throw error instanceof AggregateError ? (error.errors[0] ?? error) : error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #map(step: Extract<Step, { kind: 'map' }>, frame: Frame, path: string): Promise<StepOutcome> {
    const { run } = frame;
    const items = await compileExpression(step.over, `${path}.over`).evaluate(frame.values);
    if (!Array.isArray(items)) {
      throw new EnsembleError('validation_failed', `step '${path}': over gave ${typeof items}, not a list`, {
        retryable: false,
      });
    }
    const { maxMapItems } = this.#options.limits;
    if (items.length > maxMapItems) {
      throw new EnsembleError('validation_failed', `step '${path}': ${items.length} items; at most ${maxMapItems}`, {
        retryable: false,
      });
    }
    const as = step.as ?? 'item';
    const outputs: unknown[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        const values = { ...frame.values, [as]: items[index], index };
        const inner = await this.#runList(step.steps, values, run, `${path}[${index}]/`, path, frame.depth + 1);
        outputs[index] = inner.last;
      }
    };
    const concurrency = Math.min(step.concurrency ?? 4, this.#options.limits.maxFanOut, Math.max(items.length, 1));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { output: outputs, input: { items: items.length, concurrency } };
  }

  #models(path: string): PipelineModels {
    const models = this.#options.models;
    if (models === undefined) throw new EnsembleError('validation_failed', `step '${path}': no models here`);
    return models;
  }

  /** A parallel branch as a list of one, the same array each time (so its compiled sequence is reused). */
  #listOf(step: Step): Step[] {
    let list = this.#singles.get(step);
    if (list === undefined) {
      list = [step];
      this.#singles.set(step, list);
    }
    return list;
  }
}

function applyUsage(record: StepRecord, usage: ModelCallUsage): void {
  record.model = usage.model;
  record.inputTokens += usage.inputTokens;
  record.outputTokens += usage.outputTokens;
  record.costUsd = usage.costUsd === null ? record.costUsd : (record.costUsd ?? 0) + usage.costUsd;
}

function cacheKeyOf(step: Step, frame: Frame): string {
  return `${JSON.stringify(step)}\u0000${JSON.stringify(frame.values)}`;
}

function retryable(error: unknown): boolean {
  return EnsembleError.isInstance(error) ? error.retryable : true;
}

function cancelled(): EnsembleError {
  return new EnsembleError('request_timeout', 'the run was cancelled', { retryable: false });
}

export function errorOf(error: unknown): { code: string; message: string } {
  if (EnsembleError.isInstance(error)) return { code: error.code, message: error.message };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

/** A step's failure, naming the step (once: a failure inside a branch is named by its own path). */
function stepError(path: string, error: unknown): EnsembleError {
  if (EnsembleError.isInstance(error) && typeof error.details?.step === 'string') return error;
  if (EnsembleError.isInstance(error)) {
    const message = error.message.startsWith(`step '${path}'`)
      ? error.message
      : `step '${path}' failed: ${error.message}`;
    return new EnsembleError(error.code, message, {
      cause: error,
      retryable: error.retryable,
      details: { ...error.details, step: path },
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
  return new EnsembleError('internal_error', `step '${path}' failed: ${errorOf(error).message}`, {
    cause: error,
    details: { step: path },
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
