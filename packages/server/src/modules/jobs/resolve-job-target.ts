import {
  distinctTargets,
  EnsembleError,
  type JobModelKind,
  type JobTarget,
  type JobType,
  type ModelDescriptor,
  type ModelRepository,
  parseModelRef,
  type Route,
  type RouteLookup,
  validationError,
} from '@ensemble/core';

/** Deeper than the gateway follows nested routes anyway (a route plus 4 nested ones). */
const maxRouteDepth = 5;

/**
 * What a job's `model` names, pinned: a route of the project (tried first, as `/v1` does, and only
 * for a bare name) at its current version, else a model at the version its name resolves to. The
 * kind an item must fit (`chat` messages or `embedding` input) comes from the model, or for a route
 * from the models its policy can reach, which must all be of one kind. Everything wrong is a 400
 * naming `body.model`.
 */
export async function resolveJobTarget(
  models: ModelRepository,
  routes: Pick<RouteLookup, 'current'> | undefined,
  projectId: string,
  type: JobType,
  name: string,
): Promise<JobTarget> {
  const route = routes !== undefined && isPlainName(name) ? await routes.current(projectId, name) : undefined;
  if (route !== undefined && routes !== undefined) {
    const kinds = await routeKinds(models, routes, projectId, route);
    if (kinds.size === 0) {
      throw validationError('body.model', `route '${route.name}' reaches no registered model`);
    }
    if (kinds.size > 1) {
      throw validationError(
        'body.model',
        `route '${route.name}' reaches models of several kinds (${[...kinds].join(', ')}); a job needs one kind`,
      );
    }
    const [kind] = kinds as Set<string>;
    return {
      type: 'route',
      name: route.name,
      version: route.version,
      kind: jobKind(type, kind as string, `route '${route.name}'`),
    };
  }
  const descriptor = await resolveModel(models, projectId, name);
  return {
    type: 'model',
    name: descriptor.name,
    version: descriptor.version,
    kind: jobKind(type, descriptor.kind, `model '${descriptor.name}'`),
  };
}

/** The kinds of the models a route's policy reaches, through nested routes; targets that no longer exist are left out (the gateway skips them too). */
async function routeKinds(
  models: ModelRepository,
  routes: Pick<RouteLookup, 'current'>,
  projectId: string,
  route: Route,
): Promise<Set<string>> {
  const kinds = new Set<string>();
  const seen = new Set<string>([route.name]);
  let frontier: Route[] = [route];
  for (let depth = 0; depth < maxRouteDepth && frontier.length > 0; depth += 1) {
    const next: Route[] = [];
    for (const current of frontier) {
      for (const target of distinctTargets(current.policy)) {
        if (seen.has(target)) continue;
        seen.add(target);
        const nested = isPlainName(target) ? await routes.current(projectId, target) : undefined;
        if (nested !== undefined) {
          next.push(nested);
          continue;
        }
        const descriptor = await models.resolve(projectId, target).catch(() => undefined);
        if (descriptor !== undefined && descriptor.status !== 'retired') kinds.add(descriptor.kind);
      }
    }
    frontier = next;
  }
  return kinds;
}

async function resolveModel(models: ModelRepository, projectId: string, name: string): Promise<ModelDescriptor> {
  let descriptor: ModelDescriptor;
  try {
    descriptor = await models.resolve(projectId, name);
  } catch (error) {
    // On a job the model is part of the request: a missing one makes the request invalid (400), not a 404.
    if (EnsembleError.isInstance(error) && (error.code === 'not_found' || error.code === 'validation_failed')) {
      throw validationError('body.model', error.message);
    }
    throw error;
  }
  if (descriptor.status === 'retired') {
    throw validationError('body.model', `model '${descriptor.name}' is retired`);
  }
  return descriptor;
}

function jobKind(type: JobType, kind: string, what: string): JobModelKind {
  if (type === 'embed') {
    if (kind !== 'embedding') {
      throw validationError('body.model', `${what} is a ${kind} model; an embed job needs an embedding model`);
    }
    return 'embedding';
  }
  if (kind !== 'chat' && kind !== 'embedding') {
    throw validationError('body.model', `${what} is a ${kind} model; batch-inference runs chat and embedding models`);
  }
  return kind;
}

/** Routes are named bare; `name@2` and `name:prod` always mean models. */
function isPlainName(name: string): boolean {
  try {
    return parseModelRef(name, 'body.model').selector.kind === 'default';
  } catch {
    return false;
  }
}
