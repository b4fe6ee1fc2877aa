import type {
  Job,
  JobModelKind,
  JobPriority,
  JobSource,
  JobStatus,
  JobTargetType,
  JobType,
  JobWebhook,
} from '@ensemble/core';
import type { Selectable } from 'kysely';
import type { JobsTable } from './database-schema.ts';

export type JobRow = Selectable<JobsTable>;

/** A jobs row as core's `Job`. */
export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    projectId: row.project_id,
    type: row.type as JobType,
    status: row.status as JobStatus,
    model: row.model,
    target: {
      type: row.target_type as JobTargetType,
      name: row.target_name,
      version: row.target_version,
      kind: row.target_kind as JobModelKind,
    },
    priority: row.priority as JobPriority,
    itemTimeoutMs: row.item_timeout_ms,
    retry: row.retry,
    webhook:
      row.webhook_url === null
        ? null
        : {
            url: row.webhook_url,
            status: row.webhook_status as JobWebhook['status'],
            attempts: row.webhook_attempts,
            lastError: row.webhook_last_error,
            deliveredAt: row.webhook_delivered_at,
          },
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    source: row.source as JobSource,
    sourceDetails: row.source_details,
    counts: { total: row.total_items, succeeded: row.succeeded_items, failed: row.failed_items },
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: row.cost_usd === null ? null : roundCost(Number(row.cost_usd)),
    },
    progress:
      row.progress_total === null ? null : { unit: 'chunks', done: row.progress_done ?? 0, total: row.progress_total },
    round: row.round,
    createdBy: row.created_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cancelledAt: row.cancelled_at,
  };
}

/** Dollars to a millionth of a cent: what `numeric(24, 12)` keeps, without binary noise. */
export function roundCost(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}
