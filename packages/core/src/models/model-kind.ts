/** What a model does; the registry accepts others, but these are the ones Ensemble can call. */
export const modelKinds = ['chat', 'embedding', 'classifier'] as const;

export type ModelKind = (typeof modelKinds)[number];

export function isModelKind(value: string): value is ModelKind {
  return (modelKinds as readonly string[]).includes(value);
}
