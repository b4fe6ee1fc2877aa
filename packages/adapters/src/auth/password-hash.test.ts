import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hashPassword, verifyPassword } from './password-hash.ts';

it('hashes with scrypt, a fresh salt and its parameters, and verifies only the right password', async () => {
  const cheap = { N: 2 ** 10, r: 8, p: 1 };
  const [one, two] = await Promise.all([hashPassword('correct horse', cheap), hashPassword('correct horse', cheap)]);
  assert.match(one, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.notEqual(one, two, 'the same password hashes differently (salt)');
  assert.equal(await verifyPassword('correct horse', one), true);
  assert.equal(await verifyPassword('correct horsE', one), false);
  // Stored parameters are the ones used: a hash made at another cost still verifies.
  assert.equal(await verifyPassword('correct horse', await hashPassword('correct horse')), true);
  // No hash (unknown account, SSO-only account) or a malformed one never matches.
  assert.equal(await verifyPassword('correct horse', undefined), false);
  assert.equal(await verifyPassword('correct horse', null), false);
  assert.equal(await verifyPassword('correct horse', 'md5$abc'), false);
});
