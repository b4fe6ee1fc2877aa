import type { RecordedUsage, UsageRecordsQuery, UsageSummary, UsageSummaryQuery } from '../usage/usage-query.ts';
import type { Page } from './project-repository.ts';

/** Where usage rows are read (`/api/usage`). */
export interface UsageLedger {
  summarize(query: UsageSummaryQuery): Promise<UsageSummary>;
  /** Raw rows, newest first. */
  listRecords(query: UsageRecordsQuery): Promise<Page<RecordedUsage>>;
}

/** What one maintenance round did. */
export interface UsageLedgerMaintenance {
  /** Days (`YYYY-MM-DD`, UTC) whose storage was made ready. */
  prepared: string[];
  /** Days whose rows were dropped, being older than the retention. */
  dropped: string[];
}

/** Where the ledger consumer writes. */
export interface UsageLedgerWriter {
  /** Writes in one statement; rows already present (same `ts` and `eventId`) are left as they are. Returns how many were new. */
  append(records: readonly RecordedUsage[]): Promise<number>;
  /** Makes storage ready for the coming days and drops what is older than `retentionDays`; run periodically. */
  maintain(options: { retentionDays: number; now?: Date }): Promise<UsageLedgerMaintenance>;
}
