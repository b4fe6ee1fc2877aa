-- Jobs beyond one model (docs/jobs.md): a job's items may run through a route (pinned to the route's
-- version at submission, its policy choosing the model per item) or, for `pipeline-run` jobs, start a
-- pipeline run each (pinned to the pipeline's version). `target_type` says which the target is.
alter table jobs drop constraint jobs_type_check;
alter table jobs add constraint jobs_type_check check (type in ('batch-inference', 'embed', 'pipeline-run'));
alter table jobs drop constraint jobs_target_kind_check;
alter table jobs add constraint jobs_target_kind_check check (target_kind in ('chat', 'embedding', 'pipeline'));
alter table jobs add column target_type text not null default 'model'
  check (target_type in ('model', 'route', 'pipeline'));
alter table jobs add constraint jobs_pipeline_target check ((type = 'pipeline-run') = (target_type = 'pipeline'));

-- A run started by a job's item: which job and item (shown by /api/runs, filtered by `jobId`).
alter table pipeline_runs add column job_id text;
alter table pipeline_runs add column job_item integer;
create index pipeline_runs_by_job on pipeline_runs (job_id, job_item) where job_id is not null;
