import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EnsembleError } from '@ensemble/core';
import { loadConfig } from './load-config.ts';

const folder = () => mkdtempSync(join(tmpdir(), 'ensemble-config-'));

function configError(fn: () => unknown): EnsembleError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EnsembleError);
    assert.equal(error.code, 'config_invalid');
    return error;
  }
  assert.fail('expected a configuration error');
}

describe('loadConfig', () => {
  it('runs on defaults when there is no ensemble.yaml', () => {
    assert.equal(loadConfig({ env: {}, cwd: folder() }).server.port, 8080);
  });

  it('reads ./ensemble.yaml, with the environment on top', () => {
    const cwd = folder();
    writeFileSync(join(cwd, 'ensemble.yaml'), 'server:\n  port: 9100\n  host: 0.0.0.0\nlog:\n  level: warn\n');
    const config = loadConfig({ env: { LOG_LEVEL: 'debug' }, cwd });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.log.level, 'debug');
  });

  it('fails when an explicit file is missing, naming where it came from', () => {
    const cwd = folder();
    assert.match(
      configError(() => loadConfig({ env: {}, cwd, configPath: 'nope.yaml' })).message,
      /nope\.yaml does not exist \(from --config\)/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ENSEMBLE_CONFIG: 'x.yaml' }, cwd })).message,
      /from ENSEMBLE_CONFIG/,
    );
  });

  it('reports broken YAML with its line', () => {
    const cwd = folder();
    writeFileSync(join(cwd, 'bad.yaml'), 'server:\n  port: 1\n  port: 2\n');
    assert.match(
      configError(() => loadConfig({ env: {}, cwd, configPath: 'bad.yaml' })).message,
      /bad\.yaml:3:\d+ is not valid YAML/,
    );
  });

  it('names unknown settings in the file', () => {
    const cwd = folder();
    writeFileSync(join(cwd, 'ensemble.yaml'), 'databse:\n  url: postgres://x\n');
    assert.match(
      configError(() => loadConfig({ env: {}, cwd })).message,
      /ensemble\.yaml: \(root\): unknown setting\(s\) databse/,
    );
  });
});
