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

  it('lets the built-in models be deployed, only registered, or left out', () => {
    assert.equal(parseConfig({ env: {} }).runtimes.builtInModels, 'deploy');
    assert.equal(parseConfig({ env: { ENSEMBLE_BUILT_IN_MODELS: 'off' } }).runtimes.builtInModels, 'off');
    assert.match(
      problemsOf(() => parseConfig({ env: { ENSEMBLE_BUILT_IN_MODELS: 'maybe' } })),
      /ENSEMBLE_BUILT_IN_MODELS: .*fix: set it to deploy/,
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

  describe('Kafka security', () => {
    const brokers = 'b-1.msk.example:9096';
    const secret = 'hunter2-very-secret';

    it('defaults to plaintext without authentication', () => {
      const { kafka } = parseConfig({ env: {} });
      assert.equal(kafka.tls, false);
      assert.equal(kafka.tlsCaFile, undefined);
      assert.equal(kafka.saslMechanism, undefined);
    });

    it('reads TLS with a private CA and SCRAM credentials', () => {
      const { kafka } = parseConfig({
        env: {
          KAFKA_BROKERS: brokers,
          KAFKA_TLS: 'true',
          KAFKA_TLS_CA_FILE: '/etc/ensemble/ca.pem',
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'ensemble',
          KAFKA_SASL_PASSWORD: secret,
        },
      });
      assert.equal(kafka.tls, true);
      assert.equal(kafka.tlsCaFile, '/etc/ensemble/ca.pem');
      assert.equal(kafka.saslMechanism, 'scram-sha-512');
      assert.equal(kafka.saslUsername, 'ensemble');
      assert.equal(kafka.saslPassword, secret);
    });

    it('reads IAM authentication with its region', () => {
      const { kafka } = parseConfig({
        env: {
          KAFKA_BROKERS: brokers,
          KAFKA_TLS: 'true',
          KAFKA_SASL_MECHANISM: 'aws-msk-iam',
          KAFKA_AWS_REGION: 'eu-west-1',
        },
      });
      assert.equal(kafka.saslMechanism, 'aws-msk-iam');
      assert.equal(kafka.awsRegion, 'eu-west-1');
    });

    it('refuses an unknown mechanism, naming the choices', () => {
      const message = problemsOf(() => parseConfig({ env: { KAFKA_SASL_MECHANISM: 'kerberos' } }));
      assert.match(
        message,
        /- KAFKA_SASL_MECHANISM: .*fix: set it to one of plain, scram-sha-256, scram-sha-512, aws-msk-iam/,
      );
    });

    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      it(`names the missing password for ${mechanism}, without echoing the user name`, () => {
        const message = problemsOf(() =>
          parseConfig({ env: { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'svc-user' } }),
        );
        assert.match(
          message,
          new RegExp(
            `KAFKA_SASL_PASSWORD \\(kafka.saslPassword\\) is required when KAFKA_SASL_MECHANISM is ${mechanism}`,
          ),
        );
        assert.doesNotMatch(message, /KAFKA_SASL_USERNAME \(/);
        assert.doesNotMatch(message, /svc-user/);
      });
    }

    it('names the missing user name and never shows the password', () => {
      const message = problemsOf(() =>
        parseConfig({ env: { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: secret } }),
      );
      assert.match(
        message,
        /KAFKA_SASL_USERNAME \(kafka.saslUsername\) is required when KAFKA_SASL_MECHANISM is scram-sha-512/,
      );
      assert.doesNotMatch(message, new RegExp(secret));
    });

    it('names both when a SCRAM mechanism has neither', () => {
      const message = problemsOf(() => parseConfig({ env: { KAFKA_SASL_MECHANISM: 'scram-sha-256' } }));
      assert.match(message, /KAFKA_SASL_USERNAME \(kafka.saslUsername\) is required/);
      assert.match(message, /KAFKA_SASL_PASSWORD \(kafka.saslPassword\) is required/);
    });

    it('refuses credentials without a mechanism instead of silently connecting unauthenticated', () => {
      const message = problemsOf(() =>
        parseConfig({ env: { KAFKA_SASL_USERNAME: 'svc-user', KAFKA_SASL_PASSWORD: secret } }),
      );
      assert.match(message, /- KAFKA_SASL_PASSWORD: KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is unset/);
      assert.doesNotMatch(message, new RegExp(secret));
    });

    it('needs a region and TLS for IAM', () => {
      const message = problemsOf(() =>
        parseConfig({ env: { KAFKA_SASL_MECHANISM: 'aws-msk-iam', KAFKA_TLS: 'false' } }),
      );
      assert.match(
        message,
        /KAFKA_AWS_REGION \(kafka.awsRegion\) is required when KAFKA_SASL_MECHANISM is aws-msk-iam/,
      );
      assert.match(
        message,
        /- KAFKA_TLS: KAFKA_TLS \(kafka.tls\) must be true when KAFKA_SASL_MECHANISM is aws-msk-iam/,
      );
      assert.match(
        problemsOf(() => parseConfig({ env: { KAFKA_AWS_REGION: 'Ireland' } })),
        /- KAFKA_AWS_REGION: must be an AWS region such as eu-west-1/,
      );
    });

    it('refuses a CA file without TLS', () => {
      const message = problemsOf(() => parseConfig({ env: { KAFKA_TLS_CA_FILE: '/ca.pem' } }));
      assert.match(message, /- KAFKA_TLS_CA_FILE: KAFKA_TLS_CA_FILE is set but KAFKA_TLS is false/);
    });

    it('accepts the same settings from ensemble.yaml', () => {
      const { kafka } = parseConfig({
        env: { KAFKA_SASL_PASSWORD: secret },
        file: {
          path: 'ensemble.yaml',
          content: {
            kafka: { brokers: [brokers], tls: true, saslMechanism: 'scram-sha-512', saslUsername: 'ensemble' },
          },
        },
      });
      assert.equal(kafka.tls, true);
      assert.equal(kafka.saslPassword, secret);
    });
  });
});
