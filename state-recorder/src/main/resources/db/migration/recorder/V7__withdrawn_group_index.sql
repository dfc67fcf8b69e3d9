-- Version 6 (an index on (job, fingerprint, item_key) replacing (job, fingerprint)) was on main
-- for half an hour on 2026-11-30 and withdrawn: building it at recorder start-up could outlast a
-- startup probe on a ledger of millions of failures. A ledger that applied it gets the original
-- index back here (LedgerDatabase ignores the missing version 6); on any other this does nothing.
create index if not exists fleet_failures_fingerprint on fleet_failures (job, fingerprint);
drop index if exists fleet_failures_group_key;
