import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnsembleError } from '../errors/ensemble-error.ts';
import { parseConfig } from './parse-config.ts';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EnsembleError);
    assert.equal(error.code, 'config_invalid');
    return error.message;
  }
  assert.fail('expected a configuration error');
}

describe('parseConfig', () => {
  it('runs with defaults when nothing is configured', () => {
    const config = parseConfig({ env: {} });
    assert.equal(config.server.port, 8080);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.home, './.ensemble');
    assert.equal(config.database.url, undefined);
    assert.equal(config.kafka.brokers, undefined);
    assert.equal(config.log.level, 'info');
    assert.equal(config.worker.inProcess, true);
  });

  it('lets the environment override the file', () => {
    const config = parseConfig({
      env: { PORT: '9001', KAFKA_BROKERS: ' 127.0.0.1:9092 ,10.0.0.2:9093' },
      file: { path: 'ensemble.yaml', content: { server: { port: 7000, host: '0.0.0.0' }, log: { level: 'debug' } } },
    });
    assert.equal(config.server.port, 9001);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092', '10.0.0.2:9093']);
  });

  it('names the variable and the fix for a wrong environment value', () => {
    const message = problemsOf(() => parseConfig({ env: { PORT: 'eighty' } }));
    assert.match(message, /- PORT: .*fix: set it to a TCP port/);
  });

  it('names the broker variable, not the list element, for a bad broker', () => {
    const message = problemsOf(() => parseConfig({ env: { KAFKA_BROKERS: 'localhost' } }));
    assert.match(message, /- KAFKA_BROKERS: each broker must be host:port/);
  });

  it('reports every problem at once, with file paths for file settings', () => {
    const message = problemsOf(() =>
      parseConfig({
        env: { LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' },
        file: { path: '/etc/ensemble.yaml', content: { server: { prot: 1 } } },
      }),
    );
    assert.match(message, /- LOG_LEVEL: /);
    assert.match(message, /- DATABASE_URL: must be a postgres:\/\//);
    assert.match(message, /- \/etc\/ensemble\.yaml: server: unknown setting\(s\) prot/);
  });

  it('refuses a file that is not a mapping', () => {
    const message = problemsOf(() => parseConfig({ env: {}, file: { path: 'e.yaml', content: ['a'] } }));
    assert.match(message, /e\.yaml: must be a mapping/);
  });

  it('reads TRUST_PROXY as a flag, a hop count or a list of addresses', () => {
    assert.equal(parseConfig({ env: {} }).server.trustProxy, false);
    assert.equal(parseConfig({ env: { TRUST_PROXY: 'true' } }).server.trustProxy, true);
    assert.equal(parseConfig({ env: { TRUST_PROXY: '2' } }).server.trustProxy, 2);
    assert.equal(
      parseConfig({ env: { TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' } }).server.trustProxy,
      '10.0.0.0/8,127.0.0.1',
    );
    assert.match(
      problemsOf(() => parseConfig({ env: { TRUST_PROXY: 'everyone' } })),
      /- TRUST_PROXY: .*fix: set it to false, true, a number of proxy hops/,
    );
  });

  it('parses booleans written as text', () => {
    assert.equal(parseConfig({ env: { ENSEMBLE_WORKER_IN_PROCESS: 'false' } }).worker.inProcess, false);
    assert.equal(parseConfig({ env: { ENSEMBLE_WORKER_IN_PROCESS: '1' } }).worker.inProcess, true);
    assert.match(
      problemsOf(() => parseConfig({ env: { ENSEMBLE_WORKER_IN_PROCESS: 'yes' } })),
      /ENSEMBLE_WORKER_IN_PROCESS/,
    );
  });
});
