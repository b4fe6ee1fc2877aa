import type { ModelDescriptor } from '@ensemble/core';

/** A registry model as OpenAI's `model` object; its id is the registry name clients send as `model`. */
export function modelObject(descriptor: ModelDescriptor) {
  return {
    id: descriptor.name,
    object: 'model' as const,
    created: Math.floor(descriptor.registeredAt.getTime() / 1000),
    owned_by: descriptor.provider,
  };
}
