import type { Page } from '../ports/project-repository.ts';
import type { ApiKey, CreatedApiKey, NewApiKey } from './api-key.ts';
import type { Authenticator } from './authenticator.ts';

/** API keys: created with a random secret stored only as a hash, listed without it, revoked. */
export interface ApiKeyStore extends Authenticator {
  /** Throws `not_found` when the project does not exist. The secret is returned here and never again. */
  create(projectId: string, key: NewApiKey): Promise<CreatedApiKey>;
  /** The project's keys, newest first, revoked ones included; `after` is a cursor from a previous page. */
  list(projectId: string, options: { limit: number; after?: string }): Promise<Page<ApiKey>>;
  /** Throws `not_found` when the project has no such key. */
  get(projectId: string, id: string): Promise<ApiKey>;
  /**
   * Stops the key from authenticating: at once on this process, on others within their cache's
   * lifetime. Revoking a revoked key returns it unchanged. Throws `not_found` like `get`.
   */
  revoke(projectId: string, id: string): Promise<ApiKey>;
}
