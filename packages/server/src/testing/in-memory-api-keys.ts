import { generateApiKeyId, generateApiKeySecret, hashApiKeySecret } from '@ensemble/adapters/auth';
import {
  type ApiKey,
  type ApiKeyStore,
  type Authentication,
  authenticationFailed,
  type CreatedApiKey,
  defaultProjectId,
  type NewApiKey,
  type NewApiKeyInput,
  newApiKeySchema,
  notFound,
  type Page,
  roleOfNewKey,
  secretPrefixOf,
  validationError,
} from '@ensemble/core';

/**
 * A real `ApiKeyStore` kept in memory, for the server's module tests (which have no database): same
 * secrets, hashing, expiry and revocation rules as the PostgreSQL store, minus the cache it does not need.
 */
export class InMemoryApiKeys implements ApiKeyStore {
  readonly #byHash = new Map<string, ApiKey>();
  readonly #projects: Set<string>;
  now: () => number = Date.now;

  constructor(projects: readonly string[] = [defaultProjectId]) {
    this.#projects = new Set(projects);
  }

  /** Creates a key for a test without going through the API. */
  add(projectId: string, input: NewApiKeyInput): Promise<CreatedApiKey> {
    return this.create(projectId, newApiKeySchema.parse(input));
  }

  async authenticate(secret: string): Promise<Authentication> {
    const key = this.#byHash.get(hashApiKeySecret(secret));
    if (key === undefined) return authenticationFailed.unknown;
    if (key.revokedAt !== null) return authenticationFailed.revoked;
    if (key.expiresAt !== null && key.expiresAt.getTime() <= this.now()) return authenticationFailed.expired;
    key.lastUsedAt = new Date(this.now());
    return {
      principal: {
        keyId: key.id,
        projectId: key.projectId,
        admin: key.admin,
        role: key.role,
        tags: key.tags,
        ...(key.allowedModels === null ? {} : { allowedModels: key.allowedModels }),
        ...(key.allowedIps === null ? {} : { allowedIps: key.allowedIps }),
      },
    };
  }

  async create(projectId: string, input: NewApiKey): Promise<CreatedApiKey> {
    if (!this.#projects.has(projectId)) throw notFound('project', projectId);
    if (input.expiresAt !== undefined && input.expiresAt.getTime() <= this.now()) {
      throw validationError('expiresAt', 'must be in the future');
    }
    const secret = generateApiKeySecret();
    const key: ApiKey = {
      id: generateApiKeyId(),
      name: input.name,
      projectId,
      prefix: secretPrefixOf(secret),
      admin: input.admin,
      role: roleOfNewKey(input),
      allowedIps: input.allowedIps ?? null,
      allowedModels: input.allowedModels ?? null,
      tags: input.tags,
      bootstrap: false,
      expiresAt: input.expiresAt ?? null,
      createdAt: new Date(this.now()),
      lastUsedAt: null,
      revokedAt: null,
    };
    this.#byHash.set(hashApiKeySecret(secret), key);
    return { key: { ...key }, secret };
  }

  async list(projectId: string, options: { limit: number; after?: string }): Promise<Page<ApiKey>> {
    const all = [...this.#byHash.values()].filter((key) => key.projectId === projectId).reverse();
    const start = options.after === undefined ? 0 : all.findIndex((key) => key.id === options.after) + 1;
    const items = all.slice(start, start + options.limit).map((key) => ({ ...key }));
    const last = items.at(-1);
    return start + options.limit < all.length && last ? { items, nextCursor: last.id } : { items };
  }

  async get(projectId: string, id: string): Promise<ApiKey> {
    return { ...this.#find(projectId, id) };
  }

  async revoke(projectId: string, id: string): Promise<ApiKey> {
    const key = this.#find(projectId, id);
    key.revokedAt ??= new Date(this.now());
    return { ...key };
  }

  #find(projectId: string, id: string): ApiKey {
    for (const key of this.#byHash.values()) if (key.projectId === projectId && key.id === id) return key;
    throw notFound('API key', id);
  }
}
