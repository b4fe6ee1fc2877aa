import { createHash } from 'node:crypto';

/**
 * A 64-bit key for `pg_advisory_lock` and friends, derived from readable parts so every process
 * computes the same key. Returned as a decimal string, to be cast with `$1::bigint`.
 */
export function advisoryLockKey(...parts: readonly (string | number)[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}
