import '@xyflow/react/dist/style.css';
import { Background, Controls, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import { useMemo } from 'react';
import type { StepIssue } from '../../lib/definition-issues.ts';
import { formatMs } from '../../lib/format.ts';
import { type FlowNode, nodeHeight, nodeWidth, pipelineFlow } from '../../lib/pipeline-flow.ts';
import type { StepNode, StepState } from '../../lib/pipeline-graph.ts';

const preview = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 90 ? `${text.slice(0, 90)}…` : text;
};

type StepData = { node: StepNode; state: StepState | undefined; issues: StepIssue[] };
type StepFlowNode = Node<StepData, 'step'>;

/** One step's box: its id, kind and detail; lit by its run state, marked by validation issues. */
function StepBox({ data }: NodeProps<StepFlowNode>) {
  const { node, state, issues } = data;
  const status = issues.length ? 'invalid' : (state?.status ?? 'idle');
  const label = issues.length
    ? `step ${node.path}: ${issues.length} issue${issues.length > 1 ? 's' : ''}`
    : `step ${node.path}: ${state?.status ?? 'not run'}`;
  return (
    <article
      className={`step-box step-${status}`}
      data-path={node.path}
      aria-label={label}
      title={issues.map((issue) => `${issue.field}: ${issue.message}`).join('\n') || undefined}
      style={{ width: nodeWidth, height: nodeHeight }}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="row spread">
        <strong className="mono">{node.id}</strong>
        <span className="badge badge-neutral">{node.kind}</span>
      </div>
      {node.detail ? <div className="muted small mono ellipsis">{node.detail}</div> : null}
      {issues.length ? (
        <div className="inline-error small ellipsis">{issues[0]?.message}</div>
      ) : state ? (
        <div className="small">
          {state.status}
          {state.latencyMs !== undefined ? ` · ${formatMs(state.latencyMs)}` : ''}
          {state.tokens ? ` · ${state.tokens} tok` : ''}
          {state.count > 1 ? ` · ×${state.count}` : ''}
          {state.error ? <div className="inline-error ellipsis">{state.error}</div> : null}
          {state.output !== undefined ? <div className="mono step-output">{preview(state.output)}</div> : null}
        </div>
      ) : null}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </article>
  );
}

const nodeTypes = { step: StepBox };

/**
 * The steps drawn with React Flow (decision 0030): top to bottom, a branch's cases, a parallel's
 * branches, a map's body, a nested pipeline and a fallback side by side under their step.
 */
export function PipelineGraphView({
  nodes,
  states,
  issues = [],
}: {
  nodes: StepNode[];
  states: Record<string, StepState>;
  issues?: StepIssue[];
}) {
  const flow = useMemo(() => pipelineFlow(nodes), [nodes]);
  const lit: StepFlowNode[] = flow.nodes.map((node: FlowNode) => ({
    ...node,
    data: {
      node: node.data.node,
      state: states[node.id],
      issues: issues.filter((issue) => issue.path === node.id),
    },
  }));
  const edges = flow.edges.map((edge) => ({
    ...edge,
    animated: states[edge.source]?.status === 'succeeded' && states[edge.target]?.status === 'running',
  }));
  // Tall enough for the whole graph up to a limit; wider graphs are fitted (and can be zoomed).
  const height = Math.min(Math.max(flow.height + 60, 180), 640);
  return (
    <figure className="pipeline-flow" aria-label="Pipeline graph" style={{ height }}>
      {nodes.length === 0 ? (
        <p className="muted small">No steps yet.</p>
      ) : (
        <ReactFlow
          // A new shape is fitted again (the editor's preview changes as you type).
          key={flow.nodes.map((node) => node.id).join('|')}
          nodes={lit}
          edges={edges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ padding: 0.1, maxZoom: 1 }}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
        >
          <Background gap={20} />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
    </figure>
  );
}
