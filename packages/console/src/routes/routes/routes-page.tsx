import { type FormEvent, useState } from 'react';
import { useRoute, useRoutes, useSaveRoute } from '../../api/routes.ts';
import { useUsageRecords } from '../../api/usage.ts';
import { formatMs, formatTime } from '../../lib/format.ts';
import { parsePolicyText, policyView } from '../../lib/policy-tree.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { AttemptTrace } from '../../ui/attempt-trace.tsx';
import { Button } from '../../ui/button.tsx';
import { TextArea, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';
import { PolicyTree } from './policy-tree.tsx';

const example = JSON.stringify({ strategy: 'fallback', targets: ['local/smollm2-135m-instruct'] }, null, 2);

/** The policy as JSON text, checked as it is typed and drawn beside it; the API validates on save. */
function PolicyEditor({
  name: initialName,
  initial,
  description: initialDescription,
  create,
}: {
  name: string;
  initial: string;
  description: string;
  create: boolean;
}) {
  const save = useSaveRoute();
  const [name, setName] = useState(initialName);
  const [text, setText] = useState(initial);
  const [description, setDescription] = useState(initialDescription);
  const parsed = parsePolicyText(text);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if ('error' in parsed) return;
    save.mutate(
      { name: name.trim(), policy: parsed.policy, description, create },
      { onSuccess: (route) => navigate(`/routes/${route.name}`) },
    );
  };
  return (
    <form className="grid grid-2" onSubmit={submit} aria-label={create ? 'New route' : 'Edit the policy'}>
      <div className="stack">
        {create ? (
          <TextField
            label="Route name"
            required
            placeholder="chat"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        ) : null}
        <TextArea
          label="Policy (JSON)"
          rows={14}
          className="mono"
          spellCheck={false}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <TextField label="Description" value={description} onChange={(event) => setDescription(event.target.value)} />
        {'error' in parsed ? (
          <p className="inline-error" role="alert">
            {parsed.error}
          </p>
        ) : null}
        <InlineError error={save.error} />
        <div className="row">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={'error' in parsed}>
            {create ? 'Create route' : 'Save as a new version'}
          </Button>
        </div>
      </div>
      <div>
        <h2 className="small muted">Preview</h2>
        {'policy' in parsed ? (
          <PolicyTree view={policyView(parsed.policy)} label="Policy preview" />
        ) : (
          <p className="muted">Fix the JSON to see the tree.</p>
        )}
      </div>
    </form>
  );
}

function RecentTraffic({ name }: { name: string }) {
  const records = useUsageRecords({ route: name, limit: 10 });
  return (
    <Card title="Recent requests through this route">
      <QueryState query={records}>
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No requests yet" />
          ) : (
            <table aria-label="Recent route requests">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Answered by</th>
                  <th>Status</th>
                  <th className="num">Latency</th>
                  <th>Attempts</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((record) => (
                  <tr key={record.eventId}>
                    <td className="small">{formatTime(record.ts)}</td>
                    <td className="mono small">{record.target ?? '—'}</td>
                    <td>
                      <Badge status={record.status < 400 ? 'up' : 'down'}>{record.status}</Badge>
                    </td>
                    <td className="num">{formatMs(record.latencyMs)}</td>
                    <td>
                      {record.trace?.length ? (
                        <AttemptTrace attempts={record.trace} label={`Attempts of ${record.requestId}`} />
                      ) : (
                        record.attempts
                      )}
                    </td>
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

export function RouteDetailPage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const route = useRoute(name);
  return (
    <QueryState query={route} loadingLabel={`Loading ${name}…`}>
      {(current) => (
        <>
          <PageHeader
            title={current.name}
            description={current.current.description || `Version ${current.currentVersion} of ${current.latestVersion}`}
            actions={<Badge status={current.status} />}
          />
          <div className="stack">
            <Card title={`Policy — v${current.currentVersion}`}>
              <PolicyTree view={policyView(current.current.policy)} />
            </Card>
            <Card title="Edit">
              <PolicyEditor
                key={current.currentVersion}
                name={current.name}
                initial={JSON.stringify(current.current.policy, null, 2)}
                description={current.current.description}
                create={false}
              />
            </Card>
            <RecentTraffic name={current.name} />
            <p className="small">
              <Link to="/routes">← All routes</Link>
            </p>
          </div>
        </>
      )}
    </QueryState>
  );
}

export function NewRoutePage() {
  return (
    <>
      <PageHeader
        title="New route"
        description="A name clients call like a model, and the policy that picks who answers."
      />
      <Card>
        <PolicyEditor name="" initial={example} description="" create />
      </Card>
    </>
  );
}

export function RoutesPage() {
  const routes = useRoutes();
  return (
    <>
      <PageHeader
        title="Routes"
        description="Virtual models: fallbacks, weighted splits and conditions over models."
        actions={
          <Button variant="primary" onClick={() => navigate('/routes/new')}>
            New route
          </Button>
        }
      />
      <Card>
        <QueryState query={routes} loadingLabel="Loading routes…">
          {(page) =>
            page.data.length === 0 ? (
              <EmptyState title="No routes yet">
                <Link to="/routes/new">Create one</Link> to put a fallback or a split behind one name.
              </EmptyState>
            ) : (
              <table aria-label="Routes">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Status</th>
                    <th>Version</th>
                    <th>Targets</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((route) => (
                    <tr key={route.name}>
                      <td>
                        <Link to={`/routes/${route.name}`} className="mono">
                          {route.name}
                        </Link>
                      </td>
                      <td>
                        <Badge status={route.status} />
                      </td>
                      <td>
                        v{route.currentVersion} / {route.latestVersion}
                      </td>
                      <td className="mono small">{route.current.targets.join(', ')}</td>
                      <td className="small">{formatTime(route.updatedAt)}</td>
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
