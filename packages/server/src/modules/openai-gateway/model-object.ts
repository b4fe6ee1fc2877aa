import type { ModelDescriptor, Route } from '@ensemble/core';

/** A registry model as OpenAI's `model` object; its id is the registry name clients send as `model`. */
export function modelObject(descriptor: ModelDescriptor) {
  return {
    id: descriptor.name,
    object: 'model' as const,
    created: Math.floor(descriptor.registeredAt.getTime() / 1000),
    owned_by: descriptor.provider,
  };
}

/** `owned_by` of a route in the model list: clients call it like a model, and can tell it is not one. */
export const routeOwner = 'ensemble-route';

/** A route as OpenAI's `model` object (routes carry no registration time: `created` is 0). */
export function routeObject(route: Route) {
  return { id: route.name, object: 'model' as const, created: 0, owned_by: routeOwner };
}
