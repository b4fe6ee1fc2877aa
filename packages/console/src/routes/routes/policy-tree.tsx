import type { PolicyView } from '../../lib/policy-tree.ts';
import { Link } from '../../lib/router.tsx';

/** The policy drawn as nested branches: strategy, settings, and each child with its edge. */
export function PolicyTree({ view, label = 'Policy tree' }: { view: PolicyView; label?: string }) {
  return (
    <ul className="tree" aria-label={label} style={{ borderLeft: 0, paddingLeft: 0 }}>
      <PolicyNode view={view} edge="" />
    </ul>
  );
}

function PolicyNode({ view, edge }: { view: PolicyView; edge: string }) {
  return (
    <li className="tree-node">
      {edge ? <span className="badge badge-neutral">{edge}</span> : null}{' '}
      {view.strategy === 'single' ? (
        <Link to={`/models/${view.target ?? ''}`} className="mono">
          {view.target}
        </Link>
      ) : (
        <strong>{view.strategy}</strong>
      )}
      {view.settings.length ? <span className="muted small"> · {view.settings.join(' · ')}</span> : null}
      {view.children.length ? (
        <ul className="tree">
          {view.children.map((child, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a policy's children have no identity but their place
            <PolicyNode key={index} view={child.node} edge={child.edge} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}
