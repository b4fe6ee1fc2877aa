import type { StepNode, StepState } from '../../lib/pipeline-graph.ts';

const preview = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 140 ? `${text.slice(0, 140)}…` : text;
};

/** The steps top to bottom, nested groups side by side; each box lit by its run state. */
export function PipelineGraphView({ nodes, states }: { nodes: StepNode[]; states: Record<string, StepState> }) {
  return (
    <ol className="pipeline-graph" aria-label="Pipeline graph">
      {nodes.map((node) => (
        <StepBox key={node.path} node={node} states={states} />
      ))}
    </ol>
  );
}

function StepBox({ node, states }: { node: StepNode; states: Record<string, StepState> }) {
  const state = states[node.path];
  return (
    <li
      className={`step-box step-${state?.status ?? 'idle'}`}
      data-path={node.path}
      aria-label={`step ${node.path}: ${state?.status ?? 'not run'}`}
    >
      <div className="row spread">
        <strong className="mono">{node.id}</strong>
        <span className="badge badge-neutral">{node.kind}</span>
      </div>
      {node.detail ? <div className="muted small mono">{node.detail}</div> : null}
      {state ? (
        <div className="small">
          {state.status}
          {state.latencyMs !== undefined ? ` · ${Math.round(state.latencyMs)} ms` : ''}
          {state.count > 1 ? ` · ×${state.count}` : ''}
          {state.error ? <div className="inline-error">{state.error}</div> : null}
          {state.output !== undefined ? <div className="mono step-output">{preview(state.output)}</div> : null}
        </div>
      ) : null}
      {node.groups.length ? (
        <div className="step-groups">
          {node.groups.map((group) => (
            <div key={group.label} className="step-group">
              <div className="muted small">{group.label}</div>
              <PipelineGraphView nodes={group.steps} states={states} />
            </div>
          ))}
        </div>
      ) : null}
    </li>
  );
}
