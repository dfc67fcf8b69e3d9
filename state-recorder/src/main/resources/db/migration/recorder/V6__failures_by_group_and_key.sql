-- A replay reads a group's failures a page at a time in item-key order (Replayer): this index
-- gives them in that order, where (job, fingerprint) alone made each page of a big group sort the
-- whole group. It also serves everything the old index did (its first two columns).
create index if not exists fleet_failures_group_key on fleet_failures (job, fingerprint, item_key);
drop index if exists fleet_failures_fingerprint;
