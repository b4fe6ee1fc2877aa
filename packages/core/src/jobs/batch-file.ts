import type { Page } from '../ports/project-repository.ts';

/** A file uploaded through OpenAI's Files API (`purpose: batch`); its bytes are in the artifact store. */
export interface BatchFile {
  /** `file-` and 24 base62 characters. */
  id: string;
  projectId: string;
  purpose: string;
  filename: string;
  bytes: number;
  sha256: string;
  createdAt: Date;
}

export const batchFileIdPattern = /^file-[A-Za-z0-9]{24}$/;

/** Uploaded batch files (PostgreSQL); unknown ids throw `not_found`. */
export interface BatchFileRepository {
  create(file: Omit<BatchFile, 'id' | 'createdAt'>): Promise<BatchFile>;
  get(projectId: string, id: string): Promise<BatchFile>;
  /** Newest first; `after` is a file id from the previous page. */
  list(projectId: string, options: { limit: number; after?: string; purpose?: string }): Promise<Page<BatchFile>>;
}
