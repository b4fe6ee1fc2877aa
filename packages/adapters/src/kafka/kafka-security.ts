import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import { createMskIamTokenProvider, type MskIamTokenGenerator } from './msk-iam-token-provider.ts';

/** `true` trusts Node's default CAs (Amazon MSK's certificates); `ca` adds a private CA (PEM). */
export type KafkaTlsOptions = boolean | { ca: string | Buffer };

export type KafkaSaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | {
      mechanism: 'aws-msk-iam';
      /** Region of the MSK cluster; credentials come from the default AWS chain (an ECS task role). */
      region: string;
      /** Replaces AWS's signer, for tests. */
      generateToken?: MskIamTokenGenerator;
    };

/** The part of @platformatic/kafka's client options that secures a connection. */
export interface KafkaClientSecurity {
  tls?: TlsConnectionOptions;
  sasl?: SASLOptions;
}

const clientMechanisms = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * Translates the adapter's TLS and SASL options into the client's. The password is handed over as a
 * function, so no options object that a client or a log line might print holds it as a value.
 */
export function kafkaClientSecurity(tls: KafkaTlsOptions | undefined, sasl: KafkaSaslOptions | undefined) {
  const security: KafkaClientSecurity = {};
  if (tls === true) security.tls = {};
  else if (typeof tls === 'object') security.tls = { ca: tls.ca };
  if (sasl?.mechanism === 'aws-msk-iam') {
    // MSK IAM is SASL/OAUTHBEARER whose token is a SigV4-presigned kafka-cluster:Connect request.
    security.sasl = {
      mechanism: 'OAUTHBEARER',
      token: createMskIamTokenProvider({ region: sasl.region, generate: sasl.generateToken }),
    };
  } else if (sasl !== undefined) {
    const { username, password } = sasl;
    security.sasl = { mechanism: clientMechanisms[sasl.mechanism], username, password: () => password };
  }
  return security;
}

/** What the log and error messages may say about the security in use: never a credential. */
export function describeKafkaSecurity(tls: KafkaTlsOptions | undefined, sasl: KafkaSaslOptions | undefined): string {
  const transport = tls ? 'TLS' : 'plaintext';
  if (sasl === undefined) return transport;
  if (sasl.mechanism === 'aws-msk-iam') return `${transport}, SASL aws-msk-iam (region ${sasl.region})`;
  return `${transport}, SASL ${sasl.mechanism} as user '${sasl.username}'`;
}
