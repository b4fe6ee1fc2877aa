import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/parse-config.ts';
import { EnsembleError } from '../errors/ensemble-error.ts';

const model = (extra: Record<string, unknown> = {}) => ({
  name: 'openai/gpt-4o-mini',
  kind: 'chat',
  provider: 'openai',
  providerModelId: 'gpt-4o-mini',
  ...extra,
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EnsembleError);
    return error.message;
  }
  assert.fail('expected a configuration error');
}

describe('models and credentials in ensemble.yaml', () => {
  it('accepts declared models and credentials by reference', () => {
    const config = parseConfig({
      env: {},
      file: {
        path: 'ensemble.yaml',
        content: {
          models: [model({ credential: 'openai' })],
          credentials: [
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference users write in the file
            { name: 'openai', provider: 'openai', apiKey: '${OPENAI_API_KEY}' },
            { name: 'anthropic', provider: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY' },
          ],
        },
      },
    });
    assert.equal(config.models[0]?.retire, false);
    assert.deepEqual(
      config.credentials.map((c) => c.env),
      ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'],
    );
  });

  it('names the entry and field at fault, like models[2].provider', () => {
    const message = messageOf(() =>
      parseConfig({
        env: {},
        file: { path: 'ensemble.yaml', content: { models: [model(), model(), model({ provider: 'Open AI' })] } },
      }),
    );
    assert.match(message, /- ensemble\.yaml: models\[2\]\.provider: /);
  });

  it('refuses a literal key in the file', () => {
    const message = messageOf(() =>
      parseConfig({
        env: {},
        file: { path: 'e.yaml', content: { credentials: [{ name: 'x', provider: 'openai', apiKey: 'sk-live-123' }] } },
      }),
    );
    assert.match(message, /e\.yaml: credentials\[0\]\.apiKey: must reference an environment variable/);
    assert.doesNotMatch(message, /sk-live-123/);
  });

  it('validates the master keys', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = parseConfig({ env: { ENSEMBLE_MASTER_KEY: key, ENSEMBLE_MASTER_KEY_PREVIOUS: `${key}, ${key}` } });
    assert.equal(config.secrets.masterKey, key);
    assert.equal(config.secrets.previousMasterKeys.length, 2);
    assert.match(
      messageOf(() => parseConfig({ env: { ENSEMBLE_MASTER_KEY: 'c2hvcnQ=' } })),
      /- ENSEMBLE_MASTER_KEY: must be 32/,
    );
    assert.match(
      messageOf(() => parseConfig({ env: { ENSEMBLE_MASTER_KEY_PREVIOUS: 'nope' } })),
      /- ENSEMBLE_MASTER_KEY_PREVIOUS: /,
    );
  });
});
