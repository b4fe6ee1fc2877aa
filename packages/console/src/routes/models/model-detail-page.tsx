import { type FormEvent, type ReactNode, useState } from 'react';
import {
  type InvokeResult,
  useDeployment,
  useInvokeModel,
  useModel,
  useModelHealth,
  useModelStatusHistory,
  useModelVersions,
  useMoveAlias,
} from '../../api/models.ts';
import type { Model } from '../../api/types.ts';
import { useUsageRecords } from '../../api/usage.ts';
import { formatAgo, formatMs, formatNumber, formatTime, formatUsd } from '../../lib/format.ts';
import { Link } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { TextArea } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { MoveAliasForm } from '../../ui/move-alias-form.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';

function Properties({ model }: { model: Model }) {
  const rows: Array<[string, ReactNode]> = [
    ['Kind', model.kind],
    ['Provider', model.provider],
    ["Provider's id", <code key="id">{model.providerModelId}</code>],
    ['Base URL', model.baseUrl ?? '—'],
    ['Credential', model.credential ?? '—'],
    ['Latest version', `v${model.latestVersion}`],
    [
      'Pricing (per 1M tokens)',
      model.pricing
        ? `${formatUsd(model.pricing.inputPerMillionTokens)} in · ${formatUsd(model.pricing.outputPerMillionTokens)} out`
        : model.provider === 'local'
          ? 'free (runs here)'
          : 'not set',
    ],
    ['Capabilities', <code key="caps">{JSON.stringify(model.capabilities)}</code>],
    ['Parameters', <code key="params">{JSON.stringify(model.parameters)}</code>],
    ['Tags', model.tags.join(', ') || '—'],
    ['Registered', formatTime(model.registeredAt)],
  ];
  return (
    <dl className="props">
      {rows.map(([label, value]) => (
        <div key={label} style={{ display: 'contents' }}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Versions({ model }: { model: Model }) {
  const versions = useModelVersions(model.name);
  const move = useMoveAlias(model.name);
  return (
    <Card title="Versions and aliases">
      <QueryState query={versions}>
        {(page) => (
          <div className="stack">
            <table aria-label="Versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Provider's id</th>
                  <th>Aliases</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((item) => (
                  <tr key={item.version}>
                    <td>v{item.version}</td>
                    <td className="mono">{item.providerModelId}</td>
                    <td>
                      {Object.entries(model.aliases)
                        .filter(([, target]) => target === item.version)
                        .map(([name]) => (
                          <Badge key={name} status="active">
                            {name}
                          </Badge>
                        ))}
                    </td>
                    <td className="small">
                      {formatTime(item.createdAt)} <span className="muted">by {item.createdBy}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <MoveAliasForm
              versions={page.data.map((item) => item.version)}
              initialVersion={model.latestVersion}
              aliases={Object.keys(model.aliases)}
              pattern="[a-z][a-z0-9\-]{0,62}"
              move={move}
            />
          </div>
        )}
      </QueryState>
    </Card>
  );
}

function Health({ model }: { model: Model }) {
  const health = useModelHealth(model.name);
  return (
    <Card title="Health">
      <QueryState query={health}>
        {(state) =>
          state.runtimes.length === 0 ? (
            <EmptyState title="Not deployed">Deploy it to load (local) or check (hosted) it.</EmptyState>
          ) : (
            <table aria-label="Runtime health">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Check</th>
                  <th className="num">Latency</th>
                  <th>Checked</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                {state.runtimes.map((runtime) => (
                  <tr key={runtime.version}>
                    <td>v{runtime.version}</td>
                    <td>
                      <Badge status={runtime.ok === null ? 'registered' : runtime.ok ? 'up' : 'down'}>
                        {runtime.ok === null ? 'not checked' : runtime.ok ? 'ok' : 'failing'}
                      </Badge>
                    </td>
                    <td className="num">{formatMs(runtime.latencyMs)}</td>
                    <td className="small">{formatAgo(runtime.checkedAt)}</td>
                    <td className="small">
                      {runtime.lastError ? (
                        <>
                          {runtime.lastError} <span className="muted">({formatAgo(runtime.lastErrorAt)})</span>
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
      <StatusHistory model={model} />
    </Card>
  );
}

/** Every status change with its reason: deploys, failed and recovered health checks, undeploys. */
function StatusHistory({ model }: { model: Model }) {
  const history = useModelStatusHistory(model.name, model.status);
  return (
    <div className="stack" style={{ marginTop: 12, gap: 6 }}>
      <h3 className="small muted">History</h3>
      <QueryState query={history}>
        {(page) =>
          page.data.length === 0 ? (
            <p className="muted small">No status changes yet.</p>
          ) : (
            <table aria-label="Status history">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Change</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((change) => (
                  <tr key={`${change.at}-${change.to}`}>
                    <td className="small">{formatTime(change.at)}</td>
                    <td>
                      <Badge status={change.from} /> → <Badge status={change.to} />
                    </td>
                    <td className="small">
                      {change.reason ?? '—'} <span className="muted">by {change.actor}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </div>
  );
}

function RecentUsage({ model }: { model: Model }) {
  const records = useUsageRecords({ requested: model.name, limit: 10 });
  return (
    <Card title="Recent calls">
      <QueryState query={records}>
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No calls yet" />
          ) : (
            <table aria-label="Recent calls">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Status</th>
                  <th className="num">Latency</th>
                  <th className="num">Tokens in / out</th>
                  <th className="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((record) => (
                  <tr key={record.eventId}>
                    <td className="small">{formatTime(record.ts)}</td>
                    <td>
                      <Badge status={record.status < 400 ? 'up' : 'down'}>{record.status}</Badge>
                    </td>
                    <td className="num">{formatMs(record.latencyMs)}</td>
                    <td className="num">
                      {formatNumber(record.inputTokens)} / {formatNumber(record.outputTokens)}
                    </td>
                    <td className="num">{formatUsd(record.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </Card>
  );
}

function TryIt({ model }: { model: Model }) {
  const invoke = useInvokeModel(model.name);
  const [text, setText] = useState(model.kind === 'chat' ? 'Say hello in one sentence.' : 'Bonjour tout le monde');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invoke.mutate(
      model.kind === 'chat'
        ? { messages: [{ role: 'user', content: text }], parameters: { maxTokens: 64 } }
        : { input: text },
    );
  };
  const result: InvokeResult | undefined = invoke.data;
  return (
    <Card title="Test it">
      <form className="stack" onSubmit={submit}>
        <TextArea
          label={model.kind === 'chat' ? 'Message' : 'Input'}
          rows={2}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <div className="row">
          <Button type="submit" variant="primary" busy={invoke.isPending}>
            Run
          </Button>
          {model.kind === 'chat' ? (
            <Link to={`/playground?model=${encodeURIComponent(model.name)}`}>Open in the Playground</Link>
          ) : null}
        </div>
      </form>
      <InlineError error={invoke.error} />
      {result ? (
        <div className="stack" style={{ marginTop: 12 }} data-testid="invoke-result">
          <div className="muted small">
            {formatMs(result.latencyMs)} · v{result.version}
            {result.usage ? ` · ${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens` : ''}
          </div>
          {result.message ? (
            <div className="answer">{result.message.content}</div>
          ) : result.embeddings ? (
            <pre>
              {result.embeddings.length} vector(s) of {result.dimensions} dimensions: [
              {result.embeddings[0]
                ?.slice(0, 8)
                .map((value) => value.toFixed(4))
                .join(', ')}
              , …]
            </pre>
          ) : (
            <pre>{JSON.stringify(result.results ?? result, null, 2)}</pre>
          )}
        </div>
      ) : null}
    </Card>
  );
}

export function ModelDetailPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const model = useModel(name);
  const deployment = useDeployment(name);
  return (
    <QueryState query={model} loadingLabel={`Loading ${name}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.name}
            description={current.description || undefined}
            actions={
              <>
                <Badge status={current.status} />
                {current.status === 'ready' || current.status === 'deploying' ? (
                  <Button busy={deployment.isPending} onClick={() => deployment.mutate('undeploy')}>
                    Undeploy
                  </Button>
                ) : (
                  <Button variant="primary" busy={deployment.isPending} onClick={() => deployment.mutate('deploy')}>
                    Deploy
                  </Button>
                )}
              </>
            }
          />
          <InlineError error={deployment.error} />
          <div className="grid grid-2">
            <Card title="Details">
              <Properties model={current} />
            </Card>
            <TryIt model={current} />
            <Versions model={current} />
            <Health model={current} />
          </div>
          <div style={{ marginTop: 16 }}>
            <RecentUsage model={current} />
          </div>
          <p className="small">
            <Link to="/models">← All models</Link>
          </p>
        </>
      )}
    </QueryState>
  );
}
