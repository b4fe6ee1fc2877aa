import { type FormEvent, useState } from 'react';
import {
  useAudit,
  useCreateProject,
  useCredentialChange,
  useCredentials,
  useLimits,
  useProjects,
  useSetLimits,
} from '../../api/settings.ts';
import { formatTime } from '../../lib/format.ts';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';

function Projects() {
  const projects = useProjects();
  const create = useCreateProject();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ id: id.trim(), name: name.trim() || id.trim() }, { onSuccess: () => setId('') });
  };
  return (
    <Card title="Projects">
      <QueryState query={projects}>
        {(page) => (
          <table aria-label="Projects">
            <thead>
              <tr>
                <th>Id</th>
                <th>Name</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((project) => (
                <tr key={project.id}>
                  <td className="mono">{project.id}</td>
                  <td>{project.name}</td>
                  <td className="small">{formatTime(project.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
      <form
        className="row"
        style={{ alignItems: 'flex-end', marginTop: 12 }}
        onSubmit={submit}
        aria-label="Create a project"
      >
        <TextField
          label="Project id"
          required
          placeholder="team-a"
          value={id}
          onChange={(event) => setId(event.target.value)}
        />
        <TextField label="Project name" value={name} onChange={(event) => setName(event.target.value)} />
        <Button type="submit" busy={create.isPending}>
          Create project
        </Button>
      </form>
      <InlineError error={create.error} />
    </Card>
  );
}

/** Provider secrets: written here, never shown again (the API returns a hint only). */
function Credentials() {
  const credentials = useCredentials();
  const change = useCredentialChange();
  const [name, setName] = useState('');
  const [provider, setProvider] = useState('openai');
  const [secret, setSecret] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(
      { add: { name: name.trim(), provider: provider.trim(), secret } },
      { onSuccess: () => setSecret('') },
    );
  };
  return (
    <Card title="Credentials (write-only)">
      <QueryState query={credentials}>
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No credentials">
              Add a provider's API key; models name it in their credential field.
            </EmptyState>
          ) : (
            <table aria-label="Credentials">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Provider</th>
                  <th>Secret</th>
                  <th>Updated</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.data.map((credential) => (
                  <tr key={credential.name}>
                    <td className="mono">{credential.name}</td>
                    <td>{credential.provider}</td>
                    <td className="mono">{credential.hint || '••••'}</td>
                    <td className="small">{formatTime(credential.updatedAt)}</td>
                    <td>
                      <Button
                        variant="danger"
                        aria-label={`Delete ${credential.name}`}
                        onClick={() => change.mutate({ remove: credential.name })}
                      >
                        Delete
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
      <form
        className="row"
        style={{ alignItems: 'flex-end', marginTop: 12 }}
        onSubmit={submit}
        aria-label="Add a credential"
      >
        <TextField
          label="Credential name"
          required
          placeholder="openai"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <TextField
          label="Credential provider"
          required
          value={provider}
          onChange={(event) => setProvider(event.target.value)}
        />
        <TextField
          label="Secret"
          required
          type="password"
          autoComplete="off"
          value={secret}
          onChange={(event) => setSecret(event.target.value)}
        />
        <Button type="submit" busy={change.isPending}>
          Save credential
        </Button>
      </form>
      <InlineError error={change.error} />
    </Card>
  );
}

function Limits() {
  const limits = useLimits();
  const set = useSetLimits();
  const [rpm, setRpm] = useState('');
  const [tpm, setTpm] = useState('');
  const [budget, setBudget] = useState('');
  const [period, setPeriod] = useState('month');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    set.mutate({
      ...(rpm ? { requestsPerMinute: Number(rpm) } : {}),
      ...(tpm ? { tokensPerMinute: Number(tpm) } : {}),
      ...(budget ? { budget: { amountUsd: Number(budget), period } } : {}),
    });
  };
  return (
    <Card title="Rate limits and budget (this project)">
      <QueryState query={limits}>
        {(current) => <pre data-testid="limits">{JSON.stringify(current, null, 2)}</pre>}
      </QueryState>
      <form
        className="row"
        style={{ alignItems: 'flex-end', marginTop: 12 }}
        onSubmit={submit}
        aria-label="Set the project's limits"
      >
        <TextField
          label="Requests per minute"
          type="number"
          min="1"
          value={rpm}
          onChange={(event) => setRpm(event.target.value)}
        />
        <TextField
          label="Tokens per minute"
          type="number"
          min="1"
          value={tpm}
          onChange={(event) => setTpm(event.target.value)}
        />
        <TextField
          label="Budget (USD)"
          type="number"
          min="0"
          step="any"
          value={budget}
          onChange={(event) => setBudget(event.target.value)}
        />
        <SelectField
          label="Budget period"
          value={period}
          onChange={(event) => setPeriod(event.target.value)}
          options={['day', 'month'].map((value) => ({ value, label: value }))}
        />
        <Button type="submit" busy={set.isPending}>
          Save limits
        </Button>
      </form>
      <InlineError error={set.error} />
    </Card>
  );
}

function Audit() {
  const [action, setAction] = useState('');
  const audit = useAudit(action.trim() ? { action: action.trim() } : {});
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card
      title="Audit log"
      actions={
        <TextField
          label="Action"
          placeholder="keys.create"
          value={action}
          onChange={(event) => setAction(event.target.value)}
        />
      }
    >
      <QueryState query={audit}>
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No administrative changes recorded" />
          ) : (
            <div className="table-wrap">
              <table aria-label="Audit log">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Action</th>
                    <th>Resource</th>
                    <th>Who</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.flatMap((entry) => {
                    const rows = [
                      <tr key={entry.id}>
                        <td className="small">
                          <button
                            type="button"
                            className="button button-ghost small"
                            aria-expanded={open === entry.id}
                            onClick={() => setOpen(open === entry.id ? null : entry.id)}
                          >
                            {formatTime(entry.at)}
                          </button>
                        </td>
                        <td className="mono small">{entry.action}</td>
                        <td className="mono small">
                          {entry.resourceType} {entry.resourceId ?? ''}
                        </td>
                        <td className="small">
                          {entry.actorKeyId ?? 'platform'} {entry.actorRole ? `(${entry.actorRole})` : ''}{' '}
                          {entry.sourceIp ? `from ${entry.sourceIp}` : ''}
                        </td>
                        <td>
                          <Badge status={entry.status < 400 ? 'up' : 'down'}>{entry.status}</Badge>
                        </td>
                      </tr>,
                    ];
                    if (open === entry.id)
                      rows.push(
                        <tr key={`${entry.id}-detail`}>
                          <td colSpan={5}>
                            <div className="grid grid-2">
                              <figure style={{ margin: 0 }}>
                                <figcaption className="small muted">Before</figcaption>
                                <pre>{JSON.stringify(entry.before, null, 2)}</pre>
                              </figure>
                              <figure style={{ margin: 0 }}>
                                <figcaption className="small muted">After</figcaption>
                                <pre>{JSON.stringify(entry.after, null, 2)}</pre>
                              </figure>
                            </div>
                          </td>
                        </tr>,
                      );
                    return rows;
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
    </Card>
  );
}

export function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        description="Projects, provider credentials, limits and the audit log of administrative changes."
      />
      <div className="stack">
        <div className="grid grid-2">
          <Projects />
          <Credentials />
        </div>
        <Limits />
        <Audit />
      </div>
    </>
  );
}
