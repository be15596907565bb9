-- Events the application pulls (GET /api/v1/events): a pull consumer is a subscription of its
-- own kind, with delivery rows like a webhook's (so that pruning and the backlog treat it
-- alike), which the dispatcher never claims and the consumer acknowledges by reading on.
--
-- An event's seq is taken when its transaction inserts it, not when it commits, so seq order
-- is not commit order: a reader past seq 11 could miss seq 10 committing after. Reads go by
-- `position` instead, which a reader stamps on the tenant's committed, unstamped events, one
-- stamper of a tenant at a time (under the row of event_positions): an event that commits
-- late is stamped later, with a higher position, and a cursor over positions skips nothing.

alter table subscriptions add column kind text not null default 'push';

alter table events add column position integer;

-- reads after a position, and the events still to stamp, in seq order (each index holds only
-- its own rows: an event leaves the second when it is stamped)
create index events_position on events (tenant_id, position) where position is not null;
create index events_unstamped on events (tenant_id, seq) where position is null;

create table event_positions (
    tenant_id text primary key references tenants (id) on delete cascade,
    -- the tenant's highest position stamped
    last integer not null
);

-- a pull consumer's position read up to: its deliveries up to there are deleted
alter table subscriptions add column acknowledged integer not null default 0;
