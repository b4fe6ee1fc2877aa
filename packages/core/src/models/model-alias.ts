/** Where an alias points now. */
export interface ModelAlias {
  alias: string;
  version: number;
  updatedAt: Date;
  updatedBy: string;
}

/** One move of an alias; `fromVersion` is null when it was created, `toVersion` null when deleted. */
export interface AliasHistoryEntry {
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  at: Date;
}
