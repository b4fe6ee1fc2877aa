import type { MetadataFilterInput } from '@ensemble/core';

/**
 * Rewrites `{field: value}` into `{field: {$eq: value}}` throughout a filter (same meaning). The SDK's
 * own check rejects a bare falsy value (`{done: false}`) as "empty" before sending it.
 */
export function explicitEquality(filter: MetadataFilterInput): MetadataFilterInput {
  const out: MetadataFilterInput = {};
  for (const [key, value] of Object.entries(filter)) {
    if ((key === '$and' || key === '$or') && Array.isArray(value)) {
      out[key] = value.map((child) => explicitEquality(child as MetadataFilterInput));
    } else if (!key.startsWith('$') && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      out[key] = { $eq: value };
    } else out[key] = value;
  }
  return out;
}
