import { useState } from 'react';
import type { UsageRecord } from '../../api/types.ts';
import { useUsageRecords, useUsageSummary } from '../../api/usage.ts';
import { toCsv } from '../../lib/csv.ts';
import { formatCompact, formatMs, formatNumber, formatPercent, formatTime, formatUsd } from '../../lib/format.ts';
import { AttemptTrace } from '../../ui/attempt-trace.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, QueryState } from '../../ui/states.tsx';

const windows = [
  { value: '1', label: 'Last hour' },
  { value: '24', label: 'Last 24 hours' },
  { value: '168', label: 'Last 7 days' },
  { value: '720', label: 'Last 30 days' },
];
const groupings = ['model', 'requested', 'route', 'key', 'project', 'status'].map((value) => ({ value, label: value }));
const csvColumns = [
  'ts',
  'requestId',
  'projectId',
  'keyId',
  'endpoint',
  'requested',
  'route',
  'target',
  'provider',
  'status',
  'errorCode',
  'inputTokens',
  'outputTokens',
  'costUsd',
  'latencyMs',
  'timeToFirstTokenMs',
  'stream',
  'cacheHit',
  'attempts',
];

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function RecordDetail({ record }: { record: UsageRecord }) {
  const { trace, ...fields } = record;
  return (
    <div className="stack" style={{ gap: 8 }}>
      <dl className="props small">
        {Object.entries(fields).map(([name, value]) => (
          <div key={name} style={{ display: 'contents' }}>
            <dt>{name}</dt>
            <dd className="mono">{value === null ? '—' : String(value)}</dd>
          </div>
        ))}
      </dl>
      {trace?.length ? (
        <div className="stack" style={{ gap: 4 }}>
          <strong className="small">Attempts through {record.route}</strong>
          <AttemptTrace attempts={trace} label={`Attempts of ${record.requestId}`} />
        </div>
      ) : null}
    </div>
  );
}

