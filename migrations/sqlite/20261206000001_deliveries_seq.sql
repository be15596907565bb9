-- Deliveries by event: the index of migrations/postgres/20261206000001_deliveries_seq.sql, which
-- lets pruning ask whether any delivery still refers to an event with one probe.

create index deliveries_seq on deliveries (seq);
