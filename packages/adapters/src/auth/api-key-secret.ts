import { hash, randomBytes } from 'node:crypto';
import { apiKeySecretPrefix } from '@ensemble/core';

const base62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly from [A-Za-z0-9] (rejection sampling, so no character is favoured). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes above it would make the first characters more likely.
      if (byte < 248) out += base62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new secret: `ens_` and 43 base62 characters, 256 bits of randomness. */
export function generateApiKeySecret(): string {
  return `${apiKeySecretPrefix}${randomBase62(43)}`;
}

/** A key's id, shown in lists and logs in place of the secret: `key_` and 16 base62 characters. */
export function generateApiKeyId(): string {
  return `key_${randomBase62(16)}`;
}

/**
 * What is stored and looked up instead of the secret: its SHA-256 in hex. A fast hash suffices for
 * secrets with at least 190 bits of randomness (decision 0008): no dictionary or brute force reaches them.
 */
export function hashApiKeySecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
