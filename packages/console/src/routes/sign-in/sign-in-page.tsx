import { type FormEvent, useState } from 'react';
import { api } from '../../lib/api-client.ts';
import { setApiKey } from '../../lib/session.ts';
import { Button } from '../../ui/button.tsx';
import { TextField } from '../../ui/field.tsx';
import { InlineError } from '../../ui/states.tsx';

/** Signs in with an API key: checked against the API first, then kept for this tab only. */
export function SignInPage() {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError(new Error('Enter an API key.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api('/api/models?limit=1', { key: candidate });
      setApiKey(candidate);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <div className="card">
        <form className="form" onSubmit={submit} aria-labelledby="sign-in-title">
          <div>
            <h1 id="sign-in-title">Sign in to Ensemble</h1>
            <p className="muted">
              Use an API key. It stays in this browser tab only and is forgotten when you close it.
            </p>
          </div>
          <TextField
            label="API key"
            name="apiKey"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="ens_…"
            value={key}
            onChange={(event) => setKey(event.target.value)}
            autoFocus
            hint={
              <>
                The first <code>npm start</code> prints the admin key and keeps it in <code>.ensemble/admin.key</code>.
              </>
            }
          />
          <InlineError error={error} />
          <Button type="submit" variant="primary" busy={busy}>
            Sign in
          </Button>
        </form>
      </div>
    </main>
  );
}
