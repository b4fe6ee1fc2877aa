/** The API's objects as the console reads them (the server's OpenAPI document is the reference). */

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type ModelStatus = 'registered' | 'deploying' | 'ready' | 'failed' | 'retired';

export interface Pricing {
  inputPerMillionTokens: number;
  outputPerMillionTokens: number;
}

export interface ModelVersion {
  version: number;
  provider: string;
  providerModelId: string;
  baseUrl?: string;
  credential?: string;
  parameters: Record<string, unknown>;
  options: Record<string, unknown>;
  capabilities: Record<string, unknown>;
  pricing?: Pricing;
  artifact?: { sha256: string; format: string };
  createdAt: string;
  createdBy: string;
}

export interface Model extends ModelVersion {
  projectId: string;
  name: string;
  kind: string;
  description: string;
  tags: string[];
  status: ModelStatus;
  latestVersion: number;
  aliases: Record<string, number>;
  registeredAt: string;
  updatedAt: string;
}

export interface ModelAlias {
  alias: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

export interface ModelHealth {
  name: string;
  status: ModelStatus;
  loaded: boolean;
  runtimes: Array<{
    version: number;
    kind: string;
    ok: boolean | null;
    latencyMs: number | null;
    checkedAt: string | null;
    lastError: string | null;
    lastErrorAt: string | null;
    consecutiveFailures?: number;
  }>;
}

export interface UsageFigures {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  timeToFirstTokenP50Ms: number | null;
  cacheHits: number;
}

export interface UsageSummary {
  from: string;
  to: string;
  bucket: 'minute' | 'hour' | 'day';
  groupBy: string[];
  totals: UsageFigures;
  series: Array<UsageFigures & { bucketStart: string; group: Record<string, string | number | null> }>;
}

export interface UsageRecord {
  eventId: string;
  requestId: string;
  ts: string;
  projectId: string;
  keyId: string | null;
  endpoint: 'chat' | 'embeddings' | 'invoke' | 'responses';
  requested: string;
  route: string | null;
  target: string | null;
  provider: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  cacheHit: boolean;
  attempts: number;
  /** A routed call's attempts in order (absent for a plain model). */
  trace?: UsageAttempt[];
}

export interface UsageAttempt {
  target: string;
  path: string;
  attempt: number;
  outcome: 'success' | 'failure' | 'timeout' | 'circuit_open' | 'aborted' | 'mid_stream_error';
  status: number | null;
  errorCode: string | null;
  latencyMs: number;
  retryDelayMs: number;
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'completed_with_errors' | 'cancelled';

export interface Job {
  id: string;
  type: 'batch-inference' | 'embed';
  status: JobStatus;
  model: string;
  target?: { name: string; version: number; kind: string };
  priority: 'normal' | 'high';
  counts?: Record<string, number>;
  createdAt?: string;
  [field: string]: unknown;
}

export interface ApiKey {
  id: string;
  name: string;
  projectId: string;
  prefix: string;
  admin: boolean;
  role?: string;
  allowedModels: string[] | null;
  tags: string[];
  bootstrap: boolean;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface RouteVersion {
  version: number;
  policy: Record<string, unknown>;
  description: string;
  targets: string[];
  createdAt: string;
  createdBy: string;
}

export interface Route {
  projectId: string;
  name: string;
  status: 'active' | 'retired';
  currentVersion: number;
  latestVersion: number;
  current: RouteVersion;
  createdAt: string;
  updatedAt: string;
}
