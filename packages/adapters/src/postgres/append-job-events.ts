import { type Job, type JobEventType, type JobTopics, jobEvent, jobEventRecord } from '@ensemble/core';
import { type Kysely, sql } from 'kysely';
import { appendToOutbox } from './append-to-outbox.ts';
import type { DatabaseSchema } from './database-schema.ts';

/**
 * Records events of `job` (its state as it now is) in the caller's transaction: numbered after the
 * job's last event in `job_events` (where the SSE stream reads and resumes), and in the outbox for
 * `ensemble.jobs.events`. The caller holds the job's row lock, so numbers never collide.
 */
export async function appendJobEvents(
  trx: Kysely<DatabaseSchema>,
  topics: JobTopics,
  job: Job,
  types: readonly JobEventType[],
): Promise<void> {
  if (types.length === 0) return;
  const { last } = await trx
    .updateTable('jobs')
    .set({ event_seq: sql`event_seq + ${types.length}` })
    .where('id', '=', job.id)
    .returning(sql<string>`event_seq`.as('last'))
    .executeTakeFirstOrThrow();
  const first = Number(last) - types.length + 1;
  const at = new Date();
  const events = types.map((type, i) => jobEvent(type, job, first + i, at));
  await trx
    .insertInto('job_events')
    .values(
      events.map((event) => ({
        job_id: job.id,
        seq: event.data.seq,
        type: event.type,
        data: JSON.stringify(event.data),
      })),
    )
    .execute();
  await appendToOutbox(
    trx,
    events.map((event) => jobEventRecord(topics, job, event)),
  );
  // At commit, wakes the SSE streams watching this job (PostgresJobEventNotifier).
  await sql`select pg_notify(${jobEventsChannel}, ${job.id})`.execute(trx);
}

/** The NOTIFY channel of stored job events; the payload is the job id. */
export const jobEventsChannel = 'ensemble_job_events';
