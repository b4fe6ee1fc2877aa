/** Kafka topic names; the embedded bus uses the same names so both run one code path. */
export const topics = {
  jobsRequested: 'ensemble.jobs.requested',
  jobsTasks: 'ensemble.jobs.tasks',
  /** The tasks of `high` priority jobs: a lane of their own, not queued behind normal ones. */
  jobsTasksHigh: 'ensemble.jobs.tasks.high',
  jobsEvents: 'ensemble.jobs.events',
  jobsDlq: 'ensemble.jobs.dlq',
  usage: 'ensemble.usage',
  /** Usage records the ledger refused (not a valid usage event). */
  usageDlq: 'ensemble.usage.dlq',
  modelsLifecycle: 'ensemble.models.lifecycle',
  documents: 'ensemble.documents',
  /** Security events: budget warnings (`security/budget.warned`), audit entries. */
  security: 'ensemble.security',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];

export const allTopics: readonly TopicName[] = Object.values(topics);

/** Topic names allowed by Kafka: 1-249 characters of letters, digits, '.', '_' and '-'. */
export const topicNamePattern = /^[A-Za-z0-9._-]{1,249}$/;
