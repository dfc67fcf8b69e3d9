-- Retention deletes jobs by their last update, completed or not.
create index if not exists fleet_jobs_updated on fleet_jobs (updated_at);
