import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost: N = 2^15, r = 8, p = 1 (32 MiB, ≈60–100 ms here), OWASP's minimum for scrypt. */
export const defaultScryptCost = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const keyLength = 32;

function scryptAsync(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node refuses above `maxmem` (32 MiB by default), so leave room.
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a password with node:crypto's scrypt and a random 16-byte salt. The parameters travel with
 * the hash (`scrypt$N$r$p$salt$hash`, base64url), so raising the cost later leaves old hashes valid.
 */
export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = defaultScryptCost,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A hash no password matches, verified when the account does not exist so the answer takes as long. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `stored` (compared in constant time). With `stored` undefined — an unknown
 * account or one without a password — a decoy hash is checked and the answer is false, so the time taken
 * does not tell whether the account exists.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (stored === null || stored === undefined) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await decoy);
    return false;
  }
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false;
  const expected = Buffer.from(key, 'base64url');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
