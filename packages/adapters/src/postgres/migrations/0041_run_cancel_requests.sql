-- Cancelling a run from any instance (docs/pipelines.md): the request is recorded on the run and sent
-- as `NOTIFY ensemble_run_cancel` (payload: the run id); the instance running it stops it at once, or
-- at its next lease renewal if it missed the notification. A run whose process died with a request
-- pending is ended `cancelled` instead of being resumed.
alter table pipeline_runs add column cancel_requested_at timestamptz;
