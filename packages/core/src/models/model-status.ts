/** Where a model is in its life: registered, being loaded or checked, serving, broken, or withdrawn. */
export const modelStatuses = ['registered', 'deploying', 'ready', 'failed', 'retired'] as const;

export type ModelStatus = (typeof modelStatuses)[number];
