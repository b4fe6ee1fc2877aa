import type { CredentialSummary, NewCredential } from '../models/credential.ts';
import type { Page } from './project-repository.ts';

export type CredentialPutOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Provider API keys, encrypted at rest. Nothing here returns a secret except `reveal`, which only
 * runtimes call, never an API route.
 */
export interface CredentialRepository {
  /** Ordered by project, then name. */
  list(options: { limit: number; after?: string; projectId?: string }): Promise<Page<CredentialSummary>>;
  /** Throws `not_found`. */
  get(projectId: string, name: string): Promise<CredentialSummary>;
  /** Throws `conflict` when the name is taken in the project. */
  create(credential: NewCredential): Promise<CredentialSummary>;
  /** Creates or replaces; `unchanged` when the stored secret and provider are already these. */
  put(credential: NewCredential): Promise<{ credential: CredentialSummary; outcome: CredentialPutOutcome }>;
  /** Throws `not_found`. */
  delete(projectId: string, name: string): Promise<void>;
  /** The decrypted secret, for building a runtime. Never send it to a client or a log. */
  reveal(projectId: string, name: string): Promise<string>;
  /** Re-encrypts every credential not yet under the current master key. */
  rotate(): Promise<{ rotated: number; total: number }>;
}
