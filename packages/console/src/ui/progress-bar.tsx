import type { ReactNode } from 'react';

/** A labelled progress bar (uploads, ingestion, jobs) with a caption under it. */
export function ProgressBar({
  label,
  done,
  total,
  caption,
}: {
  label: string;
  done: number;
  total: number;
  caption?: ReactNode;
}) {
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="stack" style={{ gap: 4 }}>
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
      >
        <div style={{ width: `${percent}%` }} />
      </div>
      {caption ? <span className="small muted">{caption}</span> : null}
    </div>
  );
}
