-- Ingestion progress per item (a document): how many of its chunks are stored, of how many. The job's
-- `progress_done`/`progress_total` are the sums over its items, so an item run again after a crash
-- reports the same figures instead of adding to them (done never exceeds total).
create table job_item_progress (
  job_id text not null references jobs (id) on delete cascade,
  item_index integer not null,
  done integer not null check (done >= 0),
  total integer not null check (total >= 0),
  primary key (job_id, item_index),
  check (done <= total)
);
