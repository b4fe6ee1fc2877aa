import type { ReactNode } from 'react';
import { ApiError, messageOf, OfflineError } from '../lib/api-client.ts';
import { Button } from './button.tsx';

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

/** Shows the API's own message (and code and request id), or that Ensemble cannot be reached. */
export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const offline = error instanceof OfflineError;
  return (
    <div className="state state-error" role="alert">
      <strong>{title ?? (offline ? 'Ensemble is unreachable' : 'Something went wrong')}</strong>
      <p className="error-message">{messageOf(error)}</p>
      {error instanceof ApiError ? (
        <p className="muted small">
          {error.status} · {error.code}
          {error.requestId ? ` · request ${error.requestId}` : ''}
        </p>
      ) : null}
      {onRetry ? (
        <Button onClick={onRetry} variant="secondary">
          Try again
        </Button>
      ) : null}
    </div>
  );
}

/** The three states of a query in one place: loading, error, or its data. */
export function QueryState<T>({
  query,
  children,
  loadingLabel,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (query.error && query.data === undefined)
    return <ErrorState error={query.error} onRetry={() => query.refetch()} />;
  if (query.isPending || query.data === undefined)
    return <Spinner {...(loadingLabel ? { label: loadingLabel } : {})} />;
  return <>{children(query.data)}</>;
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="inline-error" role="alert">
      {messageOf(error)}
    </p>
  );
}
