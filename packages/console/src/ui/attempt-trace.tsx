import type { UsageAttempt } from '../api/types.ts';
import { formatMs } from '../lib/format.ts';
import { Badge } from './layout.tsx';

const tone: Record<UsageAttempt['outcome'], string> = {
  success: 'up',
  failure: 'down',
  timeout: 'down',
  mid_stream_error: 'down',
  circuit_open: 'degraded',
  aborted: 'cancelled',
};

/** How a route got its answer: each try in order, where it sits in the policy, how it ended. */
export function AttemptTrace({ attempts, label = 'Attempts' }: { attempts: UsageAttempt[]; label?: string }) {
  return (
    <ol className="attempt-trace" aria-label={label}>
      {attempts.map((attempt, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a trace is append-only; its order is its identity.
        <li key={index} className="row small">
          <span className="muted">{index + 1}.</span>
          <span className="mono">{attempt.target}</span>
          <Badge status={tone[attempt.outcome]}>{attempt.outcome.replaceAll('_', ' ')}</Badge>
          {attempt.status !== null ? <span>HTTP {attempt.status}</span> : null}
          {attempt.errorCode ? <span className="mono">{attempt.errorCode}</span> : null}
          <span>{formatMs(attempt.latencyMs)}</span>
          {attempt.retryDelayMs > 0 ? (
            <span className="muted">after waiting {formatMs(attempt.retryDelayMs)}</span>
          ) : null}
          <span className="muted mono">
            {attempt.path}
            {attempt.attempt > 1 ? ` · try ${attempt.attempt}` : ''}
          </span>
        </li>
      ))}
    </ol>
  );
}
