import {
  type DeclaredRoute,
  EnsembleError,
  type Logger,
  parseModelRef,
  policyTargets,
  type RouteChangeContext,
  type RouteRepository,
  type StoredRoute,
} from '@ensemble/core';

export type RouteOutcome = 'created' | 'versioned' | 'retired' | 'unchanged';

export interface RouteReconcileReport {
  routes: Array<{ name: string; projectId: string; outcome: RouteOutcome; version: number }>;
}

export interface ReconcileRoutesOptions {
  routes: RouteRepository;
  declared: readonly DeclaredRoute[];
  logger: Logger;
  /** For messages: the file the entries came from. */
  file?: string;
}

/**
 * Brings routes in line with `ensemble.yaml`'s `routes:`, after the models are: a missing route is
 * created; one whose policy or description differs from its newest version gets a new version (made
 * current); otherwise it is left alone — a version moved back through the API stays current until the
 * file changes. `retire: true` retires. Routes the file does not mention are never touched. Routes
 * that target other declared routes are handled after them. Running it twice changes nothing.
 */
export async function reconcileRoutes(options: ReconcileRoutesOptions): Promise<RouteReconcileReport> {
  const file = options.file ?? 'ensemble.yaml';
  const report: RouteReconcileReport = { routes: [] };
  for (const index of dependencyOrder(options.declared, file)) {
    const entry = options.declared[index] as DeclaredRoute;
    const where = `routes[${index}]`;
    const result = await located(file, where, () => reconcileRoute(options, entry, where, file));
    if (result !== undefined) report.routes.push({ name: entry.name, projectId: entry.projectId, ...result });
  }
  const changed = report.routes.filter((item) => item.outcome !== 'unchanged');
  options.logger.info(
    { changes: changed.map((item) => `${item.projectId}/${item.name}: ${item.outcome}@${item.version}`) },
    `${file}: ${options.declared.length} route(s) reconciled`,
  );
  return report;
}

async function reconcileRoute(
  options: ReconcileRoutesOptions,
  entry: DeclaredRoute,
  where: string,
  file: string,
): Promise<{ outcome: RouteOutcome; version: number } | undefined> {
  const { routes, logger } = options;
  const context: RouteChangeContext = { actor: file, field: where };
  const current = await find(routes, entry);
  if (current === undefined) {
    if (entry.retire) return undefined;
    try {
      const created = await routes.create(
        entry.projectId,
        { name: entry.name, description: entry.description, policy: entry.policy },
        context,
      );
      return { outcome: 'created', version: created.currentVersion };
    } catch (error) {
      // Another instance created it meanwhile: reconcile against what it wrote.
      if (!(EnsembleError.isInstance(error) && error.code === 'conflict' && error.field === `${where}.name`))
        throw error;
      if ((await find(routes, entry)) === undefined) throw error;
      return reconcileRoute(options, entry, where, file);
    }
  }

  if (entry.retire) {
    if (current.status === 'retired') return { outcome: 'unchanged', version: current.currentVersion };
    const retired = await routes.update(entry.projectId, entry.name, { status: 'retired' }, context);
    return { outcome: 'retired', version: retired.currentVersion };
  }

  const newest =
    current.latestVersion === current.currentVersion
      ? current.current
      : await routes.getVersion(entry.projectId, entry.name, current.latestVersion);
  const same = canonical(newest.policy) === canonical(entry.policy) && newest.description === entry.description;
  if (same) return { outcome: 'unchanged', version: current.currentVersion };
  if (current.status === 'retired') {
    // A retired route stays retired until someone decides otherwise; start-up goes on.
    logger.warn(
      { route: entry.name },
      `${file}: ${where}: '${entry.name}' is retired, so its changed policy was not applied; make it active (PATCH /api/routes/${entry.name}) or delete it to declare it again`,
    );
    return { outcome: 'unchanged', version: current.currentVersion };
  }
  const versioned = await routes.addVersion(
    entry.projectId,
    entry.name,
    { policy: entry.policy, description: entry.description },
    context,
  );
  return { outcome: 'versioned', version: versioned.currentVersion };
}

async function find(routes: RouteRepository, entry: DeclaredRoute): Promise<StoredRoute | undefined> {
  try {
    return await routes.get(entry.projectId, entry.name);
  } catch (error) {
    if (EnsembleError.isInstance(error) && error.code === 'not_found') return undefined;
    throw error;
  }
}

/**
 * Indexes of the entries so that a route comes after the declared routes it targets (same project),
 * keeping the file's order otherwise. A loop among them is a configuration error naming the entry.
 */
function dependencyOrder(declared: readonly DeclaredRoute[], file: string): number[] {
  const indexOf = new Map(declared.map((entry, index) => [`${entry.projectId}\u0000${entry.name}`, index]));
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (index: number, chain: number[]) => {
    if (state.get(index) === 'done') return;
    if (state.get(index) === 'visiting') {
      const loop = [...chain.slice(chain.indexOf(index)), index].map((i) => declared[i]?.name).join(' → ');
      throw new EnsembleError('config_invalid', `${file}: routes[${index}].policy: routes form a loop (${loop})`, {
        field: `${file}: routes[${index}].policy`,
      });
    }
    state.set(index, 'visiting');
    const entry = declared[index] as DeclaredRoute;
    for (const { target } of policyTargets(entry.policy)) {
      const ref = parseModelRef(target, 'target');
      if (ref.selector.kind !== 'default') continue;
      const dependency = indexOf.get(`${entry.projectId}\u0000${ref.name}`);
      if (dependency !== undefined && dependency !== index) visit(dependency, [...chain, index]);
    }
    state.set(index, 'done');
    order.push(index);
  };
  declared.forEach((_entry, index) => {
    visit(index, []);
  });
  return order;
}

/** JSON with sorted keys, so equal policies compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/**
 * Runs one entry's reconciliation; a domain error becomes a start-up error that names the place in
 * the file: `ensemble.yaml: routes[0].policy.targets[1].target: names no model or route …`.
 */
async function located<T>(file: string, where: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!EnsembleError.isInstance(error) || error.code === 'database_unavailable' || error.code === 'config_invalid') {
      throw error;
    }
    // Validation errors already name the place (`routes[0].policy…`); the others get the entry.
    const field = error.field?.startsWith(where) ? error.field : where;
    const message = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
    throw new EnsembleError('config_invalid', `${file}: ${field}: ${message}`, {
      field: `${file}: ${field}`,
      cause: error,
    });
  }
}
