-- The console lists a job's latest runs; a job can have a run per item (a produce() call each).
create index if not exists fleet_job_runs_latest on fleet_job_runs (job, created_at desc, run_id desc);
