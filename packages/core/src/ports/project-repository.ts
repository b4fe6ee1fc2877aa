import type { NewProject, Project } from '../projects/project.ts';

export interface Page<T> {
  items: T[];
  /** Pass back as `after` to get the next page; absent on the last page. */
  nextCursor?: string;
}

export interface ProjectRepository {
  /** Ordered by id; `after` is a cursor from a previous page. */
  list(options: { limit: number; after?: string }): Promise<Page<Project>>;
  /** Throws `not_found`. */
  get(id: string): Promise<Project>;
  /** Throws `conflict` when the id is taken. */
  create(project: NewProject): Promise<Project>;
}
