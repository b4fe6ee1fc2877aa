import { z } from 'zod';
import { adminKeyProblem } from '../auth/api-key.ts';
import { emailSchema, passwordSchema } from '../auth/console-user.ts';
import { declaredCredentialSchema, declaredModelSchema } from '../models/declared-models.ts';
import { projectIdSchema } from '../projects/project.ts';
import { declaredRouteSchema } from '../routes/declared-routes.ts';
import { projectRoleSchema } from '../security/project-role.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

/** Fastify's `trustProxy`: off, on, a number of hops, or the proxies' addresses/CIDRs. */
const trustProxy = z.union([
  z.boolean(),
  z.number().int().nonnegative(),
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      if (value === 'true' || value === 'false') return value === 'true';
      if (/^\d+$/.test(value)) return Number(value);
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.some((entry) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))) {
        ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count, or addresses/CIDRs' });
        return z.NEVER;
      }
      return entries.join(',');
    }),
]);

const brokerList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'each broker must be host:port, e.g. 127.0.0.1:9092'))
      .min(1, 'list at least one broker'),
  );

export const kafkaSaslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

interface KafkaSecuritySettings {
  tls: boolean;
  tlsCaFile?: string | undefined;
  saslMechanism?: KafkaSaslMechanism | undefined;
  saslUsername?: string | undefined;
  saslPassword?: string | undefined;
  awsRegion?: string | undefined;
}

/**
 * Settings that only make sense together. Each problem sits on the missing setting and names its
 * variable, since a missing value has no variable of its own to blame. Values are never echoed.
 */
