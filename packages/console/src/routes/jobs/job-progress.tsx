import { formatNumber } from '../../lib/format.ts';
import { ProgressBar } from '../../ui/progress-bar.tsx';

export function JobProgress({ counts }: { counts: Record<string, number> | undefined }) {
  const total = counts?.total ?? 0;
  const done = (counts?.succeeded ?? 0) + (counts?.failed ?? 0);
  return (
    <ProgressBar
      label="Items done"
      done={done}
      total={total}
      caption={`${formatNumber(done)} / ${formatNumber(total)} done${counts?.failed ? ` · ${formatNumber(counts.failed)} failed` : ''}`}
    />
  );
}
