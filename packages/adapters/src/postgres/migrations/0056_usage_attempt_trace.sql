-- A routed call's attempts in order (target, outcome, status, latency, retry wait), so a request's
-- detail shows how the route got its answer. Null for calls to a plain model. Added to the
-- partitioned parent, it reaches every daily partition.
alter table usage_records add column attempt_trace jsonb;