function checkKafkaSecurity(kafka: KafkaSecuritySettings, ctx: z.RefinementCtx): void {
  const missing = (key: keyof KafkaSecuritySettings, variable: string, why: string) =>
    ctx.addIssue({ code: 'custom', path: [key], message: `${variable} (kafka.${key}) is required ${why}` });
  const mechanism = kafka.saslMechanism;
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    const why = `when KAFKA_SASL_MECHANISM is ${mechanism}`;
    if (kafka.saslUsername === undefined) missing('saslUsername', 'KAFKA_SASL_USERNAME', why);
    if (kafka.saslPassword === undefined) missing('saslPassword', 'KAFKA_SASL_PASSWORD', why);
  }
  if (mechanism === 'aws-msk-iam') {
    const why = 'when KAFKA_SASL_MECHANISM is aws-msk-iam';
    if (kafka.awsRegion === undefined) missing('awsRegion', 'KAFKA_AWS_REGION', why);
    // MSK serves IAM authentication only on its TLS listener (port 9098).
    if (!kafka.tls) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: `KAFKA_TLS (kafka.tls) must be true ${why}: MSK accepts IAM only over TLS (port 9098)`,
      });
    }
  }
  if (mechanism === undefined || mechanism === 'aws-msk-iam') {
    // A user name or password that nothing uses is a half-done setup, not something to ignore.
    for (const [key, variable] of [
      ['saslUsername', 'KAFKA_SASL_USERNAME'],
      ['saslPassword', 'KAFKA_SASL_PASSWORD'],
    ] as const) {
      if (kafka[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${variable} is set but KAFKA_SASL_MECHANISM is ${mechanism ?? 'unset'}: set it to plain, scram-sha-256 or scram-sha-512`,
        });
      }
    }
  }
  if (kafka.tlsCaFile !== undefined && !kafka.tls) {
    ctx.addIssue({
      code: 'custom',
      path: ['tlsCaFile'],
      message: 'KAFKA_TLS_CA_FILE is set but KAFKA_TLS is false: set KAFKA_TLS=true to use it',
    });
  }
}

/** A 256-bit key for AES-256-GCM, written as base64 (`openssl rand -base64 32`). */
const masterKey = z
  .string()
  .trim()
  .refine(
    (value) => isBase64Key(value) || isGeneratedSecret(value),
    'must be 32 random bytes in base64 (openssl rand -base64 32), or a generated secret of at least 40 letters and digits',
  );

const stringList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter(Boolean));

const declaredPipelineSchema = z.strictObject({
  name: z.string().min(1).max(200),
  projectId: z.string().min(1).max(100).default('default'),
  description: z.string().max(2_000).default(''),
  /** Checked against the registry at start (validatePipeline). */
  definition: z.record(z.string(), z.unknown()),
});
export type DeclaredPipeline = z.infer<typeof declaredPipelineSchema>;

const masterKeyList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((k) => k.trim()).filter(Boolean))
  .pipe(z.array(masterKey));

const cidrList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((k) => k.trim()).filter(Boolean))
  .pipe(z.array(z.union([z.cidrv4(), z.cidrv6()], { error: 'each entry must be a CIDR range such as 10.0.0.0/8' })));

const hostList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((k) => k.trim()).filter(Boolean))
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i,
          "each entry must be a host name, or '.example.com' for its subdomains",
        ),
    ),
  );

/** What a secret store generates without punctuation (AWS Secrets Manager); a key is derived from it. */
export function isGeneratedSecret(value: string): boolean {
  return /^[A-Za-z0-9]{40,}$/.test(value) && !isBase64Key(value);
}

export function isBase64Key(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) return false;
  return atob(value).length === 32;
}

/** The bootstrap admin API key an operator chooses; its value never appears in a message. */
const adminKey = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = adminKeyProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Ensemble's whole configuration: every field has a default unless it must come from the user. */
export const configSchema = z.strictObject({
  home: z.string().min(1).default('./.ensemble'),
  server: z
    .strictObject({
      /** Browser origins allowed to call the API (CORS), e.g. https://console.example.com; none by default. */
      corsOrigins: z
        .union([z.string(), z.array(z.string())])
        .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((o) => o.trim()).filter(Boolean))
        .pipe(
          z.array(
            z
              .string()
              .regex(
                /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i,
                'each origin must be scheme://host[:port], e.g. https://console.example.com',
              ),
          ),
        )
        .default([]),
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      bodyLimitBytes: positiveInt.default(10 * 1024 * 1024),
      /** Model files uploaded to /api/artifacts are streamed to the store, so they may be far larger. */
      uploadLimitBytes: positiveInt.default(20 * 1024 ** 3),
      requestTimeoutMs: positiveInt.default(300_000),
      shutdownTimeoutMs: positiveInt.default(15_000),
      /** Behind a load balancer, trust its X-Forwarded-* headers (client IP, protocol). */
      trustProxy: trustProxy.default(false),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  database: z
    .strictObject({
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection URL')
        .optional(),
      poolSize: positiveInt.default(10),
      connectTimeoutMs: positiveInt.default(5_000),
      statementTimeoutMs: positiveInt.default(30_000),
      /** Port for the PostgreSQL that Ensemble runs itself when `url` is unset. 0 picks a free one. */
      embeddedPort: port.default(0),
    })
    .prefault({}),
  kafka: z
    .strictObject({
      brokers: brokerList.optional(),
      clientId: z.string().min(1).default('ensemble'),
      /** Prepended to every topic and consumer group on the cluster, so installations can share one. */
      namePrefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]{0,100}$/, "may hold up to 100 letters, digits, '.', '_' or '-'")
        .default(''),
      topicPartitions: positiveInt.max(10_000).default(6),
      replicationFactor: positiveInt.max(32).default(1),
      connectTimeoutMs: positiveInt.default(5_000),
      /** TLS in transit (Amazon MSK's TLS listeners: 9094, 9096 for SCRAM, 9098 for IAM). */
      tls: bool.default(false),
      /** PEM file of a private CA to trust on top of Node's defaults (MSK's public certificates need none). */
      tlsCaFile: z.string().min(1).optional(),
      saslMechanism: z.enum(kafkaSaslMechanisms).optional(),
      saslUsername: z.string().min(1).optional(),
      saslPassword: z.string().min(1).optional(),
      /** Region of the MSK cluster, for signing IAM authentication tokens. */
      awsRegion: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-west-1')
        .optional(),
    })
    .superRefine(checkKafkaSecurity)
    .prefault({}),
  worker: z
    .strictObject({
      /** `ensemble start` also runs the consumers unless this is false. */
      inProcess: bool.default(true),
    })
    .prefault({}),
  /** Models Ensemble runs itself, and the health checks of deployed models. */
  runtimes: z
    .strictObject({
      /** `deploy` (register, fetch missing weights, load), `register` only, or `off`. */
      builtInModels: z.enum(['deploy', 'register', 'off']).default('deploy'),
      /** How often deployed models are health-checked; 0 turns the loop off. */
      healthIntervalMs: z.coerce.number().int().nonnegative().default(30_000),
      /**
       * An S3 bucket for model files and uploads, shared by every instance (production); unset keeps
       * them in `<home>/artifacts` only. Either way files are loaded from `<home>/artifacts`.
       */
      artifactsBucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
        .optional(),
      /** For S3-compatible stores (MinIO, Ceph, R2 …): their endpoint; unset for AWS S3. */
      artifactsEndpoint: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
  /** On Amazon ECS: hold task scale-in protection while streams or job tasks are open. */
  ecs: z
    .strictObject({
      /** Injected by the ECS agent into every task; unset elsewhere, which turns protection off. */
      agentUri: z.url({ protocol: /^https?$/ }).optional(),
      protectionMinutes: positiveInt.max(2_880).default(60),
    })
    .prefault({}),
  /** Metrics a worker writes for CloudWatch (the consumer lag ECS auto-scaling reads). */
  metrics: z
    .strictObject({
      /** Seconds between consumer-lag EMF lines on stdout; 0 turns them off; unset: 60 on ECS, else off. */
      emfIntervalSeconds: z.coerce.number().int().min(0).max(86_400).optional(),
    })
    .prefault({}),
  /** Encrypts provider API keys at rest; unset, `ensemble start` keeps a generated one in `<home>/master.key`. */
  secrets: z
    .strictObject({
      masterKey: masterKey.optional(),
      /** Keys that older credentials may still be encrypted with, until `rotate` re-encrypts them. */
      previousMasterKeys: masterKeyList.default([]),
    })
    .prefault({}),
  /** API keys (docs/security.md): every `/v1` and `/api` call presents one. */
  auth: z
    .strictObject({
      /** The bootstrap admin key; unset, one is generated at first start and shown once. */
      adminKey: adminKey.optional(),
      /** How long a verified key is trusted from memory: the delay before a revocation reaches other instances. */
      keyCacheTtlMs: z.coerce.number().int().min(0).max(300_000).default(5_000),
      /** How long a caller's rate limits and budgets are trusted from memory (a change elsewhere arrives within it). */
      limitsCacheTtlMs: z.coerce.number().int().min(0).max(300_000).default(5_000),
      /** How old a budget's spend (read from the usage ledger) may get before it is read again. */
      budgetRefreshMs: z.coerce.number().int().min(500).max(300_000).default(5_000),
      /** Failed API key attempts one source address may make per minute before it gets 429; 0 turns it off. */
      failedAttemptsPerMinute: z.coerce.number().int().min(0).max(100_000).default(30),
      /** The first console user (a platform admin), made at start when no account has this email. */
      adminEmail: emailSchema.optional(),
      /** Its password (12–256 characters); only used when the account is made. */
      adminPassword: passwordSchema.optional(),
      /** How long a console session lasts from sign-in. */
      sessionTtlMs: z.coerce
        .number()
        .int()
        .min(60_000)
        .max(30 * 86_400_000)
        .default(12 * 3_600_000),
      /** Marks the session cookie `Secure` even on plain HTTP (behind a TLS proxy Ensemble cannot see). */
      cookieSecure: bool.default(false),
      /** Failed sign-ins per account in 15 minutes before it is refused (429) until the window ends. */
      loginFailuresPerAccount: z.coerce.number().int().min(1).max(100_000).default(10),
      /** Failed sign-ins per source address in 15 minutes before it is refused (429). */
      loginFailuresPerAddress: z.coerce.number().int().min(1).max(100_000).default(50),
      /** OpenID Connect sign-in: the issuer (https, or http on a loopback host); unset, no SSO. */
      oidcIssuer: z.url({ protocol: /^https?$/ }).optional(),
      oidcClientId: z.string().trim().min(1).max(500).optional(),
      oidcClientSecret: z.string().min(1).max(2000).optional(),
      /** Where the provider sends the browser back: `<public URL>/api/auth/oidc/callback`. */
      oidcRedirectUri: z.url({ protocol: /^https?$/ }).optional(),
      /** The role a user first signing in through OpenID Connect gets, in `oidcDefaultProject`. */
      oidcDefaultRole: projectRoleSchema.default('viewer'),
      oidcDefaultProject: projectIdSchema.default('default'),
      /** Internal ranges (loopback, private, link-local) user-supplied URLs may reach anyway; none by default. */
      outboundAllowedNetworks: cidrList.default([]),
      /** When set, the only hosts user-supplied URLs may name (`.example.com` for subdomains). */
      outboundAllowedHosts: hostList.default([]),
    })
    .prefault({}),
  /** The `/v1` gateway (docs/gateway.md). */
  gateway: z
    .strictObject({
      /** How long an identical request is answered from the response cache; 0 turns the cache off. */
      cacheTtlMs: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
      /** The most bytes the response cache holds (per process); the least recently used answers go first. */
      cacheMaxBytes: positiveInt.default(64 * 1024 * 1024),
    })
    .prefault({}),
  /** The usage ledger (docs/usage-ledger.md). */
  usage: z
    .strictObject({
      /** Whole days of usage rows kept; older days are dropped by the worker's maintenance task. */
      retentionDays: z.coerce.number().int().min(1).max(3_650).default(90),
      /** Whether the gateway records calls at all; off, no usage events are made (benchmarks compare both). */
      ledger: bool.default(true),
    })
    .prefault({}),
  /** Async jobs (docs/jobs.md): what one worker process runs at once, and the limits of a submission. */
  jobs: z
    .strictObject({
      /** Model calls of job items one worker process makes at once (over all its partitions). */
      itemConcurrency: positiveInt.max(10_000).default(64),
      /** Tasks a worker takes from one partition at once; their results are written together. */
      taskBatchSize: positiveInt.max(10_000).default(100),
      /** The most items one job may have. */
      maxItems: positiveInt.max(1_000_000).default(1_000_000),
      /** The longest line of an uploaded JSONL input file (one item). */
      maxItemBytes: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
      /** Bounds one delivery of a completion webhook. */
      webhookTimeoutMs: positiveInt.max(300_000).default(10_000),
      /** Deliveries tried (with exponential backoff from 1 s, up to 10 min apart) before a webhook is given up. */
      webhookMaxAttempts: positiveInt.max(50).default(8),
    })
    .prefault({}),
  /** The embedded vector index of collections (docs/collections.md). */
  vectors: z
    .strictObject({
      /** An index is snapshotted to `<home>/vectors` after this many unsnapshotted changes… */
      snapshotAfterChanges: positiveInt.default(50_000),
      /** …and every this long when it has any (and at shutdown). */
      snapshotIntervalMs: positiveInt.default(60_000),
      /** HNSW links per node, candidate list while building, and while searching (raised to topK). */
      hnswM: positiveInt.min(4).max(96).default(16),
      hnswEfConstruction: positiveInt.max(2_000).default(200),
      hnswEfSearch: positiveInt.max(10_000).default(64),
      /** A follower's (`ensemble worker`) bound on one catch-up from PostgreSQL before a query (then the query fails). */
      followTimeoutMs: positiveInt.max(300_000).default(5_000),
      /** How long the writer keeps deletion traces for followers; one further behind reloads the index. */
      deletionRetentionMs: positiveInt.default(3_600_000),
    })
    .prefault({}),
  /** Document ingestion (docs/collections.md). */
  ingest: z
    .strictObject({
      /** Bounds one document's ingestion job item: parse, split, embed, upsert. */
      jobTimeoutMs: positiveInt.default(1_800_000),
      /** A document named by URL: largest accepted, and longest its download may take. */
      urlMaxBytes: positiveInt.default(52_428_800),
      urlTimeoutMs: positiveInt.default(30_000),
    })
    .prefault({}),
  /** Collections whose backend is `pinecone` (docs/collections.md); without a key that backend is off. */
  pinecone: z
    .strictObject({
      apiKey: z.string().trim().min(1).optional(),
      /** Pinecone's control plane (its default when unset); another Pinecone-compatible API, e.g. Ensemble's `/pinecone`. */
      controllerHost: z.url().optional(),
      cloud: z.enum(['aws', 'gcp', 'azure']).default('aws'),
      region: z.string().min(1).default('us-east-1'),
    })
    .prefault({}),
  /** Pipeline runs (docs/pipelines.md): limits that keep runaway pipelines bounded, durability, traces. */
  runs: z
    .strictObject({
      /** A run's deadline (a definition may set a shorter one). */
      timeoutMs: positiveInt.max(86_400_000).default(300_000),
      maxSteps: positiveInt.max(10_000).default(200),
      maxDepth: positiveInt.max(64).default(8),
      maxFanOut: positiveInt.max(256).default(16),
      maxMapItems: positiveInt.max(100_000).default(1_000),
      maxStepRuns: positiveInt.max(1_000_000).default(5_000),
      /** A running run's lease: renewed by its process; once it runs out another process resumes the run. */
      leaseMs: positiveInt.min(100).max(600_000).default(30_000),
      /** Whole days finished runs and their traces are kept. */
      retentionDays: z.coerce.number().int().min(1).max(3_650).default(30),
      /** JSON keys whose values traces show as `[redacted]` (comma-separated in the environment). */
      redactKeys: stringList.default([]),
      /** URL prefixes `http` steps may call; empty: http steps are refused. */
      httpAllow: stringList.default([]),
    })
    .prefault({}),
  /** Pipelines reconciled at start (see docs/pipelines.md). */
  pipelines: z.array(declaredPipelineSchema).default([]),
  /** Registers the built-in example pipelines at start (`ensemble start --examples`). */
  examples: bool.default(false),
  /** Models reconciled into the registry at start (see docs/models.md). */
  models: z.array(declaredModelSchema).default([]),
  /** Credentials reconciled at start, by reference to the environment variable that holds each key. */
  credentials: z.array(declaredCredentialSchema).default([]),
  /** Routes (virtual models) reconciled at start, after the models they target (see docs/routes.md). */
  routes: z.array(declaredRouteSchema).default([]),
});

export type EnsembleConfig = z.infer<typeof configSchema>;
export type EnsembleConfigInput = z.input<typeof configSchema>;

/**
 * Environment variables and the setting each one fills, with a hint shown when its value is wrong.
 * The same settings may be written in `ensemble.yaml` under their dotted path.
 */
export const environmentVariables = {
  ENSEMBLE_HOME: { path: 'home', fix: 'a writable folder for data, e.g. ./.ensemble' },
  HOST: { path: 'server.host', fix: 'an interface to listen on, e.g. 127.0.0.1 or 0.0.0.0' },
  PORT: { path: 'server.port', fix: 'a TCP port between 0 and 65535, e.g. 8080' },
  BODY_LIMIT_BYTES: { path: 'server.bodyLimitBytes', fix: 'a positive number of bytes, e.g. 10485760' },
  UPLOAD_LIMIT_BYTES: { path: 'server.uploadLimitBytes', fix: 'a positive number of bytes, e.g. 21474836480' },
  REQUEST_TIMEOUT_MS: { path: 'server.requestTimeoutMs', fix: 'a positive number of milliseconds' },
  SHUTDOWN_TIMEOUT_MS: { path: 'server.shutdownTimeoutMs', fix: 'a positive number of milliseconds' },
  TRUST_PROXY: {
    path: 'server.trustProxy',
    fix: "false, true, a number of proxy hops, or the proxies' addresses, e.g. 10.0.0.0/8",
  },
  LOG_LEVEL: { path: 'log.level', fix: 'one of fatal, error, warn, info, debug, trace, silent' },
  DATABASE_URL: {
    path: 'database.url',
    fix: 'a URL such as postgres://user:password@127.0.0.1:5432/ensemble, or unset it to run the embedded PostgreSQL',
  },
  DATABASE_POOL_SIZE: { path: 'database.poolSize', fix: 'a positive number of connections, e.g. 10' },
  DATABASE_CONNECT_TIMEOUT_MS: { path: 'database.connectTimeoutMs', fix: 'a positive number of milliseconds' },
  DATABASE_STATEMENT_TIMEOUT_MS: { path: 'database.statementTimeoutMs', fix: 'a positive number of milliseconds' },
  EMBEDDED_POSTGRES_PORT: { path: 'database.embeddedPort', fix: 'a free TCP port, or 0 to pick one' },
  KAFKA_BROKERS: {
    path: 'kafka.brokers',
    fix: 'a comma-separated list of host:port, e.g. 127.0.0.1:9092, or unset it to use the embedded bus',
  },
  KAFKA_CLIENT_ID: { path: 'kafka.clientId', fix: 'a non-empty client id' },
  KAFKA_NAME_PREFIX: {
    path: 'kafka.namePrefix',
    fix: "letters, digits, '.', '_' or '-', e.g. staging. (or unset it for none)",
  },
  KAFKA_TOPIC_PARTITIONS: { path: 'kafka.topicPartitions', fix: 'a positive number of partitions, e.g. 6' },
  KAFKA_REPLICATION_FACTOR: { path: 'kafka.replicationFactor', fix: 'a positive replication factor, e.g. 3 on MSK' },
  KAFKA_CONNECT_TIMEOUT_MS: { path: 'kafka.connectTimeoutMs', fix: 'a positive number of milliseconds' },
  KAFKA_TLS: { path: 'kafka.tls', fix: 'true to connect over TLS (Amazon MSK), or false' },
  KAFKA_TLS_CA_FILE: {
    path: 'kafka.tlsCaFile',
    fix: "the path of a PEM file with the brokers' CA certificate, or unset it to trust the system CAs",
  },
  KAFKA_SASL_MECHANISM: {
    path: 'kafka.saslMechanism',
    fix: 'one of plain, scram-sha-256, scram-sha-512, aws-msk-iam, or unset it for no authentication',
  },
  KAFKA_SASL_USERNAME: { path: 'kafka.saslUsername', fix: 'the SASL user name (with KAFKA_SASL_PASSWORD)' },
  KAFKA_SASL_PASSWORD: {
    path: 'kafka.saslPassword',
    fix: 'the SASL password (with KAFKA_SASL_USERNAME); on AWS, inject it from Secrets Manager',
  },
  KAFKA_AWS_REGION: { path: 'kafka.awsRegion', fix: "the MSK cluster's AWS region, e.g. eu-west-1" },
  ENSEMBLE_WORKER_IN_PROCESS: { path: 'worker.inProcess', fix: 'true or false' },
  ECS_AGENT_URI: { path: 'ecs.agentUri', fix: 'the http:// URL the ECS agent injects, or unset it outside ECS' },
  ENSEMBLE_BUILT_IN_MODELS: {
    path: 'runtimes.builtInModels',
    fix: 'deploy (the default), register (list them, load nothing), or off',
  },
  MODEL_HEALTH_INTERVAL_MS: { path: 'runtimes.healthIntervalMs', fix: 'milliseconds, e.g. 30000, or 0 for no checks' },
  ENSEMBLE_ARTIFACTS_BUCKET: {
    path: 'runtimes.artifactsBucket',
    fix: 'the name of an S3 bucket (lowercase letters, digits, dots and hyphens), or unset it to keep model files on local disk',
  },
  ENSEMBLE_ARTIFACTS_ENDPOINT: {
    path: 'runtimes.artifactsEndpoint',
    fix: 'the http(s) URL of an S3-compatible store, or unset it for AWS S3',
  },
  ECS_PROTECTION_MINUTES: { path: 'ecs.protectionMinutes', fix: 'minutes between 1 and 2880, e.g. 60' },
  METRICS_EMF_INTERVAL_SECONDS: {
    path: 'metrics.emfIntervalSeconds',
    fix: 'a whole number of seconds, e.g. 60, or 0 to turn the consumer-lag EMF lines off',
  },
  ENSEMBLE_MASTER_KEY: {
    path: 'secrets.masterKey',
    fix: '32 random bytes in base64 (openssl rand -base64 32) or a generated secret of 40+ letters and digits, from a secret store in production',
  },
  ENSEMBLE_MASTER_KEY_PREVIOUS: {
    path: 'secrets.previousMasterKeys',
    fix: 'a comma-separated list of former master keys in base64, kept until credentials are rotated',
  },
  ENSEMBLE_ADMIN_KEY: {
    path: 'auth.adminKey',
    fix: '32-256 random letters, digits or ._~+/- from a secret store (openssl rand -base64 32), or unset it to have one generated at first start',
  },
  ENSEMBLE_ADMIN_EMAIL: {
    path: 'auth.adminEmail',
    fix: 'the email of the first console user (with ENSEMBLE_ADMIN_PASSWORD), e.g. admin@example.com',
  },
  ENSEMBLE_ADMIN_PASSWORD: {
    path: 'auth.adminPassword',
    fix: 'a password of 12-256 characters for ENSEMBLE_ADMIN_EMAIL, from a secret store in production',
  },
  AUTH_SESSION_TTL_MS: {
    path: 'auth.sessionTtlMs',
    fix: 'milliseconds between 60000 and 2592000000, e.g. 43200000 (12 hours)',
  },
  AUTH_COOKIE_SECURE: { path: 'auth.cookieSecure', fix: 'true or false' },
  AUTH_LOGIN_FAILURES_PER_ACCOUNT: {
    path: 'auth.loginFailuresPerAccount',
    fix: 'a whole number of failed sign-ins per account in 15 minutes, e.g. 10',
  },
  AUTH_LOGIN_FAILURES_PER_ADDRESS: {
    path: 'auth.loginFailuresPerAddress',
    fix: 'a whole number of failed sign-ins per source address in 15 minutes, e.g. 50',
  },
  OIDC_ISSUER: {
    path: 'auth.oidcIssuer',
    fix: 'the https URL of the OpenID Connect issuer (its /.well-known/openid-configuration is read), e.g. https://accounts.google.com',
  },
  OIDC_CLIENT_ID: { path: 'auth.oidcClientId', fix: 'the client id registered with the OpenID Connect provider' },
  OIDC_CLIENT_SECRET: {
    path: 'auth.oidcClientSecret',
    fix: 'the client secret registered with the OpenID Connect provider, from a secret store',
  },
  OIDC_REDIRECT_URI: {
    path: 'auth.oidcRedirectUri',
    fix: "Ensemble's public URL followed by /api/auth/oidc/callback, as registered with the provider",
  },
  OIDC_DEFAULT_ROLE: { path: 'auth.oidcDefaultRole', fix: 'viewer, developer, admin or owner' },
  OIDC_DEFAULT_PROJECT: { path: 'auth.oidcDefaultProject', fix: 'a project id, e.g. default' },
  AUTH_FAILED_ATTEMPTS_PER_MINUTE: {
    path: 'auth.failedAttemptsPerMinute',
    fix: 'a whole number of attempts per minute, e.g. 30 (0 turns the throttling off)',
  },
  OUTBOUND_ALLOWED_NETWORKS: {
    path: 'auth.outboundAllowedNetworks',
    fix: 'a comma-separated list of CIDR ranges, e.g. 10.1.0.0/16,127.0.0.1/32',
  },
  OUTBOUND_ALLOWED_HOSTS: {
    path: 'auth.outboundAllowedHosts',
    fix: "a comma-separated list of host names, e.g. api.openai.com,.example.com (a leading '.' allows subdomains)",
  },
  CORS_ALLOWED_ORIGINS: {
    path: 'server.corsOrigins',
    fix: 'a comma-separated list of origins, e.g. https://console.example.com,http://localhost:5173',
  },
  LIMITS_CACHE_TTL_MS: {
    path: 'auth.limitsCacheTtlMs',
    fix: 'milliseconds between 0 and 300000, e.g. 5000',
  },
  BUDGET_REFRESH_MS: {
    path: 'auth.budgetRefreshMs',
    fix: 'milliseconds between 500 and 300000, e.g. 5000',
  },
  API_KEY_CACHE_TTL_MS: {
    path: 'auth.keyCacheTtlMs',
    fix: 'milliseconds between 0 and 300000, e.g. 5000 (0 checks the database on every request)',
  },
  ENSEMBLE_GATEWAY_CACHE_TTL_MS: {
    path: 'gateway.cacheTtlMs',
    fix: 'milliseconds, e.g. 60000, or 0 to turn the response cache off',
  },
  ENSEMBLE_GATEWAY_CACHE_MAX_BYTES: {
    path: 'gateway.cacheMaxBytes',
    fix: 'a positive number of bytes, e.g. 67108864',
  },
  USAGE_RETENTION_DAYS: {
    path: 'usage.retentionDays',
    fix: 'a whole number of days between 1 and 3650, e.g. 90',
  },
  USAGE_LEDGER: { path: 'usage.ledger', fix: 'true (record every /v1 call, the default) or false' },
  JOBS_ITEM_CONCURRENCY: {
    path: 'jobs.itemConcurrency',
    fix: 'a positive number of concurrent model calls per worker, e.g. 64',
  },
  JOBS_TASK_BATCH_SIZE: { path: 'jobs.taskBatchSize', fix: 'a positive number of tasks, e.g. 100' },
  JOBS_MAX_ITEMS: { path: 'jobs.maxItems', fix: 'a positive number of items up to 1000000' },
  JOBS_MAX_ITEM_BYTES: { path: 'jobs.maxItemBytes', fix: 'a positive number of bytes, e.g. 1048576' },
  JOBS_WEBHOOK_TIMEOUT_MS: { path: 'jobs.webhookTimeoutMs', fix: 'a positive number of milliseconds, e.g. 10000' },
  JOBS_WEBHOOK_MAX_ATTEMPTS: { path: 'jobs.webhookMaxAttempts', fix: 'a number of attempts from 1 to 50, e.g. 8' },
  VECTORS_SNAPSHOT_CHANGES: { path: 'vectors.snapshotAfterChanges', fix: 'a positive number of changes, e.g. 50000' },
  VECTORS_SNAPSHOT_INTERVAL_MS: {
    path: 'vectors.snapshotIntervalMs',
    fix: 'a positive number of milliseconds, e.g. 60000',
  },
  INGEST_JOB_TIMEOUT_MS: {
    path: 'ingest.jobTimeoutMs',
    fix: 'a positive number of milliseconds, e.g. 1800000',
  },
  INGEST_URL_MAX_BYTES: { path: 'ingest.urlMaxBytes', fix: 'a positive number of bytes, e.g. 52428800' },
  INGEST_URL_TIMEOUT_MS: { path: 'ingest.urlTimeoutMs', fix: 'a positive number of milliseconds, e.g. 30000' },
  VECTORS_HNSW_M: { path: 'vectors.hnswM', fix: 'a number of links from 4 to 96, e.g. 16' },
  VECTORS_HNSW_EF_CONSTRUCTION: { path: 'vectors.hnswEfConstruction', fix: 'a positive number up to 2000, e.g. 200' },
  VECTORS_HNSW_EF_SEARCH: { path: 'vectors.hnswEfSearch', fix: 'a positive number up to 10000, e.g. 64' },
  VECTORS_FOLLOW_TIMEOUT_MS: {
    path: 'vectors.followTimeoutMs',
    fix: 'a positive number of milliseconds up to 300000, e.g. 5000',
  },
  VECTORS_DELETION_RETENTION_MS: {
    path: 'vectors.deletionRetentionMs',
    fix: 'a positive number of milliseconds, e.g. 3600000',
  },
  PINECONE_API_KEY: {
    path: 'pinecone.apiKey',
    fix: "your Pinecone project's API key, or unset it to keep collections embedded",
  },
  PINECONE_CONTROLLER_HOST: {
    path: 'pinecone.controllerHost',
    fix: 'a URL such as https://api.pinecone.io, or unset it for Pinecone itself',
  },
  PINECONE_CLOUD: { path: 'pinecone.cloud', fix: 'one of aws, gcp, azure' },
  PINECONE_REGION: { path: 'pinecone.region', fix: 'a region of that cloud, e.g. us-east-1' },
  PIPELINE_RUN_TIMEOUT_MS: { path: 'runs.timeoutMs', fix: 'milliseconds, e.g. 300000' },
  PIPELINE_MAX_STEPS: { path: 'runs.maxSteps', fix: 'a positive number of steps, e.g. 200' },
  PIPELINE_MAX_DEPTH: { path: 'runs.maxDepth', fix: 'a positive number of nesting levels up to 64, e.g. 8' },
  PIPELINE_MAX_FAN_OUT: { path: 'runs.maxFanOut', fix: 'a positive number of branches up to 256, e.g. 16' },
  PIPELINE_MAX_MAP_ITEMS: { path: 'runs.maxMapItems', fix: 'a positive number of items, e.g. 1000' },
  PIPELINE_MAX_STEP_RUNS: { path: 'runs.maxStepRuns', fix: 'a positive number of step executions per run, e.g. 5000' },
  PIPELINE_RUN_LEASE_MS: { path: 'runs.leaseMs', fix: 'milliseconds between 100 and 600000, e.g. 30000' },
  PIPELINE_RUN_RETENTION_DAYS: {
    path: 'runs.retentionDays',
    fix: 'a whole number of days between 1 and 3650, e.g. 30',
  },
  PIPELINE_TRACE_REDACT_KEYS: {
    path: 'runs.redactKeys',
    fix: 'a comma-separated list of JSON keys, e.g. email,phone',
  },
  PIPELINE_HTTP_ALLOW: {
    path: 'runs.httpAllow',
    fix: 'a comma-separated list of URL prefixes http steps may call, e.g. https://api.example.com/',
  },
  ENSEMBLE_EXAMPLES: { path: 'examples', fix: 'true to register the example pipelines at start, or false' },
} as const satisfies Record<string, { path: string; fix: string }>;

export type EnvironmentVariable = keyof typeof environmentVariables;
