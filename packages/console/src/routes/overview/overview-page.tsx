import { useReadiness } from '../../api/health.ts';
import { useJobs } from '../../api/jobs.ts';
import { useLiveMetrics } from '../../api/metrics.ts';
import { useModels } from '../../api/models.ts';
import { useUsageSummary } from '../../api/usage.ts';
import { usageSeries } from '../../lib/chart-data.ts';
import { formatCompact, formatMs, formatNumber, formatPercent, formatUsd } from '../../lib/format.ts';
import { ratesOf } from '../../lib/prometheus.ts';
import { Link } from '../../lib/router.tsx';
import { Badge, Card, PageHeader, Stat } from '../../ui/layout.tsx';
import { LineChart } from '../../ui/line-chart.tsx';
import { EmptyState, ErrorState, QueryState, Spinner } from '../../ui/states.tsx';
import { FirstRunTour } from './first-run-tour.tsx';

/** The last hour, to the minute (a stable query key within the minute). */
function lastHour() {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  return { from: new Date(now - 60 * 60_000).toISOString(), to: new Date(now + 60_000).toISOString() };
}

function LiveTraffic() {
  const metrics = useLiveMetrics();
  if (metrics.error && !metrics.data) return <ErrorState error={metrics.error} onRetry={() => metrics.refetch()} />;
  if (!metrics.data) return <Spinner label="Reading /metrics…" />;
  const rates = ratesOf(metrics.data);
  const latest = metrics.data.at(-1);
  const rate = rates.at(-1);
  return (
    <div className="stack">
      <div className="grid grid-stats">
        <Stat label="Requests / s (live)" value={formatNumber(rate?.requestsPerSecond ?? 0, 2)} />
        <Stat label="Error rate (live)" value={formatPercent(rate?.errorRate ?? 0)} />
        <Stat label="Mean latency (live)" value={formatMs(rate?.meanLatencyMs)} />
        <Stat
          label="Memory"
          value={latest?.residentBytes ? `${formatNumber(latest.residentBytes / 2 ** 20)} MiB` : '—'}
          hint={
            latest?.eventLoopP99Seconds != null
              ? `event loop p99 ${formatMs(latest.eventLoopP99Seconds * 1000)}`
              : undefined
          }
        />
        <Stat label="Bus consumer lag" value={formatNumber(latest?.consumerLag ?? 0)} hint="events not yet consumed" />
      </div>
      {rates.length > 1 ? (
        <LineChart
          title="Model calls per second (every 3 s)"
          series={[{ label: 'req/s', points: rates.map((point) => ({ x: point.at, y: point.requestsPerSecond })) }]}
          format={(value) => formatNumber(value, 2)}
          formatX={(at) => new Date(at).toLocaleTimeString('en-GB')}
        />
      ) : (
        <p className="muted small">Collecting a few samples for the live chart…</p>
      )}
    </div>
  );
}

function LastHour() {
  const window = lastHour();
  const usage = useUsageSummary({ ...window, bucket: 'minute' }, { refetchInterval: 10_000 });
  return (
    <QueryState query={usage} loadingLabel="Reading the usage ledger…">
      {(summary) => {
        const { totals } = summary;
        return (
          <div className="stack">
            <div className="grid grid-stats">
              <Stat label="Requests" value={formatNumber(totals.requests)} />
              <Stat label="Error rate" value={formatPercent(totals.requests ? totals.errors / totals.requests : 0)} />
              <Stat label="Latency p50" value={formatMs(totals.latencyP50Ms)} />
              <Stat label="Latency p95" value={formatMs(totals.latencyP95Ms)} />
              <Stat
                label="Tokens"
                value={formatCompact(totals.inputTokens + totals.outputTokens)}
                hint={`${formatCompact(totals.inputTokens)} in · ${formatCompact(totals.outputTokens)} out`}
              />
              <Stat label="Cost" value={formatUsd(totals.costUsd)} />
            </div>
            <div className="grid grid-2">
              <LineChart
                title="Requests and errors per minute"
                series={[
                  { label: 'requests', points: usageSeries(summary, (row) => row.requests) },
                  { label: 'errors', points: usageSeries(summary, (row) => row.errors) },
                ]}
                format={(value) => formatNumber(value)}
              />
              <LineChart
                title="Latency p50 / p95"
                series={[
                  { label: 'p50', points: usageSeries(summary, (row) => row.latencyP50Ms, { emptyIsNull: true }) },
                  { label: 'p95', points: usageSeries(summary, (row) => row.latencyP95Ms, { emptyIsNull: true }) },
                ]}
                format={formatMs}
              />
              <LineChart
                title="Tokens per minute"
                series={[
                  { label: 'input', points: usageSeries(summary, (row) => row.inputTokens) },
                  { label: 'output', points: usageSeries(summary, (row) => row.outputTokens) },
                ]}
                format={formatCompact}
              />
              <LineChart
                title="Cost per minute"
                series={[{ label: 'USD', points: usageSeries(summary, (row) => row.costUsd) }]}
                format={formatUsd}
              />
            </div>
          </div>
        );
      }}
    </QueryState>
  );
}

