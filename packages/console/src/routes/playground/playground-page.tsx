import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ChatOutcome, streamChat } from '../../api/chat.ts';
import { useModels } from '../../api/models.ts';
import { useRoutes } from '../../api/routes.ts';
import type { Model } from '../../api/types.ts';
import { messageOf } from '../../lib/api-client.ts';
import {
  type ChatRequest,
  costOf,
  curlSnippet,
  openAiJsSnippet,
  openAiPythonSnippet,
  requestBody,
} from '../../lib/code-snippets.ts';
import { formatMs, formatNumber, formatUsd } from '../../lib/format.ts';
import { useLocation } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextArea, TextField } from '../../ui/field.tsx';
import { Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, ErrorState, InlineError, Spinner } from '../../ui/states.tsx';

interface Pane {
  id: number;
  target: string;
  text: string;
  running: boolean;
  outcome: ChatOutcome | null;
  error: string | null;
}

const defaultTarget = 'local/smollm2-135m-instruct';
let nextPaneId = 1;
const newPane = (target: string): Pane => ({
  id: nextPaneId++,
  target,
  text: '',
  running: false,
  outcome: null,
  error: null,
});

function Figures({ pane, model }: { pane: Pane; model: Model | undefined }) {
  const outcome = pane.outcome;
  if (!outcome) return null;
  const cost = outcome.usage ? costOf(outcome.usage, model?.pricing) : null;
  return (
    <dl className="props small" aria-label={`Figures for ${pane.target}`}>
      <dt>First token</dt>
      <dd>{formatMs(outcome.timeToFirstTokenMs)}</dd>
      <dt>Total</dt>
      <dd>{formatMs(outcome.latencyMs)}</dd>
      <dt>Tokens in / out</dt>
      <dd>
        {outcome.usage
          ? `${formatNumber(outcome.usage.inputTokens)} / ${formatNumber(outcome.usage.outputTokens)}`
          : '—'}
      </dd>
      {outcome.target && outcome.target.replace(/@\d+$/, '') !== pane.target ? (
        <>
          <dt>Answered by</dt>
          <dd className="mono">{outcome.target}</dd>
        </>
      ) : null}
      <dt>Cost</dt>
      <dd>{cost === null ? (model?.provider === 'local' ? '$0 (local)' : '—') : formatUsd(cost)}</dd>
    </dl>
  );
}

