import type { ReactNode } from 'react';

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p className="muted">{description}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card${className ? ` ${className}` : ''}`}>
      {title || actions ? (
        <div className="card-header">
          {title ? <h2>{title}</h2> : <span />}
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint ? <div className="stat-hint muted small">{hint}</div> : null}
    </div>
  );
}

const tones: Record<string, string> = {
  ready: 'good',
  up: 'good',
  active: 'good',
  completed: 'good',
  succeeded: 'good',
  success: 'good',
  running: 'info',
  deploying: 'info',
  queued: 'info',
  registered: 'neutral',
  retired: 'neutral',
  cancelled: 'neutral',
  completed_with_errors: 'warn',
  degraded: 'warn',
  failed: 'bad',
  down: 'bad',
  revoked: 'bad',
  expired: 'warn',
};

export function Badge({ status, children }: { status: string; children?: ReactNode }) {
  return <span className={`badge badge-${tones[status] ?? 'neutral'}`}>{children ?? status.replaceAll('_', ' ')}</span>;
}
