-- Deliveries by event. Pruning keeps an event while any delivery row still refers to it
-- (`not exists (select 1 from deliveries d where d.seq = e.seq)`), which the primary key
-- (subscription_id, seq) cannot answer: this index makes that check one probe. The table holds
-- only undelivered and failed rows (delivered ones are deleted), so it is small and the index
-- is built at once.

create index deliveries_seq on deliveries (seq);
