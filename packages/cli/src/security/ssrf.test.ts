import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

/** Internal targets an attacker would aim a URL at, spelled the ways that slip past naive checks. */
const targets = [
  'http://127.0.0.1:9/v1',
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://[::1]:9/v1',
  'http://localhost:9/v1',
  'http://0.0.0.0:9/v1',
  'http://10.0.0.1/v1',
  'http://192.168.1.1/v1',
  'http://172.16.0.1/v1',
  'http://100.64.0.1/v1',
  'http://[fd00::1]/v1',
  'http://[fe80::1]/v1',
  'http://[::ffff:127.0.0.1]/v1',
  'http://[::ffff:169.254.169.254]/',
  'http://2130706433/v1',
  'http://0x7f.0.0.1/v1',
  'http://017700000001/v1',
  'http://127.1/v1',
  'https://[64:ff9b::a9fe:a9fe]/',
];

/** Every request body field that names a URL Ensemble will call, as the API takes it. */
const fields: Array<{ field: string; method: string; path: string; body: (url: string) => unknown }> = [
  {
    field: 'body.baseUrl',
    method: 'POST',
    path: '/api/models',
    body: (url) => ({
      name: 'ssrf/model',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'x',
      baseUrl: url,
    }),
  },
  {
    field: 'body.webhook.url',
    method: 'POST',
    path: '/api/jobs',
    body: (url) => ({
      type: 'batch-inference',
      model: 'public/model',
      inputs: [{ customId: 'q', messages: [{ role: 'user', content: 'hi' }] }],
      webhook: { url },
    }),
  },
  {
    field: 'body.budget.webhookUrl',
    method: 'PUT',
    path: '/api/limits',
    body: (url) => ({ budget: { amountUsd: 10, period: 'day', webhookUrl: url } }),
  },
];

// SSRF attempts against every URL-taking field of a real `ensemble start` with no internal network
// allowed (OUTBOUND_ALLOWED_NETWORKS empty): each is refused with a 400 naming the field.
describe('SSRF: user-supplied URLs never reach internal addresses', { timeout: 180_000 }, () => {
  let harness: SecurityHarness;
  before(async () => {
    harness = await openSecurityHarness('ssrf', { env: { OUTBOUND_ALLOWED_NETWORKS: '' } });
    const model = await harness.call('POST', '/api/models', harness.keys.a.owner, {
      name: 'public/model',
      kind: 'chat',
      provider: 'openai-compatible',
      providerModelId: 'x',
      baseUrl: 'https://93.184.215.14/v1',
    });
    assert.equal(model.status, 201, `a public address is accepted: ${model.text}`);
  });
  after(() => harness?.close());

  it('refuses every internal target in every URL field', async () => {
    const wrong: string[] = [];
    let cases = 0;
    for (const { field, method, path, body } of fields) {
      for (const url of targets) {
        cases += 1;
        const answer = await harness.call(method, path, harness.keys.a.owner, body(url));
        const param = answer.body?.error?.param;
        if (answer.status !== 400 || param !== field) wrong.push(`${field} = ${url}: ${answer.status} ${answer.text}`);
      }
    }
    assert.deepEqual(wrong, []);
    console.log(`SSRF: ${cases} cases (${fields.length} fields × ${targets.length} targets) refused`);
  });

  it("leaves a caller's data alone: an image in a chat message is the provider's to read, not a URL Ensemble calls", async () => {
    const message = (url: string) => ({
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url } },
      ],
    });
    for (const url of [
      'data:image/png;base64,iVBORw0KGgo=',
      'http://127.0.0.1:9/cat.png',
      'https://example.com/cat.png',
    ]) {
      // An unknown model answers 404 from the handler: the guard's preHandler let the body through.
      const answer = await harness.call('POST', '/v1/chat/completions', harness.keys.a.owner, {
        model: 'nobody/here',
        messages: [message(url)],
      });
      assert.equal(answer.status, 404, `${url}: ${answer.text}`);
      const job = await harness.call('POST', '/api/jobs', harness.keys.a.owner, {
        type: 'batch-inference',
        model: 'public/model',
        inputs: [{ customId: 'q', messages: [message(url)] }],
      });
      assert.equal(job.status, 201, `${url}: ${job.text}`);
    }
  });

  it('still takes public addresses', async () => {
    const limits = await harness.call('PUT', '/api/limits', harness.keys.a.owner, {
      budget: { amountUsd: 10, period: 'day', webhookUrl: 'https://93.184.215.14/hook' },
    });
    assert.equal(limits.status, 200, limits.text);
  });
});
