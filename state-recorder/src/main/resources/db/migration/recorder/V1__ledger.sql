-- ItemFleet state recorder: failures and aggregates only. No row per successful item, ever.

-- One row per job, with running totals so that `fleet status` is one primary-key read.
create table fleet_jobs (
    job                  text primary key,
    type                 text        not null,
    expected_total       bigint,                 -- sum of the manifests' counts; null until one arrives
    labels               jsonb       not null default '{}',
    created_at           timestamptz not null,
    updated_at           timestamptz not null,
    completed_at         timestamptz,            -- set when the terminal outcomes reach expected_total
    completion_published boolean     not null default false,
    succeeded            bigint      not null default 0,
    cached               bigint      not null default 0,
    failed               bigint      not null default 0,
    deduplicated         bigint      not null default 0,
    poison               bigint      not null default 0,
    retries              bigint      not null default 0,
    handler_millis       bigint      not null default 0
);
create index fleet_jobs_created on fleet_jobs (created_at desc);

-- The produce runs of a job; a manifest read twice counts once.
create table fleet_job_runs (
    job        text        not null,
    run_id     text        not null,
    type       text        not null,
    count      bigint      not null,
    created_at timestamptz not null,
    primary key (job, run_id)
);

-- Per job, task type and UTC minute: outcome counts, retries, handler time, latency buckets.
create table fleet_job_minutes (
    job            text        not null,
    type           text        not null,
    minute         timestamptz not null,
    succeeded      bigint      not null,
    cached         bigint      not null,
    failed         bigint      not null,
    deduplicated   bigint      not null,
    poison         bigint      not null,
    retries        bigint      not null,
    handler_millis bigint      not null,
    latency        bigint[]    not null,          -- counts per bucket, bounds in LatencyHistogram
    primary key (job, minute, type)
);
create index fleet_job_minutes_minute on fleet_job_minutes (minute);

-- One row per failed item (FAILED), or per poison record (keyed by its Kafka coordinates).
create table fleet_failures (
    job              text        not null,
    item_key         text        not null,        -- the item ID, or poison@topic/partition/offset
    item             text,                        -- null for poison records
    type             text,
    outcome          text        not null,        -- FAILED or POISON
    attempts         int         not null,
    retryable        boolean     not null,
    error_class      text        not null,
    error_message    text        not null,
    fingerprint      text        not null,        -- hash of error class and normalised message
    fingerprint_text text        not null,        -- the normalised message it was made from
    first_failed_at  timestamptz not null,
    last_failed_at   timestamptz not null,
    failure_count    int         not null,        -- terminal failures recorded for this item
    last_payload     jsonb,
    source_topic     text,
    source_partition int,
    source_offset    bigint,
    raw              bytea,                       -- poison records: the bytes as read
    replayed_at      timestamptz,
    resolved_at      timestamptz,
    primary key (job, item_key)
);
create index fleet_failures_fingerprint on fleet_failures (job, fingerprint);
create index fleet_failures_last on fleet_failures (last_failed_at);

-- Where the recorder is in each input partition; written in the same transaction as the data.
create table fleet_recorder_offsets (
    group_id    text   not null,
    topic       text   not null,
    partition   int    not null,
    next_offset bigint not null,
    primary key (group_id, topic, partition)
);

-- Element-wise sum of two latency bucket arrays.
create function fleet_add_buckets(a bigint[], b bigint[]) returns bigint[]
language sql immutable as $$
    select array_agg(coalesce(x, 0) + coalesce(y, 0) order by i)
    from unnest(a, b) with ordinality as t(x, y, i)
$$;
