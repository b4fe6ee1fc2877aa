import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditActionOf, isAuditedRoute, redactSecrets } from './audit-entry.ts';

describe('audit entries', () => {
  it('redacts secret fields, key-shaped values and passwords in URLs, at any depth', () => {
    const redacted = redactSecrets({
      name: 'ci',
      secret: 'ens_abcdefghijklmnop',
      nested: [{ apiKey: 'x' }, 'sk-abcdefghijklmnopqrst', { note: 'whsec_abcdefghijklmnop' }],
      baseUrl: 'https://user:hunter2@api.example.com/v1',
      prefix: 'ens_ab12…',
    });
    assert.deepEqual(redacted, {
      name: 'ci',
      secret: '[redacted]',
      nested: [{ apiKey: '[redacted]' }, '[redacted]', { note: '[redacted]' }],
      baseUrl: 'https://[redacted]@api.example.com/v1',
      prefix: 'ens_ab12…',
    });
  });

  it('audits administrative writes, not use', () => {
    for (const [method, url] of [
      ['POST', '/api/keys'],
      ['PATCH', '/api/models/:name'],
      ['PUT', '/api/models/:name/aliases/:alias'],
      ['POST', '/api/credentials/rotate'],
      ['PUT', '/api/limits/keys/:id'],
      ['POST', '/api/models/:name/deploy'],
      ['POST', '/api/collections'],
      ['POST', '/api/pipelines'],
    ]) {
      assert.ok(isAuditedRoute(method as string, url as string), `${method} ${url}`);
    }
    for (const [method, url] of [
      ['GET', '/api/keys'],
      ['POST', '/v1/chat/completions'],
      ['POST', '/api/models/:name/invoke'],
      ['POST', '/api/jobs'],
      ['POST', '/api/collections/:name/vectors'],
      ['POST', '/api/collections/:name/search'],
      ['POST', '/api/pipelines/:name/run'],
    ]) {
      assert.ok(!isAuditedRoute(method as string, url as string), `${method} ${url}`);
    }
  });

  it('names actions after the route', () => {
    assert.equal(auditActionOf('POST', '/api/keys').action, 'keys.create');
    assert.equal(auditActionOf('DELETE', '/api/keys/:id').action, 'keys.delete');
    assert.equal(auditActionOf('PATCH', '/api/models/:name').action, 'models.update');
    assert.equal(auditActionOf('PUT', '/api/models/:name/aliases/:alias').action, 'models.aliases.update');
    assert.equal(auditActionOf('POST', '/api/models/:name/versions').action, 'models.versions.create');
    assert.equal(auditActionOf('POST', '/api/credentials/rotate').action, 'credentials.rotate');
    assert.equal(auditActionOf('POST', '/api/models/:name/deploy').action, 'models.deploy');
    assert.equal(auditActionOf('PUT', '/api/limits').action, 'limits.update');
  });
});