export function UsagePage() {
  const [hours, setHours] = useState('24');
  const [groupBy, setGroupBy] = useState('model');
  const [model, setModel] = useState('');
  const [key, setKey] = useState('');
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const from = new Date(hourStart - (Number(hours) - 1) * 3_600_000).toISOString();
  const filters = {
    from,
    ...(model.trim() ? { requested: model.trim() } : {}),
    ...(key.trim() ? { key: key.trim() } : {}),
    ...(/^\d{3}$/.test(status) ? { status: Number(status) } : {}),
  };
  const summary = useUsageSummary({ ...filters, bucket: 'day', groupBy });
  const records = useUsageRecords({ ...filters, limit: 200 });

  return (
    <>
      <PageHeader
        title="Usage & logs"
        description="Every model call from the usage ledger: by key, model and project, and one by one."
        actions={
          <Button
            disabled={!records.data?.data.length}
            onClick={() =>
              download(
                `ensemble-usage-${new Date().toISOString().slice(0, 10)}.csv`,
                toCsv(csvColumns, (records.data?.data ?? []) as unknown as Record<string, unknown>[]),
              )
            }
          >
            Export CSV
          </Button>
        }
      />
      <div className="stack">
        <Card>
          <search className="filters" aria-label="Filter usage">
            <SelectField
              label="Window"
              options={windows}
              value={hours}
              onChange={(event) => setHours(event.target.value)}
            />
            <TextField
              label="Model or route asked for"
              value={model}
              onChange={(event) => setModel(event.target.value)}
            />
            <TextField
              label="Key id"
              placeholder="key_…"
              value={key}
              onChange={(event) => setKey(event.target.value)}
            />
            <TextField
              label="HTTP status"
              placeholder="200, 429…"
              inputMode="numeric"
              value={status}
              onChange={(event) => setStatus(event.target.value)}
            />
          </search>
        </Card>
        <Card
          title="Totals by"
          actions={
            <SelectField
              label="Group by"
              options={groupings}
              value={groupBy}
              onChange={(event) => setGroupBy(event.target.value)}
            />
          }
        >
          <QueryState query={summary} loadingLabel="Adding up the ledger…">
            {(data) => {
              const groups = new Map<
                string,
                { requests: number; errors: number; tokens: number; costUsd: number; p95: number | null }
              >();
              for (const row of data.series) {
                const name = String(row.group[groupBy] ?? '—');
                const entry = groups.get(name) ?? { requests: 0, errors: 0, tokens: 0, costUsd: 0, p95: null };
                entry.requests += row.requests;
                entry.errors += row.errors;
                entry.tokens += row.inputTokens + row.outputTokens;
                entry.costUsd += row.costUsd;
                entry.p95 = Math.max(entry.p95 ?? 0, row.latencyP95Ms ?? 0) || entry.p95;
                groups.set(name, entry);
              }
              if (groups.size === 0) return <EmptyState title="No calls in this window" />;
              return (
                <table aria-label={`Usage by ${groupBy}`}>
                  <thead>
                    <tr>
                      <th>{groupBy}</th>
                      <th className="num">Requests</th>
                      <th className="num">Error rate</th>
                      <th className="num">Tokens</th>
                      <th className="num">Cost</th>
                      <th className="num">p95 (worst day)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...groups]
                      .sort((a, b) => b[1].requests - a[1].requests)
                      .map(([name, figures]) => (
                        <tr key={name}>
                          <td className="mono">{name}</td>
                          <td className="num">{formatNumber(figures.requests)}</td>
                          <td className="num">
                            {formatPercent(figures.requests ? figures.errors / figures.requests : 0)}
                          </td>
                          <td className="num">{formatCompact(figures.tokens)}</td>
                          <td className="num">{formatUsd(figures.costUsd)}</td>
                          <td className="num">{formatMs(figures.p95)}</td>
                        </tr>
                      ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th>All</th>
                      <th className="num">{formatNumber(data.totals.requests)}</th>
                      <th className="num">
                        {formatPercent(data.totals.requests ? data.totals.errors / data.totals.requests : 0)}
                      </th>
                      <th className="num">{formatCompact(data.totals.inputTokens + data.totals.outputTokens)}</th>
                      <th className="num">{formatUsd(data.totals.costUsd)}</th>
                      <th className="num">{formatMs(data.totals.latencyP95Ms)}</th>
                    </tr>
                  </tfoot>
                </table>
              );
            }}
          </QueryState>
        </Card>
        <Card title="Request log">
          <QueryState query={records} loadingLabel="Loading the request log…">
            {(page) =>
              page.data.length === 0 ? (
                <EmptyState title="No requests match">Calls appear here a moment after they finish.</EmptyState>
              ) : (
                <div className="table-wrap">
                  <table aria-label="Request log">
                    <thead>
                      <tr>
                        <th>Time</th>
                        <th>Asked for</th>
                        <th>Answered by</th>
                        <th>Status</th>
                        <th className="num">Latency</th>
                        <th className="num">Tokens in / out</th>
                        <th className="num">Cost</th>
                        <th>Cache</th>
                        <th className="num">Attempts</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.flatMap((record) => {
                        const rows = [
                          <tr key={record.eventId}>
                            <td className="small">
                              <button
                                type="button"
                                className="button button-ghost small"
                                aria-expanded={open === record.eventId}
                                onClick={() => setOpen(open === record.eventId ? null : record.eventId)}
                              >
                                {formatTime(record.ts)}
                              </button>
                            </td>
                            <td className="mono small">{record.requested}</td>
                            <td className="mono small">{record.target ?? '—'}</td>
                            <td>
                              <Badge status={record.status < 400 ? 'up' : 'down'}>
                                {record.errorCode ? `${record.status} ${record.errorCode}` : record.status}
                              </Badge>
                            </td>
                            <td className="num">{formatMs(record.latencyMs)}</td>
                            <td className="num">
                              {formatNumber(record.inputTokens)} / {formatNumber(record.outputTokens)}
                            </td>
                            <td className="num">{formatUsd(record.costUsd)}</td>
                            <td>{record.cacheHit ? 'hit' : '—'}</td>
                            <td className="num">{record.attempts}</td>
                          </tr>,
                        ];
                        if (open === record.eventId)
                          rows.push(
                            <tr key={`${record.eventId}-detail`}>
                              <td colSpan={9}>
                                <RecordDetail record={record} />
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
      </div>
    </>
  );
}
