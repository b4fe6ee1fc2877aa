import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import {
  fetchJobResults,
  followJobEvents,
  type JobEvent,
  type JobResultLine,
  useJob,
  useJobAction,
} from '../../api/jobs.ts';
import { queryKeys } from '../../api/query-keys.ts';
import type { Job } from '../../api/types.ts';
import { messageOf } from '../../lib/api-client.ts';
import { formatCompact, formatMs, formatTime, formatUsd } from '../../lib/format.ts';
import { Link } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { Badge, Card, PageHeader, Stat } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';
import { JobProgress } from './job-progress.tsx';

const finished = (status: string) =>
  status === 'completed' || status === 'completed_with_errors' || status === 'cancelled';

/** Follows the job's events live while it runs, merging each into the cached job. */
function useLiveEvents(job: Job | undefined) {
  const client = useQueryClient();
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const id = job?.id;
  const done = job ? finished(job.status) : true;
  const round = job?.round;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a retry starts a new round whose events are followed anew
  useEffect(() => {
    if (!id) return;
    const controller = new AbortController();
    let last = 0;
    setEvents([]);
    const follow = async () => {
      // Resumes after the last event seen when the connection drops (the stream ends with the job).
      for (let attempt = 0; attempt < 20 && !controller.signal.aborted; attempt++) {
        try {
          await followJobEvents(id, {
            signal: controller.signal,
            after: last,
            onEvent: (event) => {
              last = event.seq;
              setEvents((current) => [...current, event]);
              client.setQueryData<Job>(queryKeys.jobs.detail(id), (current) =>
                current
                  ? {
                      ...current,
                      status: event.status as Job['status'],
                      counts: { ...current.counts, ...event.counts },
                      ...(event.usage ? { usage: event.usage } : {}),
                    }
                  : current,
              );
            },
          });
          setError(null);
          await client.invalidateQueries({ queryKey: queryKeys.jobs.detail(id) });
          return;
        } catch (failure) {
          if (controller.signal.aborted) return;
          setError(messageOf(failure));
          await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      }
    };
    void follow();
    return () => controller.abort();
  }, [id, client, round]);
  return { events, error, live: !done };
}

function Failures({ job }: { job: Job }) {
  const [lines, setLines] = useState<JobResultLine[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const failed = job.counts?.failed ?? 0;
  useEffect(() => {
    if (!failed || !finished(job.status)) return;
    fetchJobResults(job.id, 'failed').then(
      (result) => setLines(result.lines),
      (failure: unknown) => setError(failure),
    );
  }, [job.id, failed, job.status]);
  if (!failed) return null;
  return (
    <Card title={`Failed items (${failed})`}>
      <InlineError error={error} />
      {lines === null ? (
        <p className="muted small">Listed once the job has ended.</p>
      ) : (
        <table aria-label="Failed items">
          <thead>
            <tr>
              <th>#</th>
              <th>customId</th>
              <th>Attempts</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {lines.slice(0, 100).map((line) => (
              <tr key={line.index}>
                <td>{line.index}</td>
                <td className="mono">{line.customId ?? '—'}</td>
                <td>{line.attempts}</td>
                <td className="small">
                  {typeof line.error === 'string'
                    ? line.error
                    : `${line.error?.code ?? ''} ${line.error?.message ?? ''}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

async function downloadResults(id: string) {
  const { text } = await fetchJobResults(id);
  const url = URL.createObjectURL(new Blob([text], { type: 'application/jsonl' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${id}-results.jsonl`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function JobDetailPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const job = useJob(id);
  const action = useJobAction(id);
  const live = useLiveEvents(job.data);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  return (
    <QueryState query={job} loadingLabel={`Loading ${id}…`}>
      {(current) => {
        const usage = current.usage as
          | { inputTokens: number; outputTokens: number; costUsd: number | null }
          | undefined;
        return (
          <>
            <PageHeader
              title={current.id}
              description={`${current.type} on ${current.model}`}
              actions={
                <>
                  <Badge status={current.status} />
                  {finished(current.status) ? null : (
                    <Button variant="danger" busy={action.isPending} onClick={() => action.mutate('cancel')}>
                      Cancel
                    </Button>
                  )}
                  {current.status === 'completed_with_errors' ? (
                    <Button busy={action.isPending} onClick={() => action.mutate('retry-failed')}>
                      Retry failed
                    </Button>
                  ) : null}
                  <Button onClick={() => downloadResults(current.id).catch(setDownloadError)}>Download results</Button>
                </>
              }
            />
            <InlineError error={action.error ?? downloadError} />
            <div className="stack">
              <Card title={live.live ? 'Progress (live)' : 'Progress'}>
                <div className="stack">
                  <JobProgress counts={current.counts} />
                  <div className="grid grid-stats">
                    <Stat label="Succeeded" value={current.counts?.succeeded ?? 0} />
                    <Stat label="Failed" value={current.counts?.failed ?? 0} />
                    <Stat label="Tokens" value={usage ? formatCompact(usage.inputTokens + usage.outputTokens) : '—'} />
                    <Stat label="Cost" value={formatUsd(usage?.costUsd)} />
                    <Stat label="Duration" value={formatMs(current.durationMs as number | null)} />
                  </div>
                  {live.error ? (
                    <p className="inline-error">Live progress interrupted: {live.error} (retrying)</p>
                  ) : null}
                </div>
              </Card>
              <Failures job={current} />
              <Card title="Events">
                {live.events.length === 0 ? (
                  <EmptyState title="No events yet" />
                ) : (
                  <ol className="small" aria-label="Job events" style={{ margin: 0, paddingLeft: 18 }}>
                    {live.events.map((event) => (
                      <li key={event.seq}>
                        <span className="mono">{event.type}</span> · {formatTime(event.at)} ·{' '}
                        {event.counts.succeeded + event.counts.failed}/{event.counts.total}
                      </li>
                    ))}
                  </ol>
                )}
              </Card>
              <p className="small">
                <Link to="/jobs">← All jobs</Link>
              </p>
            </div>
          </>
        );
      }}
    </QueryState>
  );
}
