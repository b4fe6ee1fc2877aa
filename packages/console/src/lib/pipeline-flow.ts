/**
 * The step boxes (`pipelineGraph`) laid out as React Flow nodes and edges (pure, no DOM): steps run
 * top to bottom; a branch's cases, a parallel's branches, a map's body, a nested pipeline and a
 * fallback are columns side by side under their step, joined again at the next step.
 */
import { fallbackLabel, type StepNode } from './pipeline-graph.ts';

export const nodeWidth = 230;
export const nodeHeight = 120;
const columnGap = 40;
const rowGap = 50;
const column = nodeWidth + columnGap;
const row = nodeHeight + rowGap;

export interface FlowNode {
  id: string;
  type: 'step';
  position: { x: number; y: number };
  /**
   * Fixed sizes: React Flow then never waits to measure a box. The console passes new node objects on
   * every run event, and a node without a size stays hidden until a measurement that may never come.
   */
  width: number;
  height: number;
  data: { node: StepNode };
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface PipelineFlow {
  nodes: FlowNode[];
  edges: FlowEdge[];
  width: number;
  height: number;
}

interface Block {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** In columns and rows. */
  columns: number;
  rows: number;
  first: string | undefined;
  /** The boxes the next step is reached from (the ends of every column under a step). */
  exits: string[];
}

function edge(source: string, target: string, label?: string): FlowEdge {
  return { id: `${source}->${target}`, source, target, ...(label ? { label } : {}) };
}

function layoutList(steps: readonly StepNode[], x: number, y: number): Block {
  const block: Block = { nodes: [], edges: [], columns: 1, rows: 0, first: undefined, exits: [] };
  for (const step of steps) {
    const inner = layoutStep(step, x, y + block.rows * row);
    block.nodes.push(...inner.nodes);
    block.edges.push(...inner.edges);
    for (const exit of block.exits) if (inner.first) block.edges.push(edge(exit, inner.first));
    block.first ??= inner.first;
    block.exits = inner.exits;
    block.columns = Math.max(block.columns, inner.columns);
    block.rows += inner.rows;
  }
  return block;
}

function layoutStep(step: StepNode, x: number, y: number): Block {
  const groups: Block[] = [];
  let offset = 0;
  for (const group of step.groups) {
    const inner = layoutList(group.steps, x + offset * column, y + row);
    groups.push(inner);
    offset += inner.columns;
  }
  const columns = Math.max(1, offset);
  // The step sits centred over its columns.
  const node: FlowNode = {
    id: step.path,
    type: 'step',
    position: { x: x + ((columns - 1) * column) / 2, y },
    width: nodeWidth,
    height: nodeHeight,
    data: { node: step },
  };
  const nodes = [node, ...groups.flatMap((group) => group.nodes)];
  const edges = groups.flatMap((group) => group.edges);
  const exits: string[] = [];
  for (const [index, group] of groups.entries()) {
    const label = step.groups[index]?.label;
    if (group.first) {
      edges.push(edge(step.path, group.first, label));
      exits.push(...group.exits);
    }
  }
  // A step whose columns are all empty (a branch with an empty default), or that has a fallback
  // (used only when it fails), also goes straight on.
  const straightOn =
    exits.length === 0 ||
    groups.some((group) => group.first === undefined) ||
    step.groups.some((group) => group.label === fallbackLabel);
  if (straightOn) exits.unshift(step.path);
  return {
    nodes,
    edges,
    columns,
    rows: 1 + Math.max(0, ...groups.map((group) => group.rows)),
    first: step.path,
    exits,
  };
}

export function pipelineFlow(steps: readonly StepNode[]): PipelineFlow {
  const block = layoutList(steps, 0, 0);
  return {
    nodes: block.nodes,
    edges: block.edges,
    width: block.columns * column - columnGap,
    height: Math.max(0, block.rows * row - rowGap),
  };
}
