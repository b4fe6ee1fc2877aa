import { useReadiness } from '../../api/health.ts';
import { Badge, Card, PageHeader } from '../../ui/layout.tsx';
import { QueryState } from '../../ui/states.tsx';

export function OverviewPage() {
  const readiness = useReadiness();
  return (
    <>
      <PageHeader title="Overview" description="Traffic, latency, cost and the health of Ensemble's services, live." />
      <Card title="Services">
        <QueryState query={readiness}>
          {(ready) => (
            <ul className="row" aria-label="Service health">
              {Object.entries(ready.checks).map(([name, check]) => (
                <li key={name} className="row">
                  <span>{name}</span> <Badge status={check.status} />
                </li>
              ))}
            </ul>
          )}
        </QueryState>
      </Card>
    </>
  );
}
