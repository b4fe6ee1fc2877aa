import { formatNumber } from '../../lib/format.ts';

export function JobProgress({ counts }: { counts: Record<string, number> | undefined }) {
  const total = counts?.total ?? 0;
  const done = (counts?.succeeded ?? 0) + (counts?.failed ?? 0);
  const percent = total ? Math.round((done / total) * 100) : 0;
  return (
    <div className="stack" style={{ gap: 4 }}>
      <div
        className="progress"
        role="progressbar"
        aria-label="Items done"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
      >
        <div style={{ width: `${percent}%` }} />
      </div>
      <span className="small muted">
        {formatNumber(done)} / {formatNumber(total)} done
        {counts?.failed ? ` · ${formatNumber(counts.failed)} failed` : ''}
      </span>
    </div>
  );
}
