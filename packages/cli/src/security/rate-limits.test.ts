import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@ensemble/testkit';
import type { EnsembleProcess } from '../testing/ensemble-process.ts';
import { type FakeJobUpstream, startFakeJobUpstream } from '../testing/fake-job-upstream.ts';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

// Rate limits and budgets through real `ensemble start` processes sharing one PostgreSQL.
describe('rate limits and budgets across instances', { timeout: 240_000 }, () => {
  let harness: SecurityHarness;
  let second: EnsembleProcess;
  let upstream: FakeJobUpstream;
  const hooks: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.end('ok');
    });
  });

  before(async () => {
    upstream = await startFakeJobUpstream();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    harness = await openSecurityHarness('rate_limits', { worker: true, env: { BUDGET_REFRESH_MS: '500' } });
    second = await harness.another();
  });
  after(async () => {
    await harness?.close();
    await upstream?.close();
    receiver.close();
  });

  it('holds a key’s requests per minute across two instances: 429, Retry-After, x-ratelimit-*', async () => {
    const admin = harness.keys.a.admin;
    const set = await harness.call('PUT', `/api/limits/keys/${harness.keyIds.a.developer}`, admin, {
      requestsPerMinute: 6,
    });
    assert.equal(set.status, 200, set.text);
    const urls = [harness.ensemble.url, second.url];
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<SecurityHarness['call']>> | undefined;
    for (let i = 0; i < 14; i++) {
      const answer = await harness.call('GET', `${urls[i % 2]}/api/models`, harness.keys.a.developer);
      statuses.push(answer.status);
      if (answer.status === 429) refused ??= answer;
      else assert.equal(answer.headers.get('x-ratelimit-limit-requests'), '6');
    }
    // The other instance sees the limit only after LIMITS_CACHE_TTL_MS; at most 6 pass in all.
    assert.equal(statuses.filter((status) => status === 200).length, 6, statuses.join(','));
    assert.ok(refused);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.equal(refused.body.error.type, 'rate_limit_error');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
    // Another key of the project is not limited by this key's limit.
    assert.equal((await harness.call('GET', '/api/models', harness.keys.a.viewer)).status, 200);
  });

  it('applies a project’s limit to all its keys, and validates limits naming the field', async () => {
    const owner = harness.keys.b.owner;
    for (const [body, param] of [
      [{}, 'body'],
      [{ requestsPerMinute: 0 }, 'body.requestsPerMinute'],
      [{ budget: { amountUsd: 5, period: 'week' } }, 'body.budget.period'],
      [{ budget: { amountUsd: 5, period: 'day', webhookUrl: 'ftp://x' } }, 'body.budget.webhookUrl'],
    ] as const) {
      const answer = await harness.call('PUT', '/api/limits', owner, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error.param, param, answer.text);
    }
    assert.equal(
      (await harness.call('PUT', '/api/limits', harness.keys.b.developer, { requestsPerMinute: 1 })).status,
      403,
    );
    assert.equal((await harness.call('PUT', '/api/limits', owner, { requestsPerMinute: 3 })).status, 200);
    const statuses = [];
    for (const role of ['viewer', 'developer', 'admin', 'viewer', 'developer'] as const) {
      statuses.push((await harness.call('GET', '/api/routes', harness.keys.b[role])).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    // A key of project A may not see or set B's limits: its own project's only.
    const listed = await harness.call('GET', '/api/limits', harness.keys.a.owner);
    assert.ok(!listed.text.includes('"requestsPerMinute":3'));
    assert.equal(
      (
        await harness.call('PUT', `/api/limits/keys/${harness.keyIds.b.viewer}`, harness.keys.a.owner, {
          requestsPerMinute: 1,
        })
      ).status,
      404,
    );
  });

  it('charges tokens per minute after each call, and blocks a spent budget after warning once', async () => {
    const owner = harness.keys.a.owner;
    const model = await harness.call('POST', '/api/models', owner, {
      name: 'priced/chat',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'fake-chat',
      baseUrl: upstream.baseUrl,
      pricing: { inputPerMillionTokens: 1_000_000, outputPerMillionTokens: 1_000_000 },
    });
    assert.equal(model.status, 201, model.text);
    let n = 0;
    // A new question each time: the gateway's response cache would answer a repeat for free.
    const chat = (headers: Record<string, string>) =>
      harness.call('POST', '/v1/chat/completions', headers, {
        model: 'priced/chat',
        messages: [{ role: 'user', content: `question ${n++}` }],
      });

    // The Responses API is a chat call underneath: charged and limited alike.
    const respond = (headers: Record<string, string>) =>
      harness.call('POST', '/v1/responses', headers, { model: 'priced/chat', input: `question ${n++}` });

    // 15 tokens a call (the fake upstream's usage) against 20 a minute: the second call finds a debt.
    await harness.call('PUT', `/api/limits/keys/${harness.keyIds.a.admin}`, owner, { tokensPerMinute: 20 });
    const first = await respond(harness.keys.a.admin);
    assert.equal(first.status, 200, first.text);
    await waitFor('the tokens to be charged', async () => {
      const answer = await chat(harness.keys.a.admin);
      return answer.status === 429 ? answer : undefined;
    });
    assert.equal((await respond(harness.keys.a.admin)).status, 429);

    // Each call costs $15; a $20 daily budget warns at half and blocks once the ledger has $30 (spend is
    // read again at most every BUDGET_REFRESH_MS, 500 ms here, while calls come in).
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/budget`;
    const budget = { amountUsd: 20, period: 'day', warnAt: 0.5, webhookUrl: url };
    assert.equal(
      (await harness.call('PUT', `/api/limits/keys/${harness.keyIds.a.owner}`, owner, { budget })).status,
      200,
    );
    assert.equal((await chat(owner)).status, 200);
    const blocked = await waitFor(
      'the budget to block',
      async () => {
        const answer = await chat(owner);
        return answer.status === 429 ? answer : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(blocked.body.error.code, 'budget_exceeded');
    const blockedResponse = await respond(owner);
    assert.equal(blockedResponse.status, 429);
    assert.equal(blockedResponse.body.error.code, 'budget_exceeded');
    await waitFor('the warning webhook', async () => hooks.length > 0 || undefined);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal(hooks.length, 1, 'one warning per budget and period');
    const event = JSON.parse(hooks[0]?.body as string);
    assert.equal(event.type, 'security/budget.warned');
    assert.equal(event.data.keyId, harness.keyIds.a.owner);
    assert.match(String(hooks[0]?.headers['ensemble-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  });
});
