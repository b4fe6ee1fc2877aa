import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { environmentVariables } from './config-schema.ts';

// The documentation is part of the product: every setting is documented, and nothing else is.
it('docs/configuration.md lists exactly the settings the schema knows', () => {
  const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)`\s*\| `([a-zA-Z.]+)`\s*\|/gm)].map((m) => [m[1], m[2]]);
  const expected = Object.entries(environmentVariables).map(([name, { path }]) => [name, path]);
  assert.deepEqual(rows.sort(), expected.sort());
});
