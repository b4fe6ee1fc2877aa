import { Link } from '../lib/router.tsx';
import { EmptyState } from '../ui/states.tsx';

export function NotFoundPage({ path }: { path: string }) {
  return (
    <EmptyState title="No such page">
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Back to the overview</Link>.
      </p>
    </EmptyState>
  );
}
