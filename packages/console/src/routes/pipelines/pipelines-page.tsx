import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  type Pipeline,
  type Run,
  type RunStep,
  streamRun,
  useDeletePipelineAlias,
  useMovePipelineAlias,
  useNestedDefinitions,
  usePipeline,
  usePipelines,
  usePipelineVersion,
  useRun,
  useRuns,
  useSavePipeline,
  validateDefinition,
} from '../../api/pipelines.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { api, messageOf } from '../../lib/api-client.ts';
import { issuesByStep, type StepIssue } from '../../lib/definition-issues.ts';
import { formatMs, formatTime, formatUsd } from '../../lib/format.ts';
import { applyRunEvent, pipelineGraph, type StepState, statesFromTrace } from '../../lib/pipeline-graph.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextArea, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { MoveAliasForm } from '../../ui/move-alias-form.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';
import { PipelineGraphView } from './pipeline-graph-view.tsx';

const exampleDefinition = `# Steps run top to bottom; each one's result is named by its id.
input:
  type: object
  properties:
    text: { type: string }
  required: [text]
steps:
  - id: language
    kind: classify
    model: local/fasttext-lid-176
    input: input.text
  - id: answer
    kind: model
    model: local/smollm2-135m-instruct
    prompt: "Reply in one sentence: {{input.text}}"
    params: { maxTokens: 32 }
`;

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `Not valid JSON: ${messageOf(error)}` };
  }
}

/** The editor's text: YAML (JSON is YAML too); the definition must be a mapping with `steps`. */
function parseDefinition(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    const value: unknown = parseYaml(text);
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return { error: 'The definition is a mapping with `steps` (and optional `input`, `output`).' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { error: `Not valid YAML: ${messageOf(error)}` };
  }
}

