-- Document ingestion runs as jobs (source 'ingest': one item per document, run beside the collections),
-- with finer progress than items: chunks embedded of those known so far.
alter table jobs drop constraint jobs_source_check;
alter table jobs add constraint jobs_source_check check (source in ('api', 'openai-batch', 'ingest'));
alter table jobs add column progress_done integer check (progress_done >= 0);
alter table jobs add column progress_total integer check (progress_total >= 0);
