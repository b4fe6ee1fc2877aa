-- A `pipeline-run` job item's run is keyed by its delivery attempt (`<job>:<item>:<round>:<attempt>`),
-- so a task delivered again after a worker crash finds that run (its result, or the run to wait for or
-- to take over) instead of starting a second one. A cancelled run gives its key up to a new run; it
-- stays listed under the job. Runs outside jobs have no key.
alter table pipeline_runs add column job_key text;
create unique index pipeline_runs_job_key on pipeline_runs (job_key);
