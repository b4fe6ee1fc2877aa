import type { ModelDescriptor } from '@ensemble/core';

/** `name@version`: how a target is named in `x-ensemble-target`, the ledger and messages. */
export function targetLabel(descriptor: Pick<ModelDescriptor, 'name' | 'version'>): string {
  return `${descriptor.name}@${descriptor.version}`;
}
