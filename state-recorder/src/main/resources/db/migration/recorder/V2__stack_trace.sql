-- The handler's stack trace (causes included, cut to 8 KiB by the worker) of each failed item's
-- last failure; null when the failure was not an exception.
alter table fleet_failures add column if not exists stack_trace text;