export function PlaygroundPage() {
  const { search } = useLocation();
  const models = useModels({ kind: 'chat' });
  const routes = useRoutes();
  const [panes, setPanes] = useState<Pane[]>(() => [newPane(search.get('model') ?? defaultTarget)]);
  const [system, setSystem] = useState('');
  const [message, setMessage] = useState('Write a haiku about orchestras.');
  const [temperature, setTemperature] = useState('0.7');
  const [maxTokens, setMaxTokens] = useState('128');
  const [topP, setTopP] = useState('');
  const [codeView, setCodeView] = useState<'off' | 'curl' | 'js' | 'python'>('off');
  const controllers = useRef(new Map<number, AbortController>());
  const stopAll = () => {
    for (const controller of controllers.current.values()) controller.abort();
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: on unmount only
  useEffect(() => () => stopAll(), []);

  const targets = [
    ...(models.data?.data ?? [])
      .filter((model) => model.status !== 'retired')
      .map((model) => ({ value: model.name, label: `${model.name} (model)` })),
    ...(routes.data?.data ?? []).map((route) => ({ value: route.name, label: `${route.name} (route)` })),
  ];
  // The chosen target stays listed even before the lists load (or if it is not a model).
  for (const pane of panes)
    if (!targets.some((target) => target.value === pane.target))
      targets.unshift({ value: pane.target, label: pane.target });

  const request = (target: string): ChatRequest => ({
    model: target,
    system,
    message,
    ...(temperature === '' ? {} : { temperature: Number(temperature) }),
    ...(maxTokens === '' ? {} : { maxTokens: Number(maxTokens) }),
    ...(topP === '' ? {} : { topP: Number(topP) }),
  });
  const update = (id: number, change: Partial<Pane>) =>
    setPanes((current) => current.map((pane) => (pane.id === id ? { ...pane, ...change } : pane)));

  const run = (pane: Pane) => {
    controllers.current.get(pane.id)?.abort();
    const controller = new AbortController();
    controllers.current.set(pane.id, controller);
    update(pane.id, { running: true, text: '', outcome: null, error: null });
    streamChat(requestBody(request(pane.target)), {
      signal: controller.signal,
      onText: (text) => update(pane.id, { text }),
    })
      .then((outcome) => update(pane.id, { outcome, running: false }))
      .catch((error: unknown) => {
        const aborted = error instanceof DOMException && error.name === 'AbortError';
        update(pane.id, { running: false, error: aborted ? 'Stopped.' : messageOf(error) });
      });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!message.trim()) return;
    for (const pane of panes) run(pane);
  };
  const running = panes.some((pane) => pane.running);
  const first = panes[0];
  const origin = location.origin;

  return (
    <>
      <PageHeader
        title="Playground"
        description="Chat with a model or a route, or with several side by side on the same prompt, streaming."
        actions={
          <SelectField
            label="View as code"
            value={codeView}
            onChange={(event) => setCodeView(event.target.value as typeof codeView)}
            options={[
              { value: 'off', label: 'Hidden' },
              { value: 'curl', label: 'curl' },
              { value: 'js', label: 'openai (JavaScript)' },
              { value: 'python', label: 'openai (Python)' },
            ]}
          />
        }
      />
      {models.error ? (
        <ErrorState error={models.error} onRetry={() => models.refetch()} title="Cannot list the chat models" />
      ) : null}
      <div className="stack">
        <Card>
          <form className="stack" onSubmit={submit} aria-label="Prompt">
            <TextArea
              label="System prompt"
              rows={2}
              placeholder="You are a helpful assistant."
              value={system}
              onChange={(event) => setSystem(event.target.value)}
            />
            <TextArea
              label="Message"
              rows={3}
              value={message}
              onChange={(event) => setMessage(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit(event);
              }}
              hint="Ctrl+Enter sends."
            />
            <div className="row" style={{ alignItems: 'flex-end' }}>
              <TextField
                label="Temperature"
                type="number"
                min="0"
                max="2"
                step="0.1"
                value={temperature}
                onChange={(event) => setTemperature(event.target.value)}
              />
              <TextField
                label="Max tokens"
                type="number"
                min="1"
                step="1"
                value={maxTokens}
                onChange={(event) => setMaxTokens(event.target.value)}
              />
              <TextField
                label="Top p"
                type="number"
                min="0"
                max="1"
                step="0.05"
                placeholder="default"
                value={topP}
                onChange={(event) => setTopP(event.target.value)}
              />
              <Button type="submit" variant="primary" disabled={running}>
                {panes.length > 1 ? `Send to ${panes.length}` : 'Send'}
              </Button>
              {running ? <Button onClick={() => stopAll()}>Stop</Button> : null}
              <Button
                disabled={panes.length >= 4}
                onClick={() => setPanes((current) => [...current, newPane(current[0]?.target ?? defaultTarget)])}
              >
                Add a model to compare
              </Button>
            </div>
          </form>
        </Card>
        {codeView !== 'off' && first ? (
          <Card title="The request as code">
            <pre data-testid="code-snippet">
              {codeView === 'curl'
                ? curlSnippet(request(first.target), origin)
                : codeView === 'js'
                  ? openAiJsSnippet(request(first.target), origin)
                  : openAiPythonSnippet(request(first.target), origin)}
            </pre>
          </Card>
        ) : null}
        {models.isPending ? <Spinner label="Loading chat models…" /> : null}
        {!models.isPending && targets.length === 0 ? (
          <EmptyState title="No chat models">Register one on the Models page.</EmptyState>
        ) : null}
        <div className="chat-columns">
          {panes.map((pane, index) => (
            <Card
              key={pane.id}
              title={`Answer ${index + 1}`}
              actions={
                panes.length > 1 ? (
                  <Button
                    variant="ghost"
                    aria-label={`Remove answer ${index + 1}`}
                    onClick={() => setPanes((current) => current.filter((item) => item.id !== pane.id))}
                  >
                    Remove
                  </Button>
                ) : null
              }
            >
              <div className="stack" data-testid={`pane-${index + 1}`}>
                <SelectField
                  label={`Model or route ${index + 1}`}
                  options={targets}
                  value={pane.target}
                  onChange={(event) => update(pane.id, { target: event.target.value })}
                />
                <div className="answer" aria-live="polite" aria-busy={pane.running} data-testid="answer">
                  {pane.text ||
                    (pane.running ? (
                      <span className="muted">Waiting for the first token…</span>
                    ) : (
                      <span className="muted">The answer streams here.</span>
                    ))}
                </div>
                <InlineError error={pane.error} />
                <Figures
                  pane={pane}
                  // A route's answer names the model that gave it: its pricing applies.
                  model={models.data?.data.find(
                    (model) => model.name === (pane.outcome?.target?.replace(/@\d+$/, '') ?? pane.target),
                  )}
                />
              </div>
            </Card>
          ))}
        </div>
      </div>
    </>
  );
}