function TopTargets({ groupBy, title }: { groupBy: 'model' | 'route'; title: string }) {
  const window = lastHour();
  const usage = useUsageSummary(
    { from: window.from, to: window.to, bucket: 'day', groupBy },
    { refetchInterval: 15_000 },
  );
  return (
    <Card title={title}>
      <QueryState query={usage}>
        {(summary) => {
          const totals = new Map<string, { requests: number; costUsd: number; tokens: number }>();
          for (const row of summary.series) {
            const name = String(row.group[groupBy] ?? '—');
            const entry = totals.get(name) ?? { requests: 0, costUsd: 0, tokens: 0 };
            entry.requests += row.requests;
            entry.costUsd += row.costUsd;
            entry.tokens += row.inputTokens + row.outputTokens;
            totals.set(name, entry);
          }
          const rows = [...totals]
            .filter(([name]) => name !== 'null' && name !== '—')
            .sort((a, b) => b[1].requests - a[1].requests)
            .slice(0, 5);
          if (rows.length === 0) return <EmptyState title={`No ${groupBy} calls in the last hour`} />;
          return (
            <table>
              <thead>
                <tr>
                  <th>{groupBy}</th>
                  <th className="num">requests</th>
                  <th className="num">tokens</th>
                  <th className="num">cost</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([name, figures]) => (
                  <tr key={name}>
                    <td className="mono">{name}</td>
                    <td className="num">{formatNumber(figures.requests)}</td>
                    <td className="num">{formatCompact(figures.tokens)}</td>
                    <td className="num">{formatUsd(figures.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </QueryState>
    </Card>
  );
}

function Health() {
  const readiness = useReadiness();
  const models = useModels({}, { refetchInterval: 10_000 });
  const running = useJobs({ status: 'running' });
  const queued = useJobs({ status: 'queued' });
  return (
    <Card title="Health">
      <div className="stack">
        <QueryState query={readiness}>
          {(ready) => (
            <ul className="row" aria-label="Services" style={{ listStyle: 'none', padding: 0, margin: 0, gap: 16 }}>
              {Object.entries(ready.checks).map(([name, check]) => (
                <li key={name} className="row">
                  <span>{name === 'database' ? 'PostgreSQL' : name === 'event-bus' ? 'event bus' : name}</span>
                  <Badge status={check.status} />
                  {check.latencyMs !== undefined ? (
                    <span className="muted small">{formatMs(check.latencyMs)}</span>
                  ) : null}
                </li>
              ))}
            </ul>
          )}
        </QueryState>
        <QueryState query={models}>
          {(page) => {
            const counts = new Map<string, number>();
            for (const model of page.data) counts.set(model.status, (counts.get(model.status) ?? 0) + 1);
            return (
              <div className="row">
                <Link to="/models">{page.data.length} models</Link>
                {[...counts].map(([status, count]) => (
                  <Badge key={status} status={status}>
                    {count} {status}
                  </Badge>
                ))}
              </div>
            );
          }}
        </QueryState>
        <div className="row">
          <Link to="/jobs">Jobs in flight</Link>
          <strong data-testid="jobs-in-flight">
            {(running.data?.data.length ?? 0) + (queued.data?.data.length ?? 0)}
          </strong>
          <span className="muted small">
            {running.data?.data.length ?? 0} running · {queued.data?.data.length ?? 0} queued
          </span>
        </div>
      </div>
    </Card>
  );
}

export function OverviewPage() {
  return (
    <>
      <PageHeader title="Overview" description="Traffic, latency, cost and the health of Ensemble's services, live." />
      <div className="stack">
        <FirstRunTour />
        <Health />
        <Card title="Live">
          <LiveTraffic />
        </Card>
        <Card title="Last hour">
          <LastHour />
        </Card>
        <div className="grid grid-2">
          <TopTargets groupBy="model" title="Top models" />
          <TopTargets groupBy="route" title="Top routes" />
        </div>
      </div>
    </>
  );
}
