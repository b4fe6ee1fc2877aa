import type { JobItemStatus, JobRepository, StoredJobItemResult } from '@ensemble/core';

const pageSize = 1_000;

/**
 * A job's results as JSON Lines, one per item in index order, read a page at a time, so a large
 * job streams out in constant memory. The model's answer is copied as stored, never re-parsed.
 */
export async function* resultLines(
  jobs: JobRepository,
  projectId: string,
  jobId: string,
  status: JobItemStatus | undefined,
): AsyncGenerator<string> {
  for (let afterIndex = -1; ; ) {
    const page = await jobs.results(projectId, jobId, {
      afterIndex,
      limit: pageSize,
      ...(status === undefined ? {} : { status }),
    });
    if (page.length === 0) return;
    yield page.map(resultLine).join('');
    if (page.length < pageSize) return;
    afterIndex = (page.at(-1) as StoredJobItemResult).index;
  }
}

function resultLine(result: StoredJobItemResult): string {
  const { outputJson, startedAt, finishedAt, ...rest } = result;
  const head = JSON.stringify({
    ...rest,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  });
  return `${head.slice(0, -1)},"output":${outputJson ?? 'null'}}\n`;
}
