import { type FormEvent, useState } from 'react';
import { useCreateKey, useKeys, useRevokeKey } from '../../api/keys.ts';
import type { ApiKey } from '../../api/types.ts';
import { formatAgo, formatTime } from '../../lib/format.ts';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';

function keyStatus(key: ApiKey): string {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && Date.parse(key.expiresAt) < Date.now()) return 'expired';
  return 'active';
}

/** The secret of a key just created: shown here once, never again (the API keeps only its hash). */
function CreatedSecret({ name, secret, onClose }: { name: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Card title={`Key “${name}” created`} className="created-key">
      <div className="stack" role="status">
        <p style={{ margin: 0 }}>
          Copy the secret now: <strong>it is shown only once</strong>. Ensemble keeps only a hash of it.
        </p>
        <div className="secret" data-testid="new-secret">
          {secret}
        </div>
        <div className="row">
          <Button
            variant="primary"
            onClick={() =>
              navigator.clipboard.writeText(secret).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy'}
          </Button>
          <Button onClick={onClose}>I have saved it</Button>
        </div>
      </div>
    </Card>
  );
}

function CreateKey({ onCreated }: { onCreated: (name: string, secret: string) => void }) {
  const create = useCreateKey();
  const [name, setName] = useState('');
  const [admin, setAdmin] = useState(false);
  const [role, setRole] = useState('developer');
  const [models, setModels] = useState('');
  const [expires, setExpires] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const allowedModels = models
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    create.mutate(
      {
        name: name.trim(),
        ...(admin ? { admin } : { role: role as 'developer' }),
        ...(allowedModels.length ? { allowedModels } : {}),
        ...(expires ? { expiresAt: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
      },
      {
        onSuccess: (created) => {
          onCreated(created.name, created.secret);
          setName('');
          setModels('');
          setExpires('');
          setAdmin(false);
        },
      },
    );
  };
  return (
    <Card title="Create a key">
      <form className="row" style={{ alignItems: 'flex-end' }} onSubmit={submit} aria-label="Create a key">
        <TextField
          label="Name"
          required
          placeholder="billing-service"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <TextField
          label="Allowed models (comma-separated)"
          placeholder="all of the project"
          value={models}
          onChange={(event) => setModels(event.target.value)}
        />
        <TextField
          label="Expires on"
          type="date"
          value={expires}
          onChange={(event) => setExpires(event.target.value)}
        />
        <SelectField
          label="Role in the project"
          value={role}
          disabled={admin}
          onChange={(event) => setRole(event.target.value)}
          options={['viewer', 'developer', 'admin', 'owner'].map((value) => ({ value, label: value }))}
        />
        <label className="row">
          <input type="checkbox" checked={admin} onChange={(event) => setAdmin(event.target.checked)} /> Platform admin
        </label>
        <Button type="submit" variant="primary" busy={create.isPending}>
          Create key
        </Button>
      </form>
      <InlineError error={create.error} />
    </Card>
  );
}

function RevokeButton({ keyId, name }: { keyId: string; name: string }) {
  const revoke = useRevokeKey();
  const [confirming, setConfirming] = useState(false);
  if (!confirming)
    return (
      <Button variant="danger" onClick={() => setConfirming(true)} aria-label={`Revoke ${name}`}>
        Revoke
      </Button>
    );
  return (
    <span className="row">
      <Button
        variant="danger"
        busy={revoke.isPending}
        onClick={() => revoke.mutate(keyId)}
        aria-label={`Confirm revoking ${name}`}
      >
        Confirm revoke
      </Button>
      <Button variant="ghost" onClick={() => setConfirming(false)}>
        Keep
      </Button>
      <InlineError error={revoke.error} />
    </span>
  );
}

export function KeysPage() {
  const keys = useKeys();
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for applications: limited to models, with an expiry. A secret is shown once, when it is created."
      />
      <div className="stack">
        {created ? <CreatedSecret {...created} onClose={() => setCreated(null)} /> : null}
        <CreateKey onCreated={(name, secret) => setCreated({ name, secret })} />
        <Card title="Keys">
          <QueryState query={keys} loadingLabel="Loading keys…">
            {(page) =>
              page.data.length === 0 ? (
                <EmptyState title="No keys" />
              ) : (
                <div className="table-wrap">
                  <table aria-label="API keys">
                    <thead>
                      <tr>
                        <th>Name</th>
                        <th>Key</th>
                        <th>Status</th>
                        <th>Scope</th>
                        <th>Created</th>
                        <th>Last used</th>
                        <th />
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((key) => {
                        const status = keyStatus(key);
                        return (
                          <tr key={key.id}>
                            <td>
                              {key.name}{' '}
                              <Badge status={key.admin ? 'deploying' : 'registered'}>
                                {key.admin ? 'platform admin' : (key.role ?? 'developer')}
                              </Badge>
                            </td>
                            <td className="mono">{key.prefix}</td>
                            <td>
                              <Badge status={status} />
                            </td>
                            <td className="small">
                              {key.allowedModels ? key.allowedModels.join(', ') : `all of ${key.projectId}`}
                              {key.expiresAt ? <div className="muted">expires {formatTime(key.expiresAt)}</div> : null}
                            </td>
                            <td className="small">{formatTime(key.createdAt)}</td>
                            <td className="small">{formatAgo(key.lastUsedAt)}</td>
                            <td>
                              {status === 'active' && !key.bootstrap ? (
                                <RevokeButton keyId={key.id} name={key.name} />
                              ) : null}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )
            }
          </QueryState>
        </Card>
      </div>
    </>
  );
}
