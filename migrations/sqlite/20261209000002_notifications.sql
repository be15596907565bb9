-- Where a tenant's changes of health are sent, and the notifier's outbox: the tables of
-- migrations/postgres/20261209000002_notifications.sql.
create table tenant_notify (
    tenant_id text not null references tenants (id) on delete cascade,
    address text not null,
    position integer not null,
    primary key (tenant_id, address)
);

alter table admins add column notify_email text;

alter table health_changes add column fanned_out integer not null default 0;
update health_changes set fanned_out = 1;
create index health_changes_unfanned on health_changes (seq) where not fanned_out;

create table notifications (
    id text primary key,
    change_seq integer not null references health_changes (seq) on delete cascade,
    channel text not null,
    recipient text not null,
    state text not null,
    attempts integer not null default 0,
    created integer not null,
    next_at integer not null,
    leased_by text,
    lease_until integer,
    last_error text,
    sent_at integer,
    constraint notifications_once unique (change_seq, channel, recipient)
);
create index notifications_due on notifications (state, next_at);
