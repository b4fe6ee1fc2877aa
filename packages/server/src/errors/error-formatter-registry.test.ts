import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorFormatterRegistry } from './error-formatter-registry.ts';
import type { ErrorFormatter } from './error-problem.ts';

const named =
  (name: string): ErrorFormatter =>
  () =>
    name;

describe('ErrorFormatterRegistry', () => {
  const registry = new ErrorFormatterRegistry(named('default'));
  registry.register('/pinecone', named('pinecone'));
  registry.register('/pinecone/admin', named('admin'));

  const formatterFor = (url: string) => registry.resolve(url)({} as never, {} as never);

  test('matches a prefix on a path segment boundary, ignoring the query', () => {
    assert.equal(formatterFor('/pinecone'), 'pinecone');
    assert.equal(formatterFor('/pinecone/query?x=1'), 'pinecone');
    assert.equal(formatterFor('/pinecone?x=1'), 'pinecone');
    assert.equal(formatterFor('/pineconex'), 'default');
    assert.equal(formatterFor('/v1/chat/completions'), 'default');
  });

  test('the longest prefix wins', () => {
    assert.equal(formatterFor('/pinecone/admin/keys'), 'admin');
  });

  test('refuses malformed and duplicate prefixes', () => {
    for (const prefix of ['', '/', 'pinecone', '/pinecone/', '/a b', '/x?y']) {
      assert.throws(() => registry.register(prefix, named('x')), TypeError, prefix);
    }
    assert.throws(() => registry.register('/pinecone', named('again')), /already registered/);
  });
});
