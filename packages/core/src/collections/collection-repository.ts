import type { Page } from '../ports/project-repository.ts';
import type { Collection } from './collection.ts';

export type CollectionRow = Omit<Collection, 'id' | 'createdAt' | 'updatedAt'>;

/** Collection storage (names unique per project). Unknown names throw `not_found`. */
export interface CollectionRepository {
  /** Ordered by name. */
  list(projectId: string, options: { limit: number; after?: string }): Promise<Page<Collection>>;
  get(projectId: string, name: string): Promise<Collection>;
  /** `conflict` when the name is taken in the project. */
  create(collection: CollectionRow): Promise<Collection>;
  /** Removes the row; the caller drops the vectors. */
  delete(projectId: string, name: string): Promise<Collection>;
}
