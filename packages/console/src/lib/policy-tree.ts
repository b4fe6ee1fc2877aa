/** A route's policy as a tree to draw: each node's label, its settings, and its children (pure). */

export interface PolicyView {
  strategy: string;
  /** `single` nodes: the model or route they call. */
  target?: string;
  settings: string[];
  children: Array<{ edge: string; node: PolicyView }>;
}

type Node = string | Record<string, unknown>;

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(', ') : String(value));

function settingsOf(node: Record<string, unknown>): string[] {
  const settings: string[] = [];
  if (typeof node.timeoutMs === 'number') settings.push(`timeout ${node.timeoutMs} ms`);
  const retry = node.retry as { maxAttempts?: number } | undefined;
  if (retry?.maxAttempts && retry.maxAttempts > 1) settings.push(`retry ×${retry.maxAttempts}`);
  if (node.fallbackOn !== undefined) settings.push(`falls back on ${list(node.fallbackOn)}`);
  if (node.failover === true) settings.push('failover');
  const breaker = node.circuitBreaker as { failureThreshold?: number } | undefined;
  if (breaker?.failureThreshold) settings.push(`breaker after ${breaker.failureThreshold} failures`);
  if (node.cache !== undefined && node.cache !== null && node.cache !== false) settings.push('cached');
  return settings;
}

export function policyView(node: Node): PolicyView {
  if (typeof node === 'string') return { strategy: 'single', target: node, settings: [], children: [] };
  const strategy = String(node.strategy ?? 'single');
  const view: PolicyView = { strategy, settings: settingsOf(node), children: [] };
  if (strategy === 'single') view.target = String(node.target ?? '?');
  const targets = Array.isArray(node.targets) ? (node.targets as Node[]) : [];
  if (strategy === 'loadbalance') {
    const weights = targets.map((target) =>
      typeof target === 'object' && typeof target.weight === 'number' ? target.weight : 1,
    );
    const sum = weights.reduce((total, weight) => total + weight, 0) || 1;
    targets.forEach((target, index) => {
      view.children.push({ edge: `${Math.round(((weights[index] ?? 1) / sum) * 100)}%`, node: policyView(target) });
    });
  } else if (strategy === 'fallback') {
    targets.forEach((target, index) => {
      view.children.push({ edge: index === 0 ? 'first' : `then ${index + 1}`, node: policyView(target) });
    });
  } else if (strategy === 'conditional') {
    const conditions = Array.isArray(node.conditions) ? (node.conditions as Array<{ when?: unknown; use?: Node }>) : [];
    for (const condition of conditions) {
      view.children.push({ edge: `when ${JSON.stringify(condition.when)}`, node: policyView(condition.use ?? '?') });
    }
    if (node.default !== undefined) view.children.push({ edge: 'otherwise', node: policyView(node.default as Node) });
  } else {
    for (const target of targets) view.children.push({ edge: '', node: policyView(target) });
  }
  return view;
}

/** Parses the editor's text: the policy, or the JSON error with its position. */
export function parsePolicyText(text: string): { policy: Node } | { error: string } {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'string' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      return { error: 'A policy is a model name in quotes, or an object with a strategy.' };
    }
    return { policy: value as Node };
  } catch (error) {
    return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}
