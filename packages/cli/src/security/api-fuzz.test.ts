import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSecurityHarness, type SecurityHarness } from '../testing/security-harness.ts';

/** The schemathesis CLI: `.ci/run` installs it from PyPI into this venv (SCHEMATHESIS overrides). */
const schemathesis =
  process.env.SCHEMATHESIS ??
  fileURLToPath(new URL('../../../../.cache/schemathesis-venv/bin/schemathesis', import.meta.url));

// The whole HTTP API fuzzed from its own OpenAPI document by schemathesis, against a real `ensemble
// start`: no 5xx, no answer that violates the documented schema, no request that hangs.
describe('API fuzzing with schemathesis', { timeout: 900_000 }, () => {
  let harness: SecurityHarness;
  before(async () => {
    assert.ok(
      existsSync(schemathesis),
      `schemathesis not found at ${schemathesis}: python3 -m venv .cache/schemathesis-venv && .cache/schemathesis-venv/bin/pip install schemathesis`,
    );
    // Schemathesis also sends wrong keys on purpose; the failed-attempt throttle would then answer 429 to all.
    harness = await openSecurityHarness('api_fuzz', { env: { AUTH_FAILED_ATTEMPTS_PER_MINUTE: '0' } });
  });
  after(() => harness?.close());

  it('finds no server error, schema violation or hang', async () => {
    const args = [
      'run',
      `${harness.ensemble.url}/openapi.json`,
      '--header',
      `Authorization: ${harness.keys.a.developer.authorization}`,
      '--checks',
      'not_a_server_error,response_schema_conformance',
      '--max-examples',
      process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '10',
      '--request-timeout',
      '15',
      '--workers',
      '1',
      '--no-color',
    ];
    // Schemathesis keeps a `.schemathesis/` cache in its working directory: not in the repository.
    const child = spawn(schemathesis, args, { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    // The summary (operations, phases, cases generated and passed) for the CI log.
    console.log(output.slice(output.lastIndexOf('SUMMARY') - 40));
    assert.equal(code, 0, output.slice(-6000));
  });
});
