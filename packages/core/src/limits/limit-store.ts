import type { LimitSettings } from './limit-settings.ts';

/** A stored limit: of the project (`keyId` null) or of one of its keys. */
export interface StoredLimit {
  projectId: string;
  keyId: string | null;
  settings: LimitSettings;
  updatedAt: Date;
}

/** The limits people set, per project and per key. Every method is scoped by project. */
export interface LimitStore {
  /** The project's own limit and every key's, project first. */
  list(projectId: string): Promise<StoredLimit[]>;
  /** The limits that apply to a caller: the project's and its key's. */
  effective(projectId: string, keyId: string | null): Promise<{ project?: LimitSettings; key?: LimitSettings }>;
  /** Sets (replaces) a limit; `not_found` when the key is not one of the project's. Returns the previous one. */
  put(
    projectId: string,
    keyId: string | null,
    settings: LimitSettings,
  ): Promise<{ previous: StoredLimit | undefined; current: StoredLimit }>;
  /** Removes a limit; `not_found` when there is none. Returns what was removed. */
  remove(projectId: string, keyId: string | null): Promise<StoredLimit>;
}

/**
 * Token buckets shared by every instance. `take` refills the bucket for the time elapsed, then takes
 * up to `want` tokens (never more than there are) and says how many it got and how many are left;
 * `give` adds tokens back or, with a negative amount, charges a debt that later refills.
 */
export interface SharedBuckets {
  take(bucket: string, capacity: number, perSecond: number, want: number): Promise<{ granted: number; left: number }>;
  give(bucket: string, capacity: number, perSecond: number, amount: number): Promise<void>;
}

/** The cost spent by a project, or one of its keys, since an instant (from the usage ledger). */
export interface SpendSource {
  spent(projectId: string, keyId: string | null, since: Date): Promise<number>;
}
