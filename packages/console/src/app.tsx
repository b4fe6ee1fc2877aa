import { useQueryClient } from '@tanstack/react-query';
import { Suspense, useEffect, useState, useSyncExternalStore } from 'react';
import { useSignedIn } from './api/session.ts';
import { pageRoutes } from './app-routes.tsx';
import { signOut } from './lib/api-client.ts';
import { Link, matchPath, navigate, useLocation } from './lib/router.tsx';
import { applyTheme, storedTheme, type ThemeChoice } from './lib/theme.ts';
import { NotFoundPage } from './routes/not-found-page.tsx';
import { SignInPage } from './routes/sign-in/sign-in-page.tsx';
import { Button } from './ui/button.tsx';
import { Spinner } from './ui/states.tsx';

function subscribeOnline(listener: () => void) {
  window.addEventListener('online', listener);
  window.addEventListener('offline', listener);
  return () => {
    window.removeEventListener('online', listener);
    window.removeEventListener('offline', listener);
  };
}

function useOnline(): boolean {
  return useSyncExternalStore(subscribeOnline, () => navigator.onLine);
}

/** `g` then a page's key jumps there (not while typing in a field). */
function useGoShortcuts() {
  useEffect(() => {
    let pending = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      if (pending) {
        pending = false;
        const route = pageRoutes.find((candidate) => candidate.nav?.key === event.key);
        if (route) {
          event.preventDefault();
          navigate(route.pattern);
          document.getElementById('main')?.focus();
        }
        return;
      }
      if (event.key === 'g') {
        pending = true;
        clearTimeout(timer);
        timer = setTimeout(() => {
          pending = false;
        }, 1_000);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

function ThemeSwitch() {
  const [theme, setTheme] = useState<ThemeChoice>(storedTheme);
  useEffect(() => applyTheme(theme), [theme]);
  return (
    <label className="row small">
      <span className="visually-hidden">Theme</span>
      <select aria-label="Theme" value={theme} onChange={(event) => setTheme(event.target.value as ThemeChoice)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

function currentPage(path: string) {
  for (const route of pageRoutes) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return undefined;
}

export function App() {
  const signedIn = useSignedIn();
  const online = useOnline();
  const { path } = useLocation();
  const queryClient = useQueryClient();
  useGoShortcuts();

  // Signing out (or a key that stopped working) drops every cached answer of the previous key.
  useEffect(() => {
    if (!signedIn) queryClient.clear();
  }, [signedIn, queryClient]);

  const match = currentPage(path);
  useEffect(() => {
    const label = match?.route.nav?.label;
    document.title = label ? `${label} · Ensemble` : 'Ensemble';
  }, [match]);

  if (!signedIn) return <SignInPage />;

  const section = (pattern: string) =>
    pattern === '/' ? path === '/' : path === pattern || path.startsWith(`${pattern}/`);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Ensemble
        </Link>
        <nav className="nav" aria-label="Main">
          {pageRoutes
            .filter((route) => route.nav)
            .map((route) => (
              <Link key={route.pattern} to={route.pattern} aria-current={section(route.pattern) ? 'page' : undefined}>
                {route.nav?.label}
                <kbd title={`Press g then ${route.nav?.key}`}>g {route.nav?.key}</kbd>
              </Link>
            ))}
        </nav>
        <div className="sidebar-footer">
          <ThemeSwitch />
          <Button variant="ghost" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </aside>
      <main className="main" id="main" tabIndex={-1}>
        {online ? null : (
          <div className="banner banner-offline" role="status">
            You are offline: the pages show what they last loaded and refresh when the connection is back.
          </div>
        )}
        <Suspense fallback={<Spinner />}>
          {match ? <match.route.page params={match.params} /> : <NotFoundPage path={path} />}
        </Suspense>
      </main>
    </div>
  );
}
