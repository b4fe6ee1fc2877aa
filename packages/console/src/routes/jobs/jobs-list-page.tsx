import { type FormEvent, useState } from 'react';
import { useJobs, useSubmitJob } from '../../api/jobs.ts';
import { useModels } from '../../api/models.ts';
import type { Job } from '../../api/types.ts';
import { formatTime } from '../../lib/format.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, InlineError, QueryState } from '../../ui/states.tsx';
import { JobProgress } from './job-progress.tsx';

const statuses = [
  { value: '', label: 'Any' },
  ...['queued', 'running', 'completed', 'completed_with_errors', 'cancelled'].map((value) => ({
    value,
    label: value.replaceAll('_', ' '),
  })),
];

function SubmitJob() {
  const submit = useSubmitJob();
  const models = useModels({ status: 'ready' });
  const [type, setType] = useState<'batch-inference' | 'embed'>('embed');
  const [model, setModel] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const candidates = (models.data?.data ?? []).filter((item) =>
    type === 'embed' ? item.kind === 'embedding' : item.kind === 'chat' || item.kind === 'embedding',
  );
  const chosen = model || candidates[0]?.name || '';
  const send = (event: FormEvent) => {
    event.preventDefault();
    if (!file || !chosen) return;
    submit.mutate({ file, model: chosen, type }, { onSuccess: (job) => navigate(`/jobs/${job.id}`) });
  };
  return (
    <Card title="Submit a job">
      <form className="row" style={{ alignItems: 'flex-end' }} onSubmit={send} aria-label="Submit a job">
        <SelectField
          label="Type"
          value={type}
          onChange={(event) => setType(event.target.value as typeof type)}
          options={[
            { value: 'embed', label: 'embed (texts)' },
            { value: 'batch-inference', label: 'batch-inference (requests)' },
          ]}
        />
        <SelectField
          label="Model"
          value={chosen}
          onChange={(event) => setModel(event.target.value)}
          options={candidates.map((item) => ({ value: item.name, label: item.name }))}
        />
        <div className="field">
          <label htmlFor="job-file">Input (JSON Lines)</label>
          <input
            id="job-file"
            type="file"
            accept=".jsonl,.ndjson,.txt,application/jsonl"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </div>
        <Button type="submit" variant="primary" busy={submit.isPending} disabled={!file || !chosen}>
          Upload and submit
        </Button>
      </form>
      <p className="muted small">
        One item per line: for <code>embed</code> a text or <code>{'{"customId": "a", "text": "…"}'}</code>; for{' '}
        <code>batch-inference</code> a <code>/v1/chat/completions</code> body without <code>model</code>, e.g.{' '}
        <code>{'{"customId": "a", "messages": [{"role": "user", "content": "Hi"}]}'}</code>.
      </p>
      <InlineError error={submit.error} />
    </Card>
  );
}

export function JobsListPage() {
  const [status, setStatus] = useState('');
  const jobs = useJobs(status ? { status } : {});
  return (
    <>
      <PageHeader title="Jobs" description="Large batches run asynchronously by the workers, with live progress." />
      <div className="stack">
        <SubmitJob />
        <Card
          title="Jobs"
          actions={
            <SelectField
              label="Status"
              options={statuses}
              value={status}
              onChange={(event) => setStatus(event.target.value)}
            />
          }
        >
          <QueryState query={jobs} loadingLabel="Loading jobs…">
            {(page) =>
              page.data.length === 0 ? (
                <EmptyState title="No jobs yet">Upload a JSON Lines file above, or POST /api/jobs.</EmptyState>
              ) : (
                <div className="table-wrap">
                  <table aria-label="Jobs">
                    <thead>
                      <tr>
                        <th>Job</th>
                        <th>Type</th>
                        <th>Model</th>
                        <th>Status</th>
                        <th style={{ width: '28%' }}>Progress</th>
                        <th>Created</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((job: Job) => (
                        <tr key={job.id}>
                          <td>
                            <Link to={`/jobs/${job.id}`} className="mono">
                              {job.id}
                            </Link>
                          </td>
                          <td>{job.type}</td>
                          <td className="mono small">{job.model}</td>
                          <td>
                            <Badge status={job.status} />
                          </td>
                          <td>
                            <JobProgress counts={job.counts} />
                          </td>
                          <td className="small">{formatTime(job.createdAt)}</td>
                        </tr>
                      ))}
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
