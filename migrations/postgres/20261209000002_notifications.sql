-- Where a tenant's changes of health are sent (issue 25), and the notifier's outbox.
-- A tenant's notification addresses, in the order they were given.
create table tenant_notify (
    tenant_id uuid not null references tenants (id) on delete cascade,
    address text not null,
    position integer not null,
    primary key (tenant_id, address)
);

-- A team admin who opted in to the tenant's alerts, at this address.
alter table admins add column notify_email text;

-- Whether the notifier has made the change's outbox rows; the changes recorded before this
-- migration count as done, so that an upgrade does not send old news.
alter table health_changes add column fanned_out boolean not null default false;
update health_changes set fanned_out = true;
create index health_changes_unfanned on health_changes (seq) where not fanned_out;

-- One message of one change to one recipient (channel 'email' or 'webhook'): at most one per
-- (change, channel, recipient) whichever replicas fan the change out. 'pending' until 'sent'
-- or 'given_up' (after SCIMD_ALERT_RETRY_FOR), the last error kept; one process at a time
-- sends it (leased_by, lease_until).
create table notifications (
    id uuid primary key,
    change_seq bigint not null references health_changes (seq) on delete cascade,
    channel text not null,
    recipient text not null,
    state text not null,
    attempts bigint not null default 0,
    created timestamptz not null,
    next_at timestamptz not null,
    leased_by text,
    lease_until timestamptz,
    last_error text,
    sent_at timestamptz,
    constraint notifications_once unique (change_seq, channel, recipient)
);
create index notifications_due on notifications (state, next_at);
