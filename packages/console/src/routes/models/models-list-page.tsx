import { useState } from 'react';
import { type ModelFilters, modelPath, useModels } from '../../api/models.ts';
import { formatUsd } from '../../lib/format.ts';
import { Link, navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { EmptyState, QueryState } from '../../ui/states.tsx';

const any = { value: '', label: 'Any' };
const kinds = [any, ...['chat', 'embedding', 'classifier'].map((value) => ({ value, label: value }))];
const statuses = [
  any,
  ...['ready', 'deploying', 'registered', 'failed', 'retired'].map((value) => ({ value, label: value })),
];

export function ModelsListPage() {
  const [filters, setFilters] = useState<ModelFilters>({});
  const [text, setText] = useState('');
  const models = useModels(filters);
  const set = (name: keyof ModelFilters) => (value: string) =>
    setFilters((current) => ({ ...current, [name]: value || undefined }));

  return (
    <>
      <PageHeader
        title="Models"
        description="Every model Ensemble can call: hosted APIs, self-hosted servers and the ones it runs itself."
        actions={
          <Button variant="primary" onClick={() => navigate('/models/new')}>
            Register a model
          </Button>
        }
      />
      <Card>
        <search className="filters" aria-label="Filter models">
          <TextField
            label="Search"
            placeholder="name, provider, tag"
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
          <SelectField
            label="Kind"
            options={kinds}
            value={filters.kind ?? ''}
            onChange={(event) => set('kind')(event.target.value)}
          />
          <SelectField
            label="Status"
            options={statuses}
            value={filters.status ?? ''}
            onChange={(event) => set('status')(event.target.value)}
          />
          <TextField
            label="Provider"
            placeholder="openai, local…"
            value={filters.provider ?? ''}
            onChange={(event) => set('provider')(event.target.value.trim())}
          />
        </search>
        <QueryState query={models} loadingLabel="Loading models…">
          {(page) => {
            const needle = text.trim().toLowerCase();
            const rows = page.data.filter(
              (model) =>
                !needle ||
                [model.name, model.provider, model.providerModelId, ...model.tags].some((value) =>
                  value.toLowerCase().includes(needle),
                ),
            );
            if (rows.length === 0)
              return (
                <EmptyState title={page.data.length === 0 ? 'No models match' : 'Nothing matches the search'}>
                  {Object.values(filters).some(Boolean) || needle ? (
                    'Clear the filters to see every model.'
                  ) : (
                    <Link to="/models/new">Register the first one.</Link>
                  )}
                </EmptyState>
              );
            return (
              <div className="table-wrap">
                <table aria-label="Models">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Kind</th>
                      <th>Provider</th>
                      <th>Status</th>
                      <th className="num">Version</th>
                      <th>Aliases</th>
                      <th className="num">Price in / out (per 1M tokens)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((model) => (
                      <tr key={model.name}>
                        <td>
                          <Link to={modelPath(model.name)} className="mono">
                            {model.name}
                          </Link>
                          {model.tags.length ? <div className="muted small">{model.tags.join(' · ')}</div> : null}
                        </td>
                        <td>{model.kind}</td>
                        <td>
                          {model.provider}
                          <div className="muted small mono">{model.providerModelId}</div>
                        </td>
                        <td>
                          <Badge status={model.status} />
                        </td>
                        <td className="num">v{model.latestVersion}</td>
                        <td className="small">
                          {Object.entries(model.aliases)
                            .map(([alias, version]) => `${alias} → v${version}`)
                            .join(', ') || '—'}
                        </td>
                        <td className="num">
                          {model.pricing
                            ? `${formatUsd(model.pricing.inputPerMillionTokens)} / ${formatUsd(model.pricing.outputPerMillionTokens)}`
                            : model.provider === 'local'
                              ? 'free (local)'
                              : '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          }}
        </QueryState>
      </Card>
    </>
  );
}
