-- The recorder asks after every batch for the completions it has not published yet. Without an
-- index that read every job row kept for the retention period (millions, with many small jobs).
-- Partial: only completed jobs not yet published, usually none, so it is small and cheap to keep.
create index if not exists fleet_jobs_unpublished on fleet_jobs (completed_at)
    where completed_at is not null and not completion_published;