/** Asks the API to check the draft once typing pauses; the issues come back placed on their steps. */
function useDraftValidation(name: string, definition: Record<string, unknown> | undefined) {
  const [result, setResult] = useState<{ issues: StepIssue[]; checked: boolean; error: unknown }>({
    issues: [],
    checked: false,
    error: null,
  });
  const draft = definition === undefined ? undefined : JSON.stringify(definition);
  useEffect(() => {
    if (draft === undefined) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const value = JSON.parse(draft) as Record<string, unknown>;
      validateDefinition(name.trim() || 'draft', value, controller.signal).then(
        (issues) => setResult({ issues: issuesByStep(value, issues), checked: true, error: null }),
        (error: unknown) => {
          if (!controller.signal.aborted) setResult({ issues: [], checked: false, error });
        },
      );
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [name, draft]);
  return result;
}

function IssueList({ issues }: { issues: StepIssue[] }) {
  return (
    <div role="alert" aria-label="Validation issues">
      <p className="inline-error small">
        {issues.length} issue{issues.length > 1 ? 's' : ''} found by the API:
      </p>
      <ul className="issue-list small">
        {issues.map((issue) => (
          <li key={`${issue.path}:${issue.field}:${issue.message}`}>
            {issue.path === null ? (
              <code>{issue.field}</code>
            ) : (
              <>
                step <code>{issue.path}</code>
                {issue.field ? (
                  <>
                    {' '}
                    · <code>{issue.field}</code>
                  </>
                ) : null}
              </>
            )}
            : {issue.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function PipelinesPage() {
  const pipelines = usePipelines();
  return (
    <>
      <PageHeader
        title="Pipelines"
        description="Steps over models, collections and code, versioned; run them and watch each step."
        actions={
          <Button variant="primary" onClick={() => navigate('/pipelines/new')}>
            New pipeline
          </Button>
        }
      />
      <Card>
        <QueryState query={pipelines} loadingLabel="Loading pipelines…">
          {(page) =>
            page.data.length === 0 ? (
              <EmptyState title="No pipelines yet">
                <Link to="/pipelines/new">Create one</Link>, or start Ensemble with <code>--examples</code> for four
                examples.
              </EmptyState>
            ) : (
              <table aria-label="Pipelines">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Latest version</th>
                    <th>Aliases</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((pipeline) => (
                    <tr key={pipeline.name}>
                      <td>
                        <Link to={`/pipelines/${encodeURIComponent(pipeline.name)}`} className="mono">
                          {pipeline.name}
                        </Link>
                        {pipeline.description ? <div className="muted small">{pipeline.description}</div> : null}
                      </td>
                      <td>v{pipeline.latestVersion}</td>
                      <td className="small">
                        {Object.entries(pipeline.aliases)
                          .map(([alias, version]) => `${alias} → v${version}`)
                          .join(', ') || '—'}
                      </td>
                      <td className="small">{formatTime(pipeline.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </QueryState>
      </Card>
    </>
  );
}

function DefinitionEditor({ name: initialName, initial, create }: { name: string; initial: string; create: boolean }) {
  const save = useSavePipeline();
  const [name, setName] = useState(initialName);
  const [text, setText] = useState(initial);
  const parsed = parseDefinition(text);
  const definition = 'value' in parsed ? parsed.value : undefined;
  const validation = useDraftValidation(name, definition);
  const steps = Array.isArray(definition?.steps) ? (definition.steps as Array<Record<string, unknown>>) : [];
  const nested = useNestedDefinitions(steps);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (definition === undefined) return;
    save.mutate(
      { name: name.trim(), definition, create },
      { onSuccess: (saved) => navigate(`/pipelines/${encodeURIComponent(saved.name)}`) },
    );
  };
  return (
    <form className="grid grid-2" onSubmit={submit} aria-label={create ? 'New pipeline' : 'Edit the definition'}>
      <div className="stack">
        {create ? (
          <TextField
            label="Pipeline name"
            required
            placeholder="qa"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        ) : null}
        <TextArea
          label="Definition (YAML)"
          hint="JSON works too. The API checks it as you type: models, collections, the paths each step reads."
          rows={18}
          className="mono"
          spellCheck={false}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        {'error' in parsed ? (
          <p className="inline-error" role="alert">
            {parsed.error}
          </p>
        ) : validation.issues.length ? (
          <IssueList issues={validation.issues} />
        ) : validation.checked ? (
          <p className="small" data-testid="definition-valid">
            <Badge status="up">valid</Badge> the API accepts this definition
          </p>
        ) : null}
        {validation.error ? <InlineError error={validation.error} /> : null}
        <InlineError error={save.error} />
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={'error' in parsed}>
            {create ? 'Create pipeline' : 'Save as a new version'}
          </Button>
        </div>
      </div>
      <div>
        <h2 className="small muted">Preview</h2>
        <PipelineGraphView nodes={pipelineGraph(steps, '', nested)} states={{}} issues={validation.issues} />
      </div>
    </form>
  );
}

export function NewPipelinePage() {
  return (
    <>
      <PageHeader
        title="New pipeline"
        description="Saved definitions are validated by the API: it names the step and field at fault."
      />
      <Card>
        <DefinitionEditor name="" initial={exampleDefinition} create />
      </Card>
    </>
  );
}

function RunPanel({ name, onStates }: { name: string; onStates: (states: Record<string, StepState>) => void }) {
  const client = useQueryClient();
  const [input, setInput] = useState('{\n  "text": "Bonjour tout le monde"\n}');
  const [running, setRunning] = useState(false);
  const [output, setOutput] = useState<unknown>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const run = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJson(input);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setRunning(true);
    setError(null);
    setOutput(undefined);
    let states: Record<string, StepState> = {};
    let finished: string | null = null;
    onStates(states);
    try {
      await streamRun(name, parsed.value, {
        signal: new AbortController().signal,
        onEvent: (runEvent) => {
          if (runEvent.type === 'run.started') setRunId(String(runEvent.runId));
          else if (runEvent.type === 'run.finished') {
            setOutput(runEvent.output);
            finished = String(runEvent.runId);
          } else if (runEvent.type === 'run.failed')
            setError(messageOf((runEvent.error as { message?: string }).message ?? runEvent.error));
          else {
            states = applyRunEvent(states, runEvent);
            onStates(states);
          }
        },
      });
      // The stream has no token counts: the stored trace adds them to the boxes.
      if (finished) {
        const trace = await api<Run>(`/api/runs/${encodeURIComponent(finished)}`).catch(() => undefined);
        if (trace?.steps) onStates(statesFromTrace(trace.steps));
      }
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setRunning(false);
      await client.invalidateQueries({ queryKey: queryKeys.pipelines.runs(name) });
    }
  };
  return (
    <form className="stack" onSubmit={run} aria-label="Run the pipeline">
      <TextArea
        label="Input (JSON)"
        rows={4}
        className="mono"
        value={input}
        onChange={(event) => setInput(event.target.value)}
      />
      <div className="row">
        <Button type="submit" variant="primary" busy={running}>
          Run
        </Button>
        {runId ? <Link to={`/runs/${runId}`}>Trace of {runId}</Link> : null}
      </div>
      <InlineError error={error} />
      {output !== undefined ? (
        <div className="stack" style={{ gap: 4 }}>
          <strong className="small">Output</strong>
          <pre data-testid="run-output">{typeof output === 'string' ? output : JSON.stringify(output, null, 2)}</pre>
        </div>
      ) : null}
    </form>
  );
}

export function PipelineDetailPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const pipeline = usePipeline(name);
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const version = usePipelineVersion(name, chosen ?? pipeline.data?.latestVersion);
  const runs = useRuns(name);
  const [states, setStates] = useState<Record<string, StepState>>({});
  const nested = useNestedDefinitions(version.data?.definition.steps ?? []);
  return (
    <QueryState query={pipeline} loadingLabel={`Loading ${name}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.name}
            description={current.description || undefined}
            actions={
              <SelectField
                label="Version"
                value={String(chosen ?? current.latestVersion)}
                onChange={(event) => setChosen(Number(event.target.value))}
                options={(current.versions ?? []).map((item) => ({
                  value: String(item.version),
                  label: `v${item.version}${Object.entries(current.aliases)
                    .filter(([, target]) => target === item.version)
                    .map(([alias]) => ` (${alias})`)
                    .join('')}`,
                }))}
              />
            }
          />
          <div className="stack">
            <div className="grid grid-2">
              <Card title="Graph">
                <QueryState query={version}>
                  {(definition) => (
                    <PipelineGraphView nodes={pipelineGraph(definition.definition.steps, '', nested)} states={states} />
                  )}
                </QueryState>
              </Card>
              <Card title="Run">
                <RunPanel name={current.name} onStates={setStates} />
              </Card>
            </div>
            <VersionsCard pipeline={current} />
            <Card title="Recent runs">
              <QueryState query={runs}>
                {(page) =>
                  page.data.length === 0 ? (
                    <EmptyState title="No runs yet" />
                  ) : (
                    <table aria-label="Runs">
                      <thead>
                        <tr>
                          <th>Run</th>
                          <th>Version</th>
                          <th>Status</th>
                          <th className="num">Latency</th>
                          <th className="num">Tokens</th>
                          <th className="num">Cost</th>
                          <th>Started</th>
                        </tr>
                      </thead>
                      <tbody>
                        {page.data.map((run) => (
                          <tr key={run.id}>
                            <td>
                              <Link to={`/runs/${run.id}`} className="mono">
                                {run.id}
                              </Link>
                            </td>
                            <td>v{run.version}</td>
                            <td>
                              <Badge status={run.status} />
                            </td>
                            <td className="num">{formatMs(run.latencyMs)}</td>
                            <td className="num">{run.inputTokens + run.outputTokens}</td>
                            <td className="num">{formatUsd(run.costUsd)}</td>
                            <td className="small">{formatTime(run.createdAt)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )
                }
              </QueryState>
            </Card>
            <Card title="Edit">
              <QueryState query={version}>
                {(definition) => (
                  <DefinitionEditor
                    key={definition.version}
                    name={current.name}
                    initial={toYaml(definition.definition)}
                    create={false}
                  />
                )}
              </QueryState>
            </Card>
          </div>
        </>
      )}
    </QueryState>
  );
}

const stepText = (value: unknown) =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 2);

/** The stored trace step by step, in the order the steps ran (nested ones indented under theirs). */
function TraceSteps({ steps }: { steps: RunStep[] }) {
  const rows: Array<{ step: RunStep; depth: number }> = [];
  const walk = (list: RunStep[], depth: number) => {
    for (const step of list) {
      rows.push({ step, depth });
      walk(step.steps ?? [], depth + 1);
    }
  };
  walk(steps, 0);
  if (rows.length === 0) return <EmptyState title="No steps recorded" />;
  return (
    <table aria-label="Trace steps">
      <thead>
        <tr>
          <th>Step</th>
          <th>Status</th>
          <th className="num">Latency</th>
          <th className="num">Tokens</th>
          <th>Output</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ step, depth }) => (
          <tr key={`${step.path}:${step.attempt}`} data-path={step.path}>
            <td style={{ paddingLeft: 8 + depth * 16 }}>
              <span className="mono">{step.path}</span>
              <div className="muted small">
                {step.kind}
                {step.model ? ` · ${step.model}` : ''}
                {step.attempt > 1 ? ` · attempt ${step.attempt}` : ''}
              </div>
            </td>
            <td>
              <Badge status={step.status} />
            </td>
            <td className="num">{formatMs(step.latencyMs)}</td>
            <td className="num">{step.inputTokens + step.outputTokens || '—'}</td>
            <td className="small">
              <details>
                <summary className="ellipsis step-summary">
                  {stepText(
                    step.error ? ((step.error as { message?: string }).message ?? step.error) : step.output,
                  ).slice(0, 80) || '—'}
                </summary>
                <div className="muted small">input</div>
                <pre>{stepText(step.input)}</pre>
                <div className="muted small">{step.error ? 'error' : 'output'}</div>
                <pre>{stepText(step.error ?? step.output)}</pre>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The versions, which aliases point where, and moving `production` / `staging` between them. */
function VersionsCard({ pipeline }: { pipeline: Pipeline }) {
  const move = useMovePipelineAlias(pipeline.name);
  const remove = useDeletePipelineAlias(pipeline.name);
  const versions = pipeline.versions ?? [];
  return (
    <Card title="Versions and aliases">
      <div className="stack">
        <table aria-label="Versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th>Description</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((item) => (
              <tr key={item.version}>
                <td>v{item.version}</td>
                <td>
                  <div className="row" style={{ gap: 4 }}>
                    {Object.entries(pipeline.aliases)
                      .filter(([, target]) => target === item.version)
                      .map(([alias]) => (
                        <span key={alias} className="row" style={{ gap: 2 }}>
                          <Badge status="active">{alias}</Badge>
                          <Button
                            variant="ghost"
                            className="small"
                            aria-label={`Delete the alias ${alias}`}
                            onClick={() => remove.mutate(alias)}
                          >
                            ×
                          </Button>
                        </span>
                      ))}
                  </div>
                </td>
                <td className="small">{item.description || '—'}</td>
                <td className="small">
                  {formatTime(item.createdAt)} <span className="muted">by {item.createdBy}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <MoveAliasForm
          versions={versions.map((item) => item.version)}
          initialVersion={pipeline.latestVersion}
          aliases={Object.keys(pipeline.aliases)}
          pattern="[a-z][a-z0-9_\-]{0,62}"
          move={move}
        />
        <InlineError error={remove.error} />
        <p className="muted small">
          Callers pick a version by alias: <code>{pipeline.name}:production</code>; a bare name runs the latest (or the
          rollout).
        </p>
      </div>
    </Card>
  );
}

/** One run: the graph lit from its stored trace, and every step's input and output. */
export function RunPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const run = useRun(id);
  const pipeline = run.data?.pipeline ?? '';
  const version = usePipelineVersion(pipeline, run.data?.version);
  const nested = useNestedDefinitions(version.data?.definition.steps ?? []);
  return (
    <QueryState query={run} loadingLabel={`Loading ${id}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.id}
            description={`${current.pipeline} v${current.version} · ${formatMs(current.latencyMs)} · ${current.inputTokens + current.outputTokens} tokens · ${formatUsd(current.costUsd)}`}
            actions={<Badge status={current.status} />}
          />
          <div className="grid grid-2">
            <Card title="Trace">
              {version.data ? (
                <PipelineGraphView
                  nodes={pipelineGraph(version.data.definition.steps, '', nested)}
                  states={statesFromTrace(current.steps ?? [])}
                />
              ) : null}
            </Card>
            <Card title="Input and output">
              <pre>{JSON.stringify(current.input, null, 2)}</pre>
              <pre style={{ marginTop: 8 }}>{JSON.stringify(current.output ?? current.error, null, 2)}</pre>
              <p className="small">
                <Link to={`/pipelines/${encodeURIComponent(current.pipeline)}`}>← {current.pipeline}</Link>
              </p>
            </Card>
          </div>
          <Card title="Steps" className="section">
            <TraceSteps steps={current.steps ?? []} />
          </Card>
        </>
      )}
    </QueryState>
  );
}
