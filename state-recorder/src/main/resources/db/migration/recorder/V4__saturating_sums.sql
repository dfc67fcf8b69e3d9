-- Counts in the ledger are sums of messages any Kafka client can write: a sum past the largest
-- bigint ("bigint out of range") rolled back the ledger transaction, and every restart met the
-- same batch. Sums now stop at the largest bigint instead (decoding also refuses any one message
-- counting more than 10^15).
create function fleet_add_counts(a bigint, b bigint) returns bigint
language sql immutable as $$
    select least(a::numeric + b, 9223372036854775807)::bigint
$$;

create or replace function fleet_add_buckets(a bigint[], b bigint[]) returns bigint[]
language sql immutable as $$
    select array_agg(least(coalesce(x, 0)::numeric + coalesce(y, 0), 9223372036854775807)::bigint
                     order by i)
    from unnest(a, b) with ordinality as t(x, y, i)
$$;
