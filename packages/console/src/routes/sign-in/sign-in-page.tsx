import { type FormEvent, useEffect, useState } from 'react';
import { api } from '../../lib/api-client.ts';
import { setApiKey, setCookieSession } from '../../lib/session.ts';
import { Button } from '../../ui/button.tsx';
import { TextField } from '../../ui/field.tsx';
import { InlineError } from '../../ui/states.tsx';

interface SessionAnswer {
  user: { email: string };
  csrfToken: string;
}

/**
 * Signs in with an account (email and password, or SSO when the server has OpenID Connect) — a
 * session cookie the page never sees — or with an API key, checked first and kept for this tab only.
 * A session that is still open (a reload, the way back from SSO) is picked up without a form.
 */
export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const [sso, setSso] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api<SessionAnswer>('/api/auth/me')
      .then((me) => live && setCookieSession({ email: me.user.email, csrfToken: me.csrfToken }))
      .catch(() => undefined);
    api<{ oidc: boolean }>('/api/auth/providers')
      .then((providers) => live && setSso(providers.oidc))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate && (!email.trim() || !password)) {
      setError(new Error('Enter your email and password, or an API key.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (candidate) {
        await api('/api/models?limit=1', { key: candidate });
        setApiKey(candidate);
      } else {
        const me = await api<SessionAnswer>('/api/auth/login', {
          method: 'POST',
          body: { email: email.trim(), password },
        });
        setCookieSession({ email: me.user.email, csrfToken: me.csrfToken });
      }
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
            <p className="muted">With your account, or with an API key (kept in this browser tab only).</p>
          </div>
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            autoFocus
          />
          <TextField
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <p className="muted small">or</p>
          <TextField
            label="API key"
            name="apiKey"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="ens_…"
            value={key}
            onChange={(event) => setKey(event.target.value)}
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
          {sso ? (
            // A full navigation: the provider's pages, then back to /api/auth/oidc/callback and here.
            <a className="button button-secondary" href="/api/auth/oidc/start">
              Sign in with SSO
            </a>
          ) : null}
        </form>
      </div>
    </main>
  );
}
